// ocf:openstack:memcached against a real memcached, through the compiled binary.
import test, { type ExecutionContext } from 'ava';
import { chmodSync, copyFileSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { logfileParameter } from '../../shared/process/daemon.ts';
import type { OcfEnvironment } from '../../shared/ocf/environment.ts';
import { callAgent, ocfTester, projectRoot, runProgram, scratchDir, type CallOptions } from '../helpers/agent.ts';
import { groupsOf, scratchGroup } from '../helpers/daemons/groups.ts';
import { callAgentIn, networkNamespace } from '../helpers/namespaces.ts';
import { checkKillRecovery, checkPidfileContract } from '../helpers/daemons/pidfile-contract.ts';
import { callMemcached, memcachedResource } from '../helpers/daemons/memcached.ts';
import { commandLine, deadPid, isAlive, kill, markedProcesses, markerOf, pidFromFile, requireProgram, waitFor } from '../helpers/processes.ts';

const OCF_SUCCESS = 0;
const OCF_ERR_GENERIC = 1;
const OCF_ERR_INSTALLED = 5;
const OCF_ERR_CONFIGURED = 6;
const OCF_NOT_RUNNING = 7;

test.before((t) => requireProgram(t, '/usr/bin/memcached'));

const resource = memcachedResource;
const call = callMemcached;

test('ocf-tester passes for two instances on different ports at the same time', async (t) => {
  requireProgram(t, '/usr/sbin/ocf-tester');
  const [a, b] = await Promise.all([resource(t, 'mc1'), resource(t, 'mc2')]);
  const results = await Promise.all(
    [a, b].map((r) => ocfTester('memcached', r.options.instance, { port: String(r.port), logfile: r.options.params!.logfile! }, { HA_RSCTMP: r.options.rscTmp })),
  );
  t.is(results.length, 2);
  for (const result of results) {
    t.is(result.code, 0, result.output);
    t.regex(result.output, /passed all tests/);
  }
});

test('kill -9 of memcached: monitor says not running, stop and start recover', async (t) => {
  const r = await resource(t, 'mc-kill');
  await checkKillRecovery(t, (action) => call(r, action), r.pidfile);
});

test('another node\'s memcached (same resource, another network namespace) is never taken for ours: probe 7, stop leaves it', async (t) => {
  // Three controllers on one machine (test/helpers/clusters/three-nodes.ts) share a PID namespace: every
  // node's daemon carries the same marker, memcached:RESOURCE. A container on the host would too.
  const r = await resource(t, 'mc-other-node');
  const node = await networkNamespace(t);
  const other = spawn('nsenter', node.command('/usr/bin/memcached', ['-u', 'memcache', '-l', '127.0.0.1', '-p', String(r.port)]), {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OCF_OPENSTACK_RESOURCE: 'memcached:mc-other-node' }, stdio: 'ignore',
  });
  t.teardown(() => kill(other.pid));
  t.true(await waitFor(() => markedProcesses('memcached:mc-other-node').includes(other.pid!), 5000), 'the other node\'s memcached carries the marker');
  const probe = await call(r, 'monitor', { intervalMs: 0 });
  t.is(probe.code, OCF_NOT_RUNNING, probe.stderr);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
  t.true(isAlive(other.pid!), 'stop on this node left the other node\'s memcached alone');
  t.is((await call(r, 'start')).code, OCF_SUCCESS, 'this node starts its own');
  t.not(pidFromFile(r.pidfile), other.pid);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
  t.true(isAlive(other.pid!));
});

test('a frozen memcached (SIGSTOP) is a failure (1) at once, at the process depth and the protocol depth, not "not running" nor a 5 s wait for "version"', async (t) => {
  const r = await resource(t, 'mc-frozen');
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  const pid = pidFromFile(r.pidfile)!;
  kill(pid, 'SIGSTOP');
  t.teardown(() => kill(pid, 'SIGCONT'));
  for (const monitor_check of ['protocol', 'process']) {
    const monitor = await call(r, 'monitor', { timeoutMs: 20_000, params: { ...r.options.params, monitor_check } });
    t.is(monitor.code, OCF_ERR_GENERIC, monitor.stderr);
    t.is(monitor.reason, `memcached (pid ${pid}) is running but process ${pid} is stopped (SIGSTOP) and serves nothing until continued`);
    t.true(monitor.elapsedMs < 2000, `monitor_check=${monitor_check}: monitor took ${monitor.elapsedMs} ms`);
  }
  kill(pid, 'SIGCONT');
  t.is((await call(r, 'monitor')).code, OCF_SUCCESS);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
});

