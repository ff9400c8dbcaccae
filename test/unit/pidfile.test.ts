import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, linkSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realpathSync } from 'node:fs';
import { Deadline } from '../../shared/ocf/deadline.ts';
import { expectedProcess, pidfileStatus } from '../../shared/process/identity.ts';
import { readPid, readPidfile, recordOf, writePidfile } from '../../shared/process/pidfile.ts';
import { bootId, msSinceStart, startTime } from '../../shared/process/proc.ts';

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocf-pidfile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('writePidfile replaces a planted symlink instead of writing through it', (t) => {
  const dir = scratch(t);
  const victim = join(dir, 'victim');
  const pidfile = join(dir, 'run', 'daemon.pid');
  writeFileSync(victim, 'precious\n');
  writePidfile(join(dir, 'run', 'other.pid'), 1); // creates the directory
  symlinkSync(victim, pidfile);
  writePidfile(pidfile, 4242);
  t.is(readFileSync(victim, 'utf8'), 'precious\n');
  t.false(lstatSync(pidfile).isSymbolicLink());
  t.is(readPid(pidfile), 4242);
});

test('readPid takes a lone number on the first line and nothing else', (t) => {
  const dir = scratch(t);
  const file = join(dir, 'p');
  for (const [text, pid] of [
    ['123\n', 123], ['  77  ', 77], ['', undefined], ['12ab', undefined], ['-5', undefined], ['\n42\n', undefined], ['42\nstart=9\n', 42],
  ] as const) {
    writeFileSync(file, text);
    t.is(readPid(file), pid, JSON.stringify(text));
  }
  t.is(readPid(join(dir, 'absent')), undefined);
});

/** A live process that is nobody's daemon (no marker, not the program asked for). */
function sleeper(t: ExecutionContext): number {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  return child.pid!;
}

const uid = process.getuid!();
/** What our "daemon" is in these tests: sleep, run as this user, marked memcached:mine. */
const identity = expectedProcess('sleep', realpathSync('/usr/bin/sleep'), uid, 'memcached:mine');
const memcachedIdentity = expectedProcess('memcached', '/usr/bin/memcached', uid, 'memcached:mine');
const pidStatus = (file: string, expected = identity) => pidfileStatus(file, expected, Deadline.after(5000));

test('a pidfile keeps the pid on its first line, then the start time, the boot and the resource', (t) => {
  const file = join(scratch(t), 'p');
  const pid = sleeper(t);
  writePidfile(file, recordOf(pid, 'memcached:mine', uid)!);
  const [first, ...rest] = readFileSync(file, 'utf8').trimEnd().split('\n');
  t.is(first, String(pid), 'tools that read the first line still find the pid');
  t.deepEqual(rest.map((line) => line.split('=')[0]), ['start', 'boot', 'uid', 'resource']);
  t.deepEqual(readPidfile(file), { pid, start: startTime(pid), boot: bootId(), uid, resource: 'memcached:mine' });
});

test('a launch record names the process whatever its environment says, if program and owner agree', async (t) => {
  const file = join(scratch(t), 'p');
  const pid = sleeper(t); // no marker: a launch record does not need one (uwsgi's procname erases it)
  writePidfile(file, recordOf(pid, 'memcached:mine', uid)!);
  t.deepEqual(await pidStatus(file), { state: 'running', pid });
  writeFileSync(file, `${pid}\n`);
  t.deepEqual(await pidStatus(file), { state: 'foreign', pid, why: 'it carries no marker' }, 'without a start time, the marker must agree too');
});

