// ocf:openstack:memcached against a real memcached, through the compiled binary.
import test, { type ExecutionContext } from 'ava';
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { callAgent, freePort, ocfTester, scratchDir, type CallOptions } from '../helpers/agent.ts';
import { checkKillRecovery, checkPidfileContract } from '../helpers/pidfile-contract.ts';
import { commandLine, deadPid, isAlive, kill, killAtEnd, pidFromFile, requireProgram } from '../helpers/processes.ts';

const OCF_SUCCESS = 0;
const OCF_ERR_GENERIC = 1;
const OCF_ERR_INSTALLED = 5;
const OCF_ERR_CONFIGURED = 6;
const OCF_NOT_RUNNING = 7;

test.before((t) => requireProgram(t, '/usr/bin/memcached'));

interface Resource {
  readonly options: CallOptions;
  readonly pidfile: string;
  readonly port: number;
}

/** A memcached resource in its own scratch HA_RSCTMP, whose daemon never outlives the test. */
async function resource(t: ExecutionContext, name: string, params: Record<string, string> = {}): Promise<Resource> {
  const rscTmp = scratchDir(t);
  const port = await freePort();
  const pidfile = join(rscTmp, `memcached-${name}.pid`);
  const options = { instance: name, rscTmp, params: { port: String(port), ...params } };
  killAtEnd(t, pidfile);
  return { options, pidfile, port };
}

const call = (r: Resource, action: string, extra: Partial<CallOptions> = {}) => callAgent('memcached', action, { ...r.options, ...extra });

test('ocf-tester passes for two instances on different ports at the same time', async (t) => {
  requireProgram(t, '/usr/sbin/ocf-tester');
  const [a, b] = await Promise.all([resource(t, 'mc1'), resource(t, 'mc2')]);
  const results = await Promise.all(
    [a, b].map((r) => ocfTester('memcached', r.options.instance, { port: String(r.port) }, { HA_RSCTMP: r.options.rscTmp })),
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

test('a memcached that stops answering while alive is a failure (1), not "not running"', async (t) => {
  const r = await resource(t, 'mc-hung');
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  const pid = pidFromFile(r.pidfile)!;
  kill(pid, 'SIGSTOP');
  t.teardown(() => kill(pid, 'SIGCONT'));
  const monitor = await call(r, 'monitor', { timeoutMs: 4000 });
  t.is(monitor.code, OCF_ERR_GENERIC);
  t.regex(monitor.reason ?? '', /running but no answer/);
  t.is((await call(r, 'monitor', { params: { ...r.options.params, monitor_check: 'process' } })).code, OCF_SUCCESS);
});

test('OCF_CHECK_LEVEL picks the depth: 0 the process, 10 the protocol, whatever monitor_check says; probes at any level', async (t) => {
  const r = await resource(t, 'mc-levels', { monitor_check: 'process' });
  const level = (value: string, extra: Partial<CallOptions> = {}) => call(r, 'monitor', { timeoutMs: 4000, ...extra, env: { OCF_CHECK_LEVEL: value } });
  for (const value of ['0', '10', '20']) t.is((await level(value, { intervalMs: 0 })).code, OCF_NOT_RUNNING, `probe at level ${value}, stopped`);
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  for (const value of ['0', '10', '20']) t.is((await level(value, { intervalMs: 0 })).code, OCF_SUCCESS, `probe at level ${value}, running`);
  const pid = pidFromFile(r.pidfile)!;
  kill(pid, 'SIGSTOP');
  t.teardown(() => kill(pid, 'SIGCONT'));
  t.is((await call(r, 'monitor')).code, OCF_SUCCESS, 'no level: monitor_check=process');
  t.is((await level('0')).code, OCF_SUCCESS);
  const deep = await level('10');
  t.is(deep.code, OCF_ERR_GENERIC);
  t.regex(deep.reason ?? '', /running but no answer to "version"/);
  t.is((await level('20')).code, OCF_ERR_GENERIC, 'level 20 runs level 10, the deepest there is');
  const bad = await level('deep');
  t.is(bad.code, OCF_ERR_CONFIGURED);
  t.is(bad.reason, 'OCF_CHECK_LEVEL "deep" is not a number (levels: 0, 10)');
  kill(pid, 'SIGCONT');
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
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

test('a daemon that ignores SIGTERM is killed before the stop timeout', async (t) => {
  const r = await resource(t, 'mc-stubborn');
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  const pid = pidFromFile(r.pidfile)!;
  kill(pid, 'SIGSTOP'); // a stopped process cannot act on SIGTERM; only SIGKILL ends it
  const stop = await call(r, 'stop', { timeoutMs: 6000 });
  t.is(stop.code, OCF_SUCCESS, stop.stderr);
  t.true(stop.elapsedMs < 6000, `stop took ${stop.elapsedMs} ms`);
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