/** `count` connections held open to memcached on loopback until the test ends. */
async function holdConnections(t: ExecutionContext, port: number, count: number): Promise<Socket[]> {
  const held = await Promise.all(Array.from({ length: count }, () => new Promise<Socket>((resolve) => {
    const connection = createConnection(port, '127.0.0.1', () => resolve(connection));
    connection.on('error', () => resolve(connection));
  })));
  t.teardown(() => held.forEach((connection) => connection.destroy()));
  return held;
}

test('OCF_CHECK_LEVEL picks the depth: 0 the process, 10 the protocol, whatever monitor_check says; probes at any level', async (t) => {
  // Every connection taken (-c 64): memcached lives, and answers a new one only with an error.
  const r = await resource(t, 'mc-levels', { monitor_check: 'process', max_connections: '64' });
  const level = (value: string, extra: Partial<CallOptions> = {}) => call(r, 'monitor', { timeoutMs: 4000, ...extra, env: { OCF_CHECK_LEVEL: value } });
  for (const value of ['0', '10', '20']) t.is((await level(value, { intervalMs: 0 })).code, OCF_NOT_RUNNING, `probe at level ${value}, stopped`);
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  for (const value of ['0', '10', '20']) t.is((await level(value, { intervalMs: 0 })).code, OCF_SUCCESS, `probe at level ${value}, running`);
  const held = await holdConnections(t, r.port, 100);
  t.is((await call(r, 'monitor')).code, OCF_SUCCESS, 'no level: monitor_check=process');
  t.is((await level('0')).code, OCF_SUCCESS);
  const deep = await level('10');
  t.is(deep.code, OCF_ERR_GENERIC);
  t.regex(deep.reason ?? '', /running but unexpected answer to "version" on 127\.0\.0\.1:\d+: ERROR Too many open connections/);
  t.is((await level('20')).code, OCF_ERR_GENERIC, 'level 20 runs level 10, the deepest there is');
  const bad = await level('deep');
  t.is(bad.code, OCF_ERR_CONFIGURED);
  t.is(bad.reason, 'OCF_CHECK_LEVEL "deep" is not a number (levels: 0, 10)');
  held.forEach((connection) => connection.destroy());
  t.true(await waitFor(async () => (await level('10')).code === OCF_SUCCESS, 5000), 'connections given back, "version" answers again');
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
});

test('memcached runs as its user with the supplementary groups of that user, its marker and its own executable', async (t) => {
  const gid = await scratchGroup(t, 'memcache');
  const r = await resource(t, 'mc-groups');
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  const pid = pidFromFile(r.pidfile)!;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const memcache = readFileSync('/etc/passwd', 'utf8').split('\n').find((line) => line.startsWith('memcache:'))!.split(':');
  t.regex(status, new RegExp(`^Uid:\\s+${memcache[2]}\\s`, 'm'));
  t.regex(status, new RegExp(`^Gid:\\s+${memcache[3]}\\s`, 'm'));
  t.true(groupsOf(pid).includes(gid), `Groups: ${groupsOf(pid).join(' ')} lacks ${gid}`);
  t.is(readlinkSync(`/proc/${pid}/exe`), '/usr/bin/memcached');
  t.true(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes('OCF_OPENSTACK_RESOURCE=memcached:mc-groups'));
  t.is((await call(r, 'monitor')).code, OCF_SUCCESS);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
});

test('by default the daemon\'s output goes to /var/log/memcached/memcached-RESOURCE.log, not to HA_RSCTMP', async (t) => {
  const dir = '/var/log/memcached';
  const existed = existsSync(dir);
  const name = `mc-logdefault-${process.pid}`;
  const file = join(dir, `memcached-${name}.log`);
  t.teardown(() => rmSync(existed ? file : dir, { recursive: true, force: true }));
  const r = await resource(t, name);
  const { logfile: _unused, ...params } = r.options.params!;
  const start = await call(r, 'start', { params, env: { HA_debug: '1' } });
  t.is(start.code, OCF_SUCCESS, start.stderr);
  t.regex(start.stderr, new RegExp(`output in ${file}`));
  const pid = pidFromFile(r.pidfile)!;
  for (const fd of [1, 2]) t.is(readlinkSync(`/proc/${pid}/fd/${fd}`), file, `fd ${fd}`);
  t.deepEqual(readdirSync(r.options.rscTmp).filter((entry) => entry.endsWith('.log')), [], 'nothing in HA_RSCTMP');
  t.is((await call(r, 'stop', { params })).code, OCF_SUCCESS);
});

