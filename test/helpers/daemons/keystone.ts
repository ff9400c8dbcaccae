// A real Keystone for the tests, from Debian's packages: keystone.conf with a sqlite database,
// fernet and credential keys, and a bootstrap admin, in a scratch directory owned by keystone.
// Preparing one takes about 10-20 s (keystone-manage imports all of Keystone four times), so a
// test file prepares one in test.before and copies it (a cheap file copy) for tests that harm it.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const KEYSTONE_MANAGE = '/usr/bin/keystone-manage';
export const KEYSTONE_WSGI = '/usr/bin/keystone-wsgi-public';
export const UWSGI = '/usr/bin/uwsgi';

export interface ServiceAccount {
  readonly uid: number;
  readonly gid: number;
}

export function keystoneAccount(): ServiceAccount {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith('keystone:'));
  if (!line) throw new Error('there is no keystone user: install Debian\'s keystone package (build/setup-debian.sh)');
  const fields = line.split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

export interface KeystoneFixture {
  /** The scratch directory holding everything, owned by keystone. */
  readonly dir: string;
  readonly config: string;
  readonly database: string;
  readonly adminPassword: string;
  /** Keystone's own log (log_file in keystone.conf). */
  readonly log: string;
}

function configText(dir: string): string {
  return [
    '[DEFAULT]',
    `log_file = ${join(dir, 'keystone.log')}`,
    '[database]',
    `connection = sqlite:///${join(dir, 'keystone.db')}`,
    '[token]',
    'provider = fernet',
    '[fernet_tokens]',
    `key_repository = ${join(dir, 'fernet-keys')}`,
    '[fernet_receipts]',
    `key_repository = ${join(dir, 'fernet-keys')}`,
    '[credential]',
    `key_repository = ${join(dir, 'credential-keys')}`,
    '',
  ].join('\n');
}

function chownTree(path: string, account: ServiceAccount): void {
  chownSync(path, account.uid, account.gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, account);
    else chownSync(child, account.uid, account.gid);
  }
}

/** Run keystone-manage (as keystone unless asRoot); rejects with its output when it fails. */
function keystoneManage(config: string, args: readonly string[], account: ServiceAccount | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(KEYSTONE_MANAGE, ['--config-file', config, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C.UTF-8', HOME: '/var/lib/keystone' },
      cwd: '/',
      timeout: 120_000,
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`keystone-manage ${args[0]} exited with ${code}: ${output.slice(-2000)}`));
    });
  });
}

/**
 * The test database in sqlite's write-ahead-log mode (kept in the file). Keystone 27 with
 * SQLAlchemy 2 (Debian 13) records a failed password in a write session opened while its read
 * session still holds the database: in sqlite's default rollback-journal mode that write waits for
 * the read lock its own request holds, fails with "database is locked", and the request dies
 * without an answer (no 401). In WAL mode a reader does not block the writer. Production databases
 * (MariaDB, PostgreSQL) have no such lock; Keystone 22 with SQLAlchemy 1.4 never hit it. Only for
 * a suite that gives a wrong password (the one-node suite): the three-node suite's shared database
 * fault is an exclusive lock, which only blocks readers in the default mode.
 */
function walJournal(database: string, account: ServiceAccount): void {
  const mode = execFileSync('python3', ['-c', 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL").fetchone()[0])', database], {
    uid: account.uid, gid: account.gid, encoding: 'utf8', timeout: 30_000,
  }).trim();
  if (mode !== 'wal') throw new Error(`${database}: journal mode ${mode}, not wal`);
}

/** A fresh Keystone: database, keys and an admin user with `adminPassword` in project admin; `journal: 'wal'`: see walJournal. */
export async function prepareKeystone(adminPassword: string, options: { readonly journal?: 'wal' } = {}): Promise<KeystoneFixture> {
  const account = keystoneAccount();
  const dir = mkdtempSync(join(tmpdir(), 'ocf-keystone-'));
  try {
    const config = join(dir, 'keystone.conf');
    writeFileSync(config, configText(dir), { mode: 0o640 });
    chownTree(dir, account);
    await keystoneManage(config, ['db_sync'], account);
    await keystoneManage(config, ['fernet_setup', '--keystone-user', 'keystone', '--keystone-group', 'keystone'], undefined);
    await keystoneManage(config, ['credential_setup', '--keystone-user', 'keystone', '--keystone-group', 'keystone'], undefined);
    // The password reaches keystone-manage on its command line: a test secret, never a real one.
    await keystoneManage(config, [
      'bootstrap', '--bootstrap-password', adminPassword, '--bootstrap-username', 'admin', '--bootstrap-project-name', 'admin',
      '--bootstrap-role-name', 'admin', '--bootstrap-region-id', 'RegionOne', '--bootstrap-public-url', 'http://127.0.0.1:5000/v3',
    ], account);
    if (options.journal === 'wal') walJournal(join(dir, 'keystone.db'), account);
    chownTree(dir, account);
    return { dir, config, database: join(dir, 'keystone.db'), adminPassword, log: join(dir, 'keystone.log') };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A copy of a prepared Keystone (its own database, keys and config), for a test that harms it. */
export function copyKeystone(source: KeystoneFixture): KeystoneFixture {
  const account = keystoneAccount();
  const dir = mkdtempSync(join(tmpdir(), 'ocf-keystone-copy-'));
  cpSync(source.dir, dir, { recursive: true });
  const config = join(dir, 'keystone.conf');
  writeFileSync(config, configText(dir), { mode: 0o640 });
  rmSync(join(dir, 'keystone.log'), { force: true });
  chownTree(dir, account);
  return { dir, config, database: join(dir, 'keystone.db'), adminPassword: source.adminPassword, log: join(dir, 'keystone.log') };
}

export function removeKeystone(fixture: KeystoneFixture | undefined): void {
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
}

/**
 * A python3 program (`python3 -c LOCK_DATABASE DATABASE SECONDS`) that holds an exclusive lock on
 * Keystone's sqlite database for at most SECONDS: every query waits, then fails with "database is
 * locked", as with a database server that is down. Keystone may be writing when it is asked (it
 * records each login), so the lock is retried.
 */
export const LOCK_DATABASE = `import sqlite3, sys, time
until = time.time() + float(sys.argv[2])
while True:
    try:
        c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
        c.execute('BEGIN EXCLUSIVE')
        break
    except sqlite3.OperationalError:
        if time.time() > until: sys.exit(1)
        time.sleep(0.2)
time.sleep(max(0, until - time.time()))`;

/** A python3 program (`python3 -c DATABASE_LOCKED DATABASE`) that succeeds (exit 0) when the database takes no write lock now: someone else holds it. */
export const DATABASE_LOCKED = `import sqlite3, sys
try:
    sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0).execute('BEGIN IMMEDIATE')
except sqlite3.OperationalError as error:
    sys.exit(0 if 'locked' in str(error) else 2)
sys.exit(1)`;
