// Issue 17, "A hostile node": local users, service accounts and their files must not steer what
// root does. Each test drives the compiled memcached agent against what an unprivileged user (or
// the service user) can do: impostors carrying the resource marker, forged pidfiles in a
// directory the service user owns, hard links and FIFOs at the log path, and a daemon whose
// processes multiply faster than stop can kill them.
import test, { type ExecutionContext } from 'ava';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentPath, freePort, ocfEnvironment, projectRoot, runProgram, scratchDir, type AgentCall, type CallOptions } from '../helpers/agent.ts';
import { callMemcached, memcachedResource, type MemcachedResource } from '../helpers/daemons/memcached.ts';
import { bootId, gidOf, isAlive, kill, pidFromFile, requireProgram, startTimeOf, uidOf, waitFor } from '../helpers/processes.ts';

const OCF_SUCCESS = 0;
const OCF_ERR_GENERIC = 1;
const OCF_NOT_RUNNING = 7;

test.before((t) => {
  requireProgram(t, '/usr/bin/memcached');
  requireProgram(t, '/usr/bin/setpriv');
  requireProgram(t, '/usr/bin/python3');
});

type Resource = MemcachedResource;
const resource = memcachedResource;
const call = callMemcached;

/** An agent call killed after `limitMs` (a hung agent is what some of these tests look for). */
function callWithin(r: Resource, action: string, limitMs: number, extra: Partial<CallOptions> = {}): Promise<AgentCall> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(agentPath('memcached'), [action], { env: ocfEnvironment('memcached', { ...r.options, ...extra }), timeout: limitMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr, reason: /^ocf-exit-reason:(.*)$/m.exec(stderr)?.[1], elapsedMs: Date.now() - started });
    });
  });
}

/** A process started by a local user (not root), with this resource's marker in its environment. */
function impostor(t: ExecutionContext, user: string, marker: string, program: string, args: readonly string[]): number {
  const child = spawn('setpriv', ['--reuid', user, '--regid', user === 'nobody' ? 'nogroup' : user, '--clear-groups', '--', program, ...args], {
    env: { PATH: '/usr/bin:/bin', OCF_OPENSTACK_RESOURCE: marker }, stdio: 'ignore', detached: true,
  });
  t.teardown(() => kill(child.pid));
  return child.pid!;
}

test('item 1: an unprivileged user\'s memcached carrying the marker is not the resource: probe 7, stop 0 and leaves it, start runs our own', async (t) => {
  const r = await resource(t, 'hostile-impostor');
  const other = await freePort();
  const fake = impostor(t, 'nobody', 'memcached:hostile-impostor', '/usr/bin/memcached', ['-l', '127.0.0.1', '-p', String(other)]);
  const sleeper = impostor(t, 'nobody', 'memcached:hostile-impostor', '/usr/bin/sleep', ['300']);
  t.true(await waitFor(() => isAlive(fake) && readFileSync(`/proc/${fake}/environ`, 'latin1').includes('OCF_OPENSTACK_RESOURCE=memcached:hostile-impostor'), 5000));
  const probe = await call(r, 'monitor', { intervalMs: 0 });
  t.is(probe.code, OCF_NOT_RUNNING, probe.stderr);
  t.false(existsSync(r.pidfile), 'no pidfile was written naming the impostor');
  const stop = await call(r, 'stop');
  t.is(stop.code, OCF_SUCCESS, stop.stderr);
  t.true(stop.elapsedMs < 5000, `stop took ${stop.elapsedMs} ms`);
  t.true(isAlive(fake) && isAlive(sleeper), 'root signalled neither impostor');
  const start = await call(r, 'start');
  t.is(start.code, OCF_SUCCESS, start.stderr);
  const ours = pidFromFile(r.pidfile)!;
  t.not(ours, fake);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
  t.false(isAlive(ours));
  t.true(isAlive(fake), 'still left alone');
});

test('item 1: start is not fooled by an impostor on our port: it is not "already running"', async (t) => {
  const r = await resource(t, 'hostile-port');
  const fake = impostor(t, 'nobody', 'memcached:hostile-port', '/usr/bin/memcached', ['-l', '127.0.0.1', '-p', String(r.port)]);
  t.true(await waitFor(() => isAlive(fake), 5000));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const start = await call(r, 'start');
  t.is(start.code, OCF_ERR_GENERIC, start.stderr);
  t.regex(start.reason ?? '', /already in use by another process/);
  t.true(isAlive(fake));
});