test('a launch record is checked against the program: a forged record for another program is foreign', async (t) => {
  // Issue 17, item 2: pid, start= and boot= of sshd or corosync (world-readable in /proc) in a
  // pidfile the service user can write.
  const file = join(scratch(t), 'p');
  const pid = sleeper(t);
  writePidfile(file, recordOf(pid, 'memcached:mine', uid)!);
  const status = await pidStatus(file, memcachedIdentity);
  t.is(status.state, 'foreign');
  t.regex((status as { why: string }).why, /it runs \/usr\/bin\/sleep|it runs .*coreutils/);
  writePidfile(file, recordOf(pid, 'memcached:mine', uid + 1)!);
  t.deepEqual(await pidStatus(file), { state: 'foreign', pid, why: `it runs as uid ${uid}, not ${uid + 1}` }, 'and against its owner');
  const kthreadd = 2;
  writePidfile(file, { ...recordOf(kthreadd, 'memcached:mine', 0)! });
  t.deepEqual(await pidStatus(file), { state: 'foreign', pid: kthreadd, why: 'it runs no program of its own (a kernel thread)' });
});

test('a FIFO or a device at the pidfile path is never read', async (t) => {
  const dir = scratch(t);
  const fifo = join(dir, 'fifo.pid');
  spawnSync('mkfifo', [fifo]);
  t.is(readPidfile(fifo), undefined);
  t.is(readPidfile('/dev/zero'), undefined);
  t.deepEqual(await pidStatus(fifo), { state: 'absent' });
});

test('a recorded start time that does not match is a reused pid: stale', async (t) => {
  const file = join(scratch(t), 'p');
  const pid = sleeper(t);
  writePidfile(file, { pid, start: String(Number(startTime(pid)) - 1), boot: bootId(), resource: 'memcached:mine' });
  t.deepEqual(await pidStatus(file), { state: 'stale', pid });
  writePidfile(file, { pid, start: startTime(pid)!, boot: 'another-boot', resource: 'memcached:mine' });
  t.deepEqual(await pidStatus(file), { state: 'stale', pid }, 'start times count from boot');
});

test("another resource's live process is foreign, with its owner named", async (t) => {
  const file = join(scratch(t), 'p');
  const pid = sleeper(t);
  writePidfile(file, recordOf(pid, 'memcached:other', uid)!);
  t.deepEqual(await pidStatus(file), { state: 'foreign', pid, owner: 'memcached:other' });
});

test('a launch record is believed only from a file root owns with one link: a service user\'s file is a pid alone', (t) => {
  const dir = scratch(t);
  const path = join(dir, 'forged.pid');
  // A forged record naming this test's own process (root) with uid=0, as a service user could write it.
  const forged = `${process.pid}\nstart=${startTime(process.pid)}\nboot=${bootId()}\nuid=0\nresource=memcached:p_mc\n`;
  writeFileSync(path, forged);
  t.deepEqual(Object.keys(readPidfile(path)!).sort(), ['boot', 'pid', 'resource', 'start', 'uid'], 'root\'s own file: the whole record');
  chownSync(path, 65534, 65534);
  t.deepEqual(readPidfile(path), { pid: process.pid }, 'owned by another user: the pid alone');
  chownSync(path, 0, 0);
  linkSync(path, join(dir, 'second-link'));
  t.deepEqual(readPidfile(path), { pid: process.pid }, 'a hard link to it elsewhere: the pid alone');
});

test('msSinceStart: how long ago a process started, from /proc (ms, to the kernel\'s 10 ms tick); undefined once it is gone', async (t) => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.once('spawn', resolve));
  const bornAt = Date.now();
  const born = msSinceStart(child.pid!)!;
  t.true(born >= 0 && born < 1000, `just started: ${born} ms`);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const later = msSinceStart(child.pid!)!;
  const elapsed = Date.now() - bornAt;
  // As much older as the wall clock says, to a tick or two (the two readings are not at the same instant).
  t.true(Math.abs(later - born - elapsed) <= 100, `${later - born} ms older in ${elapsed} ms`);
  // This test process itself: as old as Node says it is.
  t.true(Math.abs(msSinceStart(process.pid)! - process.uptime() * 1000) < 1000);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  t.is(msSinceStart(child.pid!), undefined);
});