/** One request on the memcached text protocol (memcached -vv logs it to its stderr). */
function askVersion(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('version\r\n'));
    socket.setTimeout(2000, () => socket.destroy(new Error('no answer')));
    socket.once('data', () => socket.end());
    socket.once('close', () => resolve());
    socket.once('error', reject);
  });
}

test('the package\'s logrotate rule matches the default logfiles and bounds them: copytruncate, and the daemon writes on at the start', async (t) => {
  requireProgram(t, '/usr/sbin/logrotate');
  const rule = readFileSync(join(projectRoot, 'packaging', 'ocf-openstack.logrotate'), 'utf8');
  const patterns = /^(\/\S+(?: \/\S+)*) \{$/m.exec(rule)![1]!.split(' ');
  for (const service of ['haproxy', 'memcached']) {
    const fallback = logfileParameter(service).default as (env: OcfEnvironment) => string;
    const path = fallback({ instance: 'p_x' } as OcfEnvironment);
    t.true(patterns.some((pattern) => path.startsWith(pattern.slice(0, pattern.indexOf('*')))), `${path} is rotated`);
  }
  // The same rule, on this resource's file: rotate it under the running daemon.
  const r = await resource(t, 'mc-rotate', { additional_parameters: '-vv' });
  const logfile = r.options.params!.logfile!;
  const config = join(r.options.rscTmp, 'logrotate.conf');
  writeFileSync(config, rule.replace(patterns.join(' '), logfile), { mode: 0o644 });
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  for (let i = 0; i < 20; i++) await askVersion(r.port);
  const before = statSync(logfile).size;
  t.true(before > 200, `memcached -vv wrote ${before} bytes`);
  const rotated = await runProgram('/usr/sbin/logrotate', ['-f', '-s', join(r.options.rscTmp, 'logrotate.state'), config]);
  t.is(rotated.code, 0, rotated.output);
  t.true(statSync(`${logfile}.1`).size >= before, 'the old output is in the rotated copy');
  await askVersion(r.port);
  const after = readFileSync(logfile);
  t.true(after.length > 0 && after.length < before, `${after.length} bytes after rotation`);
  t.false(after.includes(0), 'no hole of NUL bytes: the daemon writes at the new end (O_APPEND)');
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
});

test('a FIFO or a symlink planted at the logfile path (the service user may write its log directory) fails start at once', async (t) => {
  const r = await resource(t, 'mc-logtrap');
  const logfile = r.options.params!.logfile!;
  const made = await runProgram('mkfifo', [logfile]);
  t.is(made.code, 0, made.output);
  const fifo = await call(r, 'start', { timeoutMs: 10_000 });
  t.is(fifo.code, OCF_ERR_GENERIC);
  t.regex(fifo.reason ?? '', /is not a regular file/);
  t.true(fifo.elapsedMs < 5000, `${fifo.elapsedMs} ms`);
  rmSync(logfile);
  const target = join(r.options.rscTmp, 'precious');
  writeFileSync(target, 'keep\n');
  symlinkSync(target, logfile);
  const symlink = await call(r, 'start');
  t.is(symlink.code, OCF_ERR_GENERIC);
  t.regex(symlink.reason ?? '', /\(parameter logfile\): is a symbolic link/);
  t.is(readFileSync(target, 'utf8'), 'keep\n', 'nothing written through the symlink');
  t.is(pidFromFile(r.pidfile), undefined);
});

test('stale and foreign pidfiles: not running, stop never signals a stranger; start works after', async (t) => {
  const r = await resource(t, 'mc-pidfiles');
  await checkPidfileContract(t, (action) => call(r, action), r.pidfile, 'memcached');
  writeFileSync(r.pidfile, `${await deadPid()}\n`);
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  t.is((await call(r, 'monitor')).code, OCF_SUCCESS);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
});

test("a pidfile naming another resource's memcached is not ours either", async (t) => {
  const other = await resource(t, 'mc-other');
  const r = await resource(t, 'mc-mine');
  t.is((await call(other, 'start')).code, OCF_SUCCESS);
  const otherPid = pidFromFile(other.pidfile)!;
  writeFileSync(r.pidfile, `${otherPid}\n`);
  t.is((await call(r, 'monitor')).code, OCF_NOT_RUNNING);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
  t.true(isAlive(otherPid));
  t.is((await call(other, 'monitor')).code, OCF_SUCCESS);
  t.is((await call(other, 'stop')).code, OCF_SUCCESS);
});

test('a pidfile that cannot be written fails start and leaves no memcached running', async (t) => {
  const r = await resource(t, 'mc-nopidfile', { pid: '/proc/x.pid' });
  const start = await call(r, 'start');
  t.is(start.code, OCF_ERR_GENERIC);
  t.regex(start.reason ?? '', /cannot write the pidfile \/proc\/x\.pid/);
  t.deepEqual(markedProcesses('memcached:mc-nopidfile'), [], 'no memcached of this resource runs');
  t.is((await call(r, 'monitor', { intervalMs: 0 })).code, OCF_NOT_RUNNING);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
});

test('a memcached that daemonizes itself (-d) fails start, says why, and is stopped, every time', async (t) => {
  // Its child answers "version" while the process we launched may still be exiting (it had, or had
  // been seen to, in one run of three on Debian 13): start must fail whichever comes first.
  const r = await resource(t, 'mc-daemonize', { additional_parameters: '-d' });
  for (let attempt = 1; attempt <= 5; attempt++) {
    const start = await call(r, 'start');
    t.is(start.code, OCF_ERR_GENERIC, `attempt ${attempt}: ${start.reason}`);
    t.regex(start.reason ?? '', /^memcached daemonized itself \(pid \d+ (exited, pid \d+ stopped|forked pid \d+ into a session of its own, stopped)\): it must run in the foreground$/);
    t.true(await waitFor(() => markedProcesses('memcached:mc-daemonize').length === 0, 1000), 'nothing of this resource runs');
    t.false(existsSync(r.pidfile));
    t.is((await call(r, 'monitor', { intervalMs: 0 })).code, OCF_NOT_RUNNING);
  }
});

test('a daemonized memcached whose launcher lives on after it answers still fails start, and both are stopped', async (t) => {
  // The launched process (a script that runs memcached -d, then sleeps) outlives the answer: the
  // child's session of its own gives the daemonizing away.
  const dir = scratchDir(t);
  const launcher = join(dir, 'memcached-then-sleep');
  writeFileSync(launcher, '#!/bin/sh\n/usr/bin/memcached "$@"\nexec sleep 30\n', { mode: 0o755 });
  const r = await resource(t, 'mc-launcher', { binary: launcher, user: 'root', additional_parameters: '-d' });
  const start = await call(r, 'start');
  t.is(start.code, OCF_ERR_GENERIC, start.reason);
  t.regex(start.reason ?? '', /^memcached daemonized itself \(pid \d+ forked pid \d+ into a session of its own, stopped\): it must run in the foreground$/);
  t.true(await waitFor(() => markedProcesses('memcached:mc-launcher').length === 0, 1000), 'neither the launcher nor memcached runs');
  t.false(existsSync(r.pidfile));
});

test('two resources given one pidfile: neither stop nor start takes the other\'s daemon or pidfile', async (t) => {
  const a = await resource(t, 'mc-owner');
  const shared = { ...a.options.params, pid: a.pidfile };
  const b = await resource(t, 'mc-intruder');
  const intruder = { ...b, options: { ...b.options, params: { ...b.options.params, pid: a.pidfile } } };
  t.is((await call(a, 'start')).code, OCF_SUCCESS);
  const owner = pidFromFile(a.pidfile)!;
  const stop = await call(intruder, 'stop');
  t.is(stop.code, OCF_SUCCESS, 'nothing of the intruder runs');
  t.true(isAlive(owner));
  t.is(pidFromFile(a.pidfile), owner, "the owner's pidfile is left");
  const monitor = await call(intruder, 'monitor');
  t.is(monitor.code, OCF_NOT_RUNNING);
  t.regex(monitor.reason ?? '', /not this resource's memcached \(it is resource memcached:mc-owner's\)/);
  const start = await call(intruder, 'start');
  t.is(start.code, OCF_ERR_CONFIGURED);
  t.is(start.reason, `every resource needs its own pidfile: ${a.pidfile} is resource memcached:mc-owner's (pid ${owner}, running)`);
  t.deepEqual(markedProcesses('memcached:mc-intruder'), [], 'the intruder started nothing');
  t.is(pidFromFile(a.pidfile), owner);
  t.is((await call(a, 'monitor', { params: shared })).code, OCF_SUCCESS);
  t.is((await call(a, 'stop')).code, OCF_SUCCESS);
  t.false(isAlive(owner), "the owner's stop stopped its daemon");
  t.false(existsSync(a.pidfile));
});