/** A directory owned by the service user, as Debian's /run/memcached is memcache's. */
function serviceDir(t: ExecutionContext, user: string): string {
  const dir = join(scratchDir(t), 'run');
  mkdirSync(dir);
  chownSync(dir, uidOf(user), gidOf(user));
  chmodSync(dir, 0o755);
  chmodSync(join(dir, '..'), 0o755);
  return dir;
}

/** What the service user writes, as that user (setpriv + tee). */
async function writeAs(user: string, path: string, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('setpriv', ['--reuid', user, '--regid', user, '--clear-groups', '--', '/usr/bin/tee', path], { stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tee as ${user}: ${code}`))));
    child.stdin.end(text);
  });
}

test('item 2: a forged launch record in the service user\'s pidfile directory names a root process: probe 7, stop 0, the process never signalled', async (t) => {
  const dir = serviceDir(t, 'memcache');
  const pidfile = join(dir, 'memcached.pid');
  const r = await resource(t, 'hostile-forged', { pid: pidfile });
  // A root daemon stands in for sshd or corosync: its start time is world-readable in /proc.
  const rootDaemon = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.teardown(() => kill(rootDaemon.pid));
  const victim = rootDaemon.pid!;
  await writeAs('memcache', pidfile, `${victim}\nstart=${startTimeOf(victim)}\nboot=${bootId()}\nresource=memcached:hostile-forged\n`);
  const probe = await call(r, 'monitor', { intervalMs: 0 });
  t.is(probe.code, OCF_NOT_RUNNING, probe.stderr);
  t.regex(probe.reason ?? '', /is not this resource's memcached \(it runs \//);
  const stop = await call(r, 'stop');
  t.is(stop.code, OCF_SUCCESS, stop.stderr);
  t.true(isAlive(victim), 'the root process was not signalled');
  const start = await call(r, 'start');
  t.is(start.code, OCF_ERR_GENERIC, 'start refuses a pidfile naming a live process that is not ours');
  t.true(isAlive(victim));
});

test('item 2: a forged launch record naming a kernel thread does not make stop fail (fencing)', async (t) => {
  const dir = serviceDir(t, 'memcache');
  const pidfile = join(dir, 'memcached.pid');
  const r = await resource(t, 'hostile-kthread', { pid: pidfile });
  const kthreadd = 2;
  await writeAs('memcache', pidfile, `${kthreadd}\nstart=${startTimeOf(kthreadd)}\nboot=${bootId()}\nresource=memcached:hostile-kthread\n`);
  const stop = await callWithin(r, 'stop', 30_000, { timeoutMs: 6000 });
  t.is(stop.code, OCF_SUCCESS, stop.stderr);
  t.true(stop.elapsedMs < 6000, `stop took ${stop.elapsedMs} ms, its timeout is 6000`);
  t.is((await call(r, 'monitor', { intervalMs: 0 })).code, OCF_NOT_RUNNING);
});

test('item 4: a missing log directory is made for the service user (0750), and a hard link at the log path is refused', async (t) => {
  const base = scratchDir(t);
  chmodSync(base, 0o755);
  const logDir = join(base, 'log', 'memcached');
  const r = await resource(t, 'hostile-logdir', { logfile: join(logDir, 'memcached.log') });
  const start = await call(r, 'start');
  t.is(start.code, OCF_SUCCESS, start.stderr);
  const made = statSync(logDir);
  t.is(made.uid, uidOf('memcache'), 'owned by the service user');
  t.is(made.mode & 0o7777, 0o750);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
  // A root-only file linked at the log path (fs.protected_hardlinks=0 lets the service user make
  // this link; here root makes it, protected_hardlinks being on on this machine).
  const secret = join(base, 'root-only');
  writeFileSync(secret, 'root only\n', { mode: 0o600 });
  const hard = await resource(t, 'hostile-hardlink', { logfile: join(logDir, 'linked.log') });
  linkSync(secret, join(logDir, 'linked.log'));
  const refused = await call(hard, 'start');
  t.is(refused.code, OCF_ERR_GENERIC, refused.stderr);
  t.regex(refused.reason ?? '', /linked\.log \(parameter logfile\): has 2 hard links/);
  t.is(readFileSync(secret, 'utf8'), 'root only\n', 'nothing was written to the linked file');
  t.false(existsSync(hard.pidfile), 'no daemon was launched');
});

test('item 4: a FIFO the service plants at its log path never hangs the read of the log\'s last line', async (t) => {
  // The stand-in daemon, running as the service user, replaces its own log with a FIFO and exits:
  // start then reads the log's last line to say why it died.
  const base = scratchDir(t);
  chmodSync(base, 0o755);
  const logDir = join(base, 'memcached');
  mkdirSync(logDir, { mode: 0o750 });
  chownSync(logDir, uidOf('memcache'), gidOf('memcache')); // the service's log directory is its own, as Debian makes them
  const script = join(base, 'fifo-daemon');
  writeFileSync(script, `#!/bin/sh\nrm -f ${logDir}/fifo.log\nmkfifo ${logDir}/fifo.log\nexit 1\n`, { mode: 0o755 });
  const r = await resource(t, 'hostile-fifo', { binary: script, logfile: join(logDir, 'fifo.log') });
  const start = await callWithin(r, 'start', 25_000, { timeoutMs: 10_000 });
  t.is(start.code, OCF_ERR_GENERIC, `start ended (${start.elapsedMs} ms): ${start.stderr}`);
  t.regex(start.reason ?? '', /exited during start/);
  t.true(start.elapsedMs < 10_000);
});

test.serial('item 5: a stop that keeps finding processes fails within its timeout, its reason at most 256 bytes', async (t) => {
  // A scratch service user, and processes of the resource that keep appearing whatever stop kills
  // (test/helpers/daemons/respawner.py): stop fails, and would list every pid it found.
  const user = `ocfh${process.pid % 100000}`;
  const added = await runProgram('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  t.is(added.code, 0, added.output);
  const uid = uidOf(user);
  const gid = gidOf(user);
  const dir = scratchDir(t);
  chmodSync(dir, 0o755);
  const binary = join(dir, 'respawner');
  copyFileSync(join(projectRoot, 'test', 'helpers', 'daemons', 'respawner.py'), binary);
  chmodSync(binary, 0o755);
  const r = await resource(t, 'hostile-respawn', { binary, user });
  const spawner = spawn(binary, [String(uid), String(gid)], { env: { PATH: '/usr/bin:/bin', OCF_OPENSTACK_RESOURCE: 'memcached:hostile-respawn' }, stdio: 'ignore', detached: true });
  t.teardown(async () => {
    try {
      process.kill(-spawner.pid!, 'SIGKILL'); // the spawner: the process group the test started
    } catch {
      // gone already
    }
    // What they forked ends by itself within 10 s; kill each by pid until none is left, then the user goes.
    await waitFor(() => {
      const left = ownedBy(uid);
      for (const pid of left) kill(pid, 'SIGKILL');
      return left.length === 0;
    }, 30_000, 50);
    await runProgram('userdel', [user]);
  });
  t.true(await waitFor(() => ownedBy(uid).length > 50, 10_000), 'the processes appear');
  const stop = await callWithin(r, 'stop', 30_000, { timeoutMs: 8000 });
  t.is(stop.code, OCF_ERR_GENERIC, stop.stderr);
  t.true(stop.elapsedMs < 8000, `stop took ${stop.elapsedMs} ms, its timeout is 8000`);
  const reason = stop.reason ?? '';
  t.true(Buffer.byteLength(reason) <= 256, `${Buffer.byteLength(reason)} bytes: ${reason}`);
  // Still running as the last look found, or not found by a last look the deadline cut short
  // (hundreds of environments to read): never "stopped".
  t.regex(reason, /^memcached (is still running after SIGKILL \(\d+ processes, pid [\d, ]+ and \d+ more\)|may still be running: .+ could not be read in time|may still be running: the search of \/proc for its processes did not finish in time)$/, 'what failed comes first');
  t.true(isAlive(spawner.pid!), 'root\'s spawner, not the resource\'s, was never signalled');
});

function ownedBy(uid: number): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/status`, 'utf8').includes(`\nUid:\t${uid}\t`) && isAlive(pid);
    } catch {
      return false;
    }
  });
}