test('a daemon that overwrites its argv and environment (setproctitle) is still known by monitor and stop', async (t) => {
  requireProgram(t, '/usr/bin/python3');
  // A fault real memcached cannot show: the stand-in erases its marker; the pidfile's start time names it.
  const dir = scratchDir(t);
  chmodSync(dir, 0o755); // the service user runs it
  const binary = join(dir, 'renaming-daemon');
  copyFileSync(join(projectRoot, 'test', 'helpers', 'daemons', 'renaming-daemon.py'), binary);
  chmodSync(binary, 0o755);
  const r = await resource(t, 'mc-renamed', { binary });
  const start = await call(r, 'start');
  t.is(start.code, OCF_SUCCESS, start.stderr);
  const pid = pidFromFile(r.pidfile)!;
  t.teardown(() => kill(pid, 'SIGKILL'));
  t.is(commandLine(pid)[0], 'renamed-daemon: serving', 'its argv is overwritten');
  t.is(markerOf(pid), undefined, 'and so is its environment, with the marker');
  const monitor = await call(r, 'monitor');
  t.is(monitor.code, OCF_SUCCESS, monitor.reason);
  const stop = await call(r, 'stop');
  t.is(stop.code, OCF_SUCCESS, stop.stderr);
  t.false(isAlive(pid), 'stop stopped it');
  t.false(existsSync(r.pidfile));
});

test('a frozen daemon (SIGSTOP) is killed at once, not after the graceful part of the stop timeout', async (t) => {
  const r = await resource(t, 'mc-stubborn');
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  const pid = pidFromFile(r.pidfile)!;
  kill(pid, 'SIGSTOP'); // a stopped process cannot act on SIGTERM; only SIGKILL ends it
  const stop = await call(r, 'stop', { timeoutMs: 20_000 });
  t.is(stop.code, OCF_SUCCESS, stop.stderr);
  t.true(stop.elapsedMs < 3000, `stop took ${stop.elapsedMs} ms`);
  t.regex(stop.stderr, new RegExp(`memcached \\(pid ${pid}\\) is stopped or traced and cannot act on SIGTERM; killing it with SIGKILL`));
  t.false(isAlive(pid));
  t.false(existsSync(r.pidfile));
});

test('a port held by someone else fails start quickly with a clear reason', async (t) => {
  const r = await resource(t, 'mc-taken');
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(r.port, '127.0.0.1', resolve));
  t.teardown(() => squatter.close());
  const start = await call(r, 'start');
  t.is(start.code, OCF_ERR_GENERIC);
  t.regex(start.reason ?? '', new RegExp(`port ${r.port} .*already in use`));
  t.true(start.elapsedMs < 5000, `start took ${start.elapsedMs} ms`);
  t.is(pidFromFile(r.pidfile), undefined);
});

test('a non-integer port is a configuration error naming the parameter', async (t) => {
  const r = await resource(t, 'mc-badport', { port: '11211x' });
  for (const action of ['validate-all', 'start', 'monitor']) {
    const result = await call(r, action);
    t.is(result.code, OCF_ERR_CONFIGURED, action);
    t.regex(result.reason ?? '', /parameter port: "11211x" is not an integer/);
  }
  t.is((await call(r, 'stop')).code, OCF_SUCCESS, 'stop needs only the pidfile');
});

test('a 100 kB parameter value is quoted shortened in the reason and the log', async (t) => {
  const logFile = join(scratchDir(t), 'ha.log');
  const huge = `1${'x'.repeat(100_000)}`;
  const r = await resource(t, 'mc-hugeport', { port: huge });
  const result = await call(r, 'validate-all', { env: { HA_LOGFILE: logFile } });
  t.is(result.code, OCF_ERR_CONFIGURED);
  t.regex(result.reason ?? '', /^parameter port: "1x{39}\.\.\." \(100001 characters\) is not an integer$/);
  t.true(result.stderr.length < 1000, `stderr is ${result.stderr.length} characters`);
  t.true(readFileSync(logFile, 'utf8').length < 1000, 'the logged reason is short too');
});

test.serial('the wait for syslog at exit never outlasts the action timeout', async (t) => {
  // A fake logger that hangs (syslog stuck): the agent must still exit before Pacemaker's timeout.
  // Serial (AVA runs serial tests before the concurrent ones): the agent's time is measured by this
  // worker's event loop, which the file's other tests would keep busy (up to 0.8 s in full runs).
  const dir = scratchDir(t, 'ocf-logger-');
  const pids = join(dir, 'pids');
  writeFileSync(join(dir, 'logger'), `#!/bin/sh\necho $$ >> '${pids}'\nexec sleep 8\n`, { mode: 0o755 });
  t.teardown(() => {
    for (const pid of existsSync(pids) ? readFileSync(pids, 'utf8').split('\n').filter(Boolean) : []) kill(Number(pid));
  });
  const r = await resource(t, 'mc-slowlog', { port: 'eleven' });
  const env = { PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`, HA_LOGFACILITY: 'daemon' };
  // 4.5 s: longer than the agent's exit margin needs, shorter than the 5 s the logger was once awaited.
  const result = await call(r, 'validate-all', { env, timeoutMs: 4500 });
  t.is(result.code, OCF_ERR_CONFIGURED);
  t.true(existsSync(pids), 'logger was called');
  t.true(result.elapsedMs < 4500, `the agent took ${result.elapsedMs} ms with a 4500 ms timeout`);
});

test('a missing binary: not running at a probe, not installed at start', async (t) => {
  const r = await resource(t, 'mc-nobinary', { binary: '/nonexistent/memcached' });
  t.is((await call(r, 'monitor', { intervalMs: 0 })).code, OCF_NOT_RUNNING);
  const start = await call(r, 'start');
  t.is(start.code, OCF_ERR_INSTALLED);
  t.regex(start.reason ?? '', /\/nonexistent\/memcached .*not installed/);
  t.is((await call(r, 'validate-all')).code, OCF_ERR_INSTALLED);
});

test('OCF_TESTER_FAIL_HAVE_BINARY makes validate-all report the binary missing', async (t) => {
  const r = await resource(t, 'mc-failhave');
  t.is((await call(r, 'validate-all', { env: { OCF_TESTER_FAIL_HAVE_BINARY: '1' } })).code, OCF_ERR_INSTALLED);
  t.is((await call(r, 'monitor', { intervalMs: 0, env: { OCF_TESTER_FAIL_HAVE_BINARY: '1' } })).code, OCF_NOT_RUNNING);
});

test('shell metacharacters in a parameter arrive verbatim and nothing evaluates them', async (t) => {
  const dir = scratchDir(t);
  const canary = join(dir, 'evaluated');
  const hostile = `;$(touch ${canary})\`touch ${canary}\`|&`;
  const r = await resource(t, 'mc-hostile', { additional_parameters: `-D '${hostile}'` });
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  const argv = commandLine(pidFromFile(r.pidfile)!);
  t.deepEqual(argv.slice(argv.indexOf('-D'), argv.indexOf('-D') + 2), ['-D', hostile]);
  t.false(existsSync(canary));
  const user = await resource(t, 'mc-hostile-user', { user: `nobody;touch ${canary}` });
  const start = await call(user, 'start');
  t.is(start.code, OCF_ERR_INSTALLED);
  t.false(existsSync(canary));
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
});

test('an unknown action is unimplemented (3) and meta-data needs no environment', async (t) => {
  const r = await resource(t, 'mc-actions');
  t.is((await call(r, 'migrate_to')).code, 3);
  const meta = await callAgent('memcached', 'meta-data', { instance: '', rscTmp: '/nonexistent' });
  t.is(meta.code, 0);
  t.regex(meta.stdout, /<resource-agent name="memcached"/);
});

test('a symlink planted at the pidfile path is replaced, never written through', async (t) => {
  const r = await resource(t, 'mc-symlink');
  const victim = join(scratchDir(t), 'victim');
  writeFileSync(victim, 'precious\n');
  symlinkSync(victim, r.pidfile);
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  t.is(readFileSync(victim, 'utf8'), 'precious\n');
  t.false(lstatSync(r.pidfile).isSymbolicLink());
  t.is((await call(r, 'monitor')).code, OCF_SUCCESS);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
  t.is(readFileSync(victim, 'utf8'), 'precious\n');
});

test('listen=interface:NAME: one clone definition, each node\'s memcached on its own address on that interface; no such interface 5, no address 1, a bad name 6', async (t) => {
  const r = await resource(t, 'mc-interface', { listen: 'interface:mgmt0' });
  /** A node: its own network namespace and HA_RSCTMP, mgmt0 carrying `cidrs` in that order. */
  const node = async (cidrs: string[], device = 'mgmt0') => {
    const ns = await networkNamespace(t);
    // A veth pair with both ends inside (this kernel has veth, as the cluster harnesses need, not dummy).
    if (device) await ns.run('/usr/sbin/ip', 'link', 'add', device, 'type', 'veth', 'peer', 'name', `${device}p`);
    for (const end of device ? [device, `${device}p`] : []) await ns.run('/usr/sbin/ip', 'link', 'set', end, 'up');
    for (const cidr of cidrs) await ns.run('/usr/sbin/ip', 'address', 'add', cidr, 'dev', device);
    const rscTmp = scratchDir(t);
    const callHere = (action: string, params: Record<string, string> = {}) => callAgentIn(ns, 'memcached', action, { ...r.options, rscTmp, params: { ...r.options.params, ...params } });
    return { ns, rscTmp, call: callHere, pidfile: join(rscTmp, 'memcached-mc-interface.pid') };
  };
  // node1's mgmt0 also carries a VIP (added after its own address, as IPaddr2 adds it): not taken.
  const node1 = await node(['192.0.2.11/24', '192.0.2.100/24']);
  const node2 = await node(['192.0.2.12/24']);
  for (const [n, address] of [[node1, '192.0.2.11'], [node2, '192.0.2.12']] as const) {
    t.is((await n.call('validate-all')).code, OCF_SUCCESS);
    const start = await n.call('start');
    t.is(start.code, OCF_SUCCESS, start.stderr);
    const pid = pidFromFile(n.pidfile)!;
    t.true(commandLine(pid).join(' ').includes(`-l ${address} -p ${r.port}`), commandLine(pid).join(' '));
    t.is((await n.call('monitor')).code, OCF_SUCCESS);
  }
  // The kept address is beside the pidfile, in a directory a service user may write: a name or a
  // text there is never taken (monitor resolves the interface again, and passes).
  writeFileSync(`${node1.pidfile}.listen`, JSON.stringify('memcached.example.org; not an address'));
  const forged = await node1.call('monitor');
  t.is(forged.code, OCF_SUCCESS, forged.stderr);
  // The address gone from under a running memcached, another one given: monitor checks the address
  // memcached was started on (kept at start), fails here (1), never bans.
  await node2.ns.run('/usr/sbin/ip', 'address', 'flush', 'dev', 'mgmt0');
  await node2.ns.run('/usr/sbin/ip', 'address', 'add', '192.0.2.22/24', 'dev', 'mgmt0');
  const lost = await node2.call('monitor');
  t.is(lost.code, OCF_ERR_GENERIC);
  t.regex(lost.reason ?? '', new RegExp(`^memcached \\(pid \\d+\\) is running but no answer to "version" on 192\\.0\\.2\\.12:${r.port}: `));
  await node2.ns.run('/usr/sbin/ip', 'address', 'flush', 'dev', 'mgmt0');
  const noAddress = await node2.call('start');
  t.is(noAddress.code, OCF_ERR_GENERIC, 'an interface without an address may get one: 1, not a ban');
  for (const n of [node1, node2]) t.is((await n.call('stop')).code, OCF_SUCCESS);
  // A node without the interface: this node cannot run the resource (5: banned here, not everywhere).
  const node3 = await node([], '');
  for (const action of ['validate-all', 'start']) {
    const missing = await node3.call(action);
    t.is(missing.code, OCF_ERR_INSTALLED, `${action}: ${missing.stderr}`);
    t.is(missing.reason, 'parameter listen: this node has no interface "mgmt0"');
  }
  // A name no interface can have is wrong in itself: 6 everywhere.
  for (const listen of ['interface:', 'interface:a/b', 'interface:0123456789abcdef', 'interface:a b']) {
    const bad = await node3.call('validate-all', { listen });
    t.is(bad.code, OCF_ERR_CONFIGURED, listen);
    t.regex(bad.reason ?? '', /^parameter listen: ".*": an interface name has/);
  }
});
