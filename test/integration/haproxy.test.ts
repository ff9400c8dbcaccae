// ocf:openstack:haproxy against a real HAProxy from Debian, through the compiled binary. The VIP
// tests run the agent inside a network namespace of their own, whose lo carries (or not) the VIP
// and whose ip_nonlocal_bind the test sets: the host's network is never touched.
import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { agentPath, callAgent, freePort, ocfEnvironment, scratchDir, type AgentCall, type CallOptions } from '../helpers/agent.ts';
import { clientLoop } from '../helpers/client-loop.ts';
import { addAddress, callAgentIn, networkNamespace, removeAddress, setSysctl, type Namespaces } from '../helpers/namespaces.ts';
import { checkKillRecovery, checkPidfileContract } from '../helpers/daemons/pidfile-contract.ts';
import { deadPid, isAlive, kill, killAtEnd, killMarkedAtEnd, markedProcesses, pidFromFile, requireProgram, stranger, waitFor } from '../helpers/processes.ts';

const OCF_SUCCESS = 0;
const OCF_ERR_GENERIC = 1;
const OCF_ERR_INSTALLED = 5;
const OCF_ERR_CONFIGURED = 6;
const OCF_NOT_RUNNING = 7;

test.before((t) => {
  requireProgram(t, '/usr/sbin/haproxy');
  requireProgram(t, '/usr/sbin/ip');
});

interface Site {
  /** The frontend's address (the VIP) and port. */
  readonly frontend: string;
  readonly port: number;
  /** The backend: a second proxy on loopback that answers `body`. */
  readonly backendPort: number;
  readonly socket: string;
  readonly body: string;
}

/** A frontend on the VIP, a backend server, and that server: HAProxy answering `body` itself. */
function haproxyConfig(site: Site, extra = ''): string {
  const bind = site.frontend.includes(':') ? `[${site.frontend}]:${site.port}` : `${site.frontend}:${site.port}`;
  return `# written by haproxy.test.ts
global
    daemon                      # the agent runs it in the foreground all the same
    stats socket ${site.socket} mode 600 level admin
    stats timeout 5s
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend api
    bind ${bind}
${extra}    default_backend app
backend app
    server app1 127.0.0.1:${site.backendPort}
listen answer
    bind 127.0.0.1:${site.backendPort}
    http-request return status 200 content-type text/plain string "${site.body}"
`;
}

interface Resource {
  readonly options: CallOptions;
  readonly pidfile: string;
  readonly config: string;
  readonly site: Site;
  readonly rscTmp: string;
}

/** An haproxy resource in its own scratch HA_RSCTMP, whose daemon never outlives the test. */
async function resource(t: ExecutionContext, name: string, site: Partial<Site> = {}, params: Record<string, string> = {}): Promise<Resource> {
  const rscTmp = scratchDir(t, 'ocf-haproxy-');
  const full: Site = {
    frontend: site.frontend ?? '127.0.0.1',
    port: site.port ?? (await freePort()),
    backendPort: site.backendPort ?? (await freePort()),
    socket: join(rscTmp, 'admin.sock'),
    body: site.body ?? 'v1',
  };
  const config = join(rscTmp, 'haproxy.cfg');
  writeFileSync(config, haproxyConfig(full));
  const pidfile = join(rscTmp, `haproxy-${name}.pid`);
  killAtEnd(t, pidfile);
  const options = { instance: name, rscTmp, params: { config, stats_socket: full.socket, logfile: join(rscTmp, `haproxy-${name}.log`), ...params } };
  return { options, pidfile, config, site: full, rscTmp };
}

const call = (r: Resource, action: string, extra: Partial<CallOptions> = {}) => callAgent('haproxy', action, { ...r.options, ...extra });
const callIn = (ns: Namespaces, r: Resource, action: string, extra: Partial<CallOptions> = {}) =>
  callAgentIn(ns, 'haproxy', action, { ...r.options, ...extra });

/** One HTTP GET from inside the namespace: the body, or the error. */
async function fetchIn(ns: Namespaces, host: string, port: number): Promise<string> {
  const script = `const r = await fetch('http://${host.includes(':') ? `[${host}]` : host}:${port}/').then((r) => r.text(), (e) => 'error ' + (e.cause?.code ?? e.message)); process.stdout.write(r);`;
  return (await ns.exec(process.execPath, ['--input-type=module', '-e', script], undefined, 20_000)).output.trim();
}

const VIP = '198.51.100.10';

test('ocf-tester passes with the VIP on this node (namespace)', async (t) => {
  requireProgram(t, '/usr/sbin/ocf-tester');
  const ns = await networkNamespace(t);
  await addAddress(ns, `${VIP}/32`);
  const r = await resource(t, 'hap-tester', { frontend: VIP, port: 8080 });
  const env = ocfEnvironment('haproxy', r.options);
  const result = await ns.exec('/usr/sbin/ocf-tester', ['-v', '-n', 'hap-tester', '-o', `config=${r.config}`, '-o', `stats_socket=${r.site.socket}`, '-o', `logfile=${join(r.rscTmp, 'haproxy-hap-tester.log')}`, agentPath('haproxy')], {
    ...process.env, HA_RSCTMP: env.HA_RSCTMP,
  });
  t.is(result.code, 0, result.output);
  t.regex(result.output, /passed all tests/);
  t.regex(result.output, /Checking for reload action/);
  t.false(existsSync(r.pidfile));
});

test('start without the VIP and with ip_nonlocal_bind 0 fails naming the address, the sysctl and the constraint', async (t) => {
  const ns = await networkNamespace(t);
  await setSysctl(ns, 'net.ipv4.ip_nonlocal_bind', '0');
  const r = await resource(t, 'hap-novip', { frontend: VIP, port: 8080 });
  const start = await callIn(ns, r, 'start');
  t.is(start.code, OCF_ERR_GENERIC, start.stderr);
  t.regex(start.reason ?? '', new RegExp(`address ${VIP.replaceAll('.', '\\.')} is not assigned to any interface.*net\\.ipv4\\.ip_nonlocal_bind is 0`));
  t.regex(start.stderr, /pcs constraint colocation add .* with .*pcs constraint order start .* then /, 'the log keeps the whole reason');
  t.regex(start.reason ?? '', /^haproxy cannot bind here \(bind on line \d+ of .*haproxy\.cfg\)/);
  t.true(Buffer.byteLength(start.reason ?? '') <= 256);
  t.is(pidFromFile(r.pidfile), undefined, 'nothing was launched');
  t.is((await callIn(ns, r, 'monitor')).code, OCF_NOT_RUNNING);

  // The same check with the address given explicitly.
  const explicit = await callIn(ns, r, 'start', { params: { ...r.options.params, vip: `${VIP}` } });
  t.is(explicit.code, OCF_ERR_GENERIC);
  t.regex(explicit.reason ?? '', /parameter vip/);

  // vip_check=warn goes on, and HAProxy itself then fails to bind: the reason still says why.
  const warned = await callIn(ns, r, 'start', { params: { ...r.options.params, vip_check: 'warn' } });
  t.is(warned.code, OCF_ERR_GENERIC);
  t.regex(warned.stderr, /going on because vip_check=warn/);
  t.regex(warned.reason ?? '', /haproxy exited during start/);
  t.is((await callIn(ns, r, 'stop')).code, OCF_SUCCESS);

  // The VIP arrives (IPaddr2 started first): start works and the frontend serves on it.
  await addAddress(ns, `${VIP}/32`);
  t.is((await callIn(ns, r, 'start')).code, OCF_SUCCESS);
  t.is((await callIn(ns, r, 'monitor')).code, OCF_SUCCESS);
  t.is(await fetchIn(ns, VIP, 8080), 'v1');
  t.is((await callIn(ns, r, 'stop')).code, OCF_SUCCESS);
});

test('start succeeds without the VIP when net.ipv4.ip_nonlocal_bind is 1 in the namespace', async (t) => {
  const ns = await networkNamespace(t);
  await setSysctl(ns, 'net.ipv4.ip_nonlocal_bind', '1');
  const r = await resource(t, 'hap-nonlocal', { frontend: VIP, port: 8080 });
  const start = await callIn(ns, r, 'start');
  t.is(start.code, OCF_SUCCESS, start.stderr);
  t.is((await callIn(ns, r, 'monitor')).code, OCF_SUCCESS);
  // HAProxy is bound ahead of the VIP; once the VIP arrives it serves without a restart.
  t.regex(await fetchIn(ns, VIP, 8080), /^error/);
  await addAddress(ns, `${VIP}/32`);
  t.is(await fetchIn(ns, VIP, 8080), 'v1');
  await removeAddress(ns, `${VIP}/32`);
  t.is((await callIn(ns, r, 'stop')).code, OCF_SUCCESS);
  t.false(existsSync(r.pidfile));
});

test('IPv6: the VIP check reads the IPv6 addresses and net.ipv6.ip_nonlocal_bind', async (t) => {
  const ns = await networkNamespace(t);
  const vip6 = 'fd00:10::10';
  const r = await resource(t, 'hap-ipv6', { frontend: vip6, port: 8080 });
  const start = await callIn(ns, r, 'start');
  t.is(start.code, OCF_ERR_GENERIC, start.stderr);
  t.regex(start.reason ?? '', /address fd00:10::10 is not assigned .*net\.ipv6\.ip_nonlocal_bind is 0/);
  await addAddress(ns, `${vip6}/128`);
  const started = await callIn(ns, r, 'start');
  t.is(started.code, OCF_SUCCESS, started.stderr);
  t.is(await fetchIn(ns, vip6, 8080), 'v1');
  t.is((await callIn(ns, r, 'stop')).code, OCF_SUCCESS);
});

test('reload with a good configuration loses no connection; a bad one leaves the old HAProxy serving', async (t) => {
  const ns = await networkNamespace(t);
  await addAddress(ns, `${VIP}/32`);
  const r = await resource(t, 'hap-reload', { frontend: VIP, port: 8080 });
  t.is((await callIn(ns, r, 'start')).code, OCF_SUCCESS);
  const master = pidFromFile(r.pidfile)!;

  const loop = clientLoop(t, ns, VIP, 8080);
  await loop.ready;
  writeFileSync(r.config, haproxyConfig({ ...r.site, body: 'v2' }));
  const reload = await callIn(ns, r, 'reload');
  t.is(reload.code, OCF_SUCCESS, reload.stderr);
  await new Promise((resolve) => setTimeout(resolve, 500)); // traffic after the reload, too
  const counts = await loop.finish();
  t.log(`client loop across the reload: ${JSON.stringify(counts)}`);
  t.is(counts.failed, 0, JSON.stringify(counts));
  t.true((counts.answers.v1 ?? 0) > 0, JSON.stringify(counts));
  t.true((counts.answers.v2 ?? 0) > 0, `the new configuration serves: ${JSON.stringify(counts)}`);
  t.deepEqual(Object.keys(counts.answers).sort(), ['v1', 'v2']);
  t.is(pidFromFile(r.pidfile), master, 'the master stays; workers are replaced');

  // A broken configuration: reload refuses with haproxy -c's message, v2 keeps serving.
  writeFileSync(r.config, haproxyConfig({ ...r.site, body: 'v3' }, '    no-such-keyword here\n'));
  const bad = await callIn(ns, r, 'reload');
  t.is(bad.code, OCF_ERR_INSTALLED);
  t.regex(bad.reason ?? '', /haproxy\.cfg:\d+: unknown keyword 'no-such-keyword'/);
  t.is(await fetchIn(ns, VIP, 8080), 'v2');
  t.is((await callIn(ns, r, 'monitor')).code, OCF_SUCCESS);
  t.is(pidFromFile(r.pidfile), master);
  t.is((await callIn(ns, r, 'stop')).code, OCF_SUCCESS);
});

test('an external SIGUSR2 (configuration management after an edit) is HAProxy\'s reload, never a failure: every monitor depth passes throughout, no connection lost', async (t) => {
  const ns = await networkNamespace(t);
  await addAddress(ns, `${VIP}/32`);
  const r = await resource(t, 'hap-external', { frontend: VIP, port: 8080 });
  t.is((await callIn(ns, r, 'start')).code, OCF_SUCCESS);
  const master = pidFromFile(r.pidfile)!;
  const loop = clientLoop(t, ns, VIP, 8080);
  await loop.ready;
  // Each depth, right after a reload the agent was not asked for, then every 100 ms for 1 s.
  for (const [i, level] of ['0', '10', '20'].entries()) {
    writeFileSync(r.config, haproxyConfig({ ...r.site, body: `v${i + 2}` }));
    process.kill(master, 'SIGUSR2');
    const until = Date.now() + 1000;
    while (Date.now() < until) {
      const monitor = await callIn(ns, r, 'monitor', { env: { ...r.options.env, OCF_CHECK_LEVEL: level } });
      t.is(monitor.code, OCF_SUCCESS, `level ${level}: ${monitor.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const counts = await loop.finish();
  t.is(counts.failed, 0, JSON.stringify(counts));
  t.true((counts.answers.v4 ?? 0) > 0, `the last edited configuration serves: ${JSON.stringify(counts)}`);
  t.is(pidFromFile(r.pidfile), master, 'the master stays; workers are replaced');
  t.is((await callIn(ns, r, 'stop')).code, OCF_SUCCESS);
});

test('validate-all: haproxy -c reports the first error; a missing config is not installed, or not running at a probe', async (t) => {
  const r = await resource(t, 'hap-validate');
  t.is((await call(r, 'validate-all')).code, OCF_SUCCESS);
  writeFileSync(r.config, `${readFileSync(r.config, 'utf8')}frontend broken\n    bind 127.0.0.1:1\n    frobnicate\n`);
  const bad = await call(r, 'validate-all');
  t.is(bad.code, OCF_ERR_INSTALLED, 'this node\'s file: 5, never 6 (which stops the clone, and the VIP with it, on every node)');
  t.regex(bad.reason ?? '', /haproxy\.cfg:\d+: unknown keyword 'frobnicate'/);
  t.is((await call(r, 'start')).code, OCF_ERR_INSTALLED);
  t.is(pidFromFile(r.pidfile), undefined);
  // A certificate this node lacks (issue 16): 5, and the missing file within what Pacemaker keeps of a reason (128 characters).
  const certificate = join(r.rscTmp, 'certs', 'api.pem');
  writeFileSync(r.config, haproxyConfig(r.site).replace(`bind 127.0.0.1:${r.site.port}`, `bind 127.0.0.1:${r.site.port} ssl crt ${certificate}`));
  const uncertified = await call(r, 'start');
  t.is(uncertified.code, OCF_ERR_INSTALLED);
  t.true((uncertified.reason ?? '').slice(0, 128).includes(certificate), uncertified.reason);
  t.regex(uncertified.reason ?? '', new RegExp(`^unable to stat SSL certificate from file .* \\(.*haproxy\\.cfg:\\d+: bind 127\\.0\\.0\\.1:${r.site.port}\\)$`));
  // A server's CA file this node lacks: HAProxy words it differently ("config : [FILE:LINE] : 'server ...' : ...").
  const authority = join(r.rscTmp, 'certs', 'ca.pem');
  writeFileSync(r.config, haproxyConfig(r.site).replace(`server app1 127.0.0.1:${r.site.backendPort}`, `server app1 127.0.0.1:${r.site.backendPort} ssl ca-file ${authority}`));
  const untrusted = await call(r, 'validate-all');
  t.is(untrusted.code, OCF_ERR_INSTALLED);
  t.true((untrusted.reason ?? '').slice(0, 128).includes(authority), untrusted.reason);
  t.regex(untrusted.reason ?? '', /\(.*haproxy\.cfg:\d+: server app\/app1\)$/);

  const missing = { params: { ...r.options.params, config: join(r.rscTmp, 'nope.cfg') } };
  const validate = await call(r, 'validate-all', missing);
  t.is(validate.code, OCF_ERR_INSTALLED);
  t.regex(validate.reason ?? '', /nope\.cfg .*does not exist/);
  t.is((await call(r, 'start', missing)).code, OCF_ERR_INSTALLED);
  t.is((await call(r, 'monitor', { ...missing, intervalMs: 0 })).code, OCF_NOT_RUNNING);
  t.is((await call(r, 'monitor', { intervalMs: 0, env: { OCF_TESTER_FAIL_HAVE_BINARY: '1' } })).code, OCF_NOT_RUNNING);
  const badVip = await call(r, 'validate-all', { params: { ...r.options.params, vip: '10.0.0.1 not-an-address' } });
  t.is(badVip.code, OCF_ERR_CONFIGURED);
  t.regex(badVip.reason ?? '', /parameter vip: "not-an-address"/);
});

test('kill -9 of the master: monitor says not running, stop and start recover', async (t) => {
  const r = await resource(t, 'hap-kill');
  await checkKillRecovery(t, (action) => call(r, action), r.pidfile);
});

test('a worker its dead master left behind: monitor and probe fail (1) so that Pacemaker stops it; stop ends it', async (t) => {
  const r = await resource(t, 'hap-orphan');
  killMarkedAtEnd(t, 'haproxy:hap-orphan');
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  const master = pidFromFile(r.pidfile)!;
  const worker = Number(readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/)[0]);
  kill(worker, 'SIGSTOP'); // a stopped worker cannot notice its master's death and exit
  t.teardown(() => kill(worker, 'SIGKILL'));
  kill(master, 'SIGKILL');
  t.true(await waitFor(() => !isAlive(master), 5000));
  for (const intervalMs of [10_000, 0]) {
    const monitor = await call(r, 'monitor', { intervalMs });
    t.is(monitor.code, OCF_ERR_GENERIC, `interval ${intervalMs}: never "not running" while a process of ours lives`);
    t.regex(monitor.reason ?? '', new RegExp(`pid ${master} .*not running, but processes it left are \\(pid ${worker}\\)`));
  }
  const stop = await call(r, 'stop', { timeoutMs: 6000 });
  t.is(stop.code, OCF_SUCCESS, stop.stderr);
  t.false(isAlive(worker), 'stop ended the orphaned worker');
  t.deepEqual(markedProcesses('haproxy:hap-orphan'), []);
  t.is((await call(r, 'monitor')).code, OCF_NOT_RUNNING);
});

test('a frozen HAProxy worker (SIGSTOP) is a failure (1) at once, with the stats socket check and without, not after its 5 s', async (t) => {
  const r = await resource(t, 'hap-frozen');
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  const master = pidFromFile(r.pidfile)!;
  const worker = Number(readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/)[0]);
  kill(worker, 'SIGSTOP');
  t.teardown(() => kill(worker, 'SIGCONT'));
  // With the stats socket (its connection would be accepted in the backlog, never answered) and without.
  for (const params of [r.options.params, { config: r.config }]) {
    const monitor = await call(r, 'monitor', { timeoutMs: 20_000, params });
    t.is(monitor.code, OCF_ERR_GENERIC, monitor.stderr);
    t.regex(monitor.reason ?? '', new RegExp(`haproxy \\(pid ${master}\\) is running but process ${worker} is stopped \\(SIGSTOP\\) and serves nothing`));
    t.true(monitor.elapsedMs < 2000, `monitor took ${monitor.elapsedMs} ms`);
  }
  kill(worker, 'SIGCONT');
  t.is((await call(r, 'monitor')).code, OCF_SUCCESS);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
});

test('a running HAProxy whose stats socket does not answer is a failure (1), not "not running"', async (t) => {
  const r = await resource(t, 'hap-hung');
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  // A socket that takes the connection and never answers: the fault of a hung (not frozen) worker,
  // which the real HAProxy cannot be made to show on demand.
  const silent = join(r.rscTmp, 'silent.sock');
  const held: Socket[] = [];
  const server = createServer((connection) => void held.push(connection));
  await new Promise<void>((resolve) => server.listen(silent, resolve));
  t.teardown(() => {
    for (const connection of held) connection.destroy();
    server.close();
  });
  const monitor = await call(r, 'monitor', { timeoutMs: 4000, params: { ...r.options.params, stats_socket: silent } });
  t.is(monitor.code, OCF_ERR_GENERIC, monitor.stderr);
  t.regex(monitor.reason ?? '', new RegExp(`haproxy \\(pid ${pidFromFile(r.pidfile)}\\) is running but no answer to "show info" on ${silent}`));
  t.true(held.length > 0, 'the monitor did connect to the silent socket');
  t.is((await call(r, 'monitor')).code, OCF_SUCCESS);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
});

/** One command on HAProxy's admin socket, its answer. */
function adminCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const connection = createConnection(socket, () => connection.write(`${command}\n`));
    connection.on('data', (chunk) => (answer += chunk));
    connection.on('end', () => resolve(answer));
    connection.on('error', reject);
  });
}

test('OCF_CHECK_LEVEL=20: every bind address HAProxy read must accept connections; an edited file is not judged', async (t) => {
  const r = await resource(t, 'hap-frontends');
  const level = (value: string) => call(r, 'monitor', { timeoutMs: 8000, env: { OCF_CHECK_LEVEL: value } });
  t.is((await level('20')).code, OCF_NOT_RUNNING);
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  t.is((await level('20')).code, OCF_SUCCESS);
  // The file now names a port nothing listens on: the running HAProxy did not read it.
  const newPort = await freePort();
  writeFileSync(r.config, haproxyConfig({ ...r.site, port: newPort }));
  t.is((await level('20')).code, OCF_SUCCESS, 'monitor judges what HAProxy read at start');
  await adminCommand(r.site.socket, 'disable frontend api');
  t.is((await level('0')).code, OCF_SUCCESS);
  t.is((await level('10')).code, OCF_SUCCESS);
  t.is((await call(r, 'monitor')).code, OCF_SUCCESS, 'no level: the socket, as before');
  const deep = await level('20');
  t.is(deep.code, OCF_ERR_GENERIC);
  t.regex(deep.reason ?? '', new RegExp(`running but nothing accepts connections on 127\\.0\\.0\\.1:${r.site.port} `));
  await adminCommand(r.site.socket, 'enable frontend api');
  t.is((await level('20')).code, OCF_SUCCESS);
  // Reloaded, HAProxy binds the new port and lets the old one go: level 20 follows what it read.
  const reload = await call(r, 'reload');
  t.is(reload.code, OCF_SUCCESS, reload.stderr);
  const after = await level('20');
  t.is(after.code, OCF_SUCCESS, after.stderr);
  t.regex(readFileSync(`${r.pidfile}.binds`, 'utf8'), new RegExp(`"port":"${newPort}"`));
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
  t.false(existsSync(`${r.pidfile}.binds`), 'stop forgets what HAProxy read');
});

test('stale and foreign pidfiles: not running, stop never signals a stranger; reload leaves it alone; start works after', async (t) => {
  const r = await resource(t, 'hap-pidfiles');
  await checkPidfileContract(t, (action) => call(r, action), r.pidfile, 'haproxy');
  const pid = stranger(t);
  writeFileSync(r.pidfile, `${pid}\n`);
  const reload = await call(r, 'reload');
  t.is(reload.code, OCF_NOT_RUNNING, 'nothing of ours to reload: said as "not running" (issue 17, item 7)');
  t.true(isAlive(pid));
  writeFileSync(r.pidfile, `${await deadPid()}\n`);
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  t.is((await call(r, 'monitor')).code, OCF_SUCCESS);
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
});

// Issue 21: a frozen HAProxy on the VIP's node kept the VIP down while stop waited the graceful
// part of its timeout (about 13 s of 20) for a soft stop that a stopped process never performs.
test('a frozen HAProxy (every process stopped) is killed at once, not after the graceful part of the stop timeout', async (t) => {
  const r = await resource(t, 'hap-stubborn');
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  const master = pidFromFile(r.pidfile)!;
  const worker = Number(readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/)[0]);
  kill(worker, 'SIGSTOP');
  kill(master, 'SIGSTOP');
  const stop: AgentCall = await call(r, 'stop', { timeoutMs: 20_000 });
  t.is(stop.code, OCF_SUCCESS, stop.stderr);
  t.true(stop.elapsedMs < 3000, `stop took ${stop.elapsedMs} ms`);
  t.regex(stop.stderr, new RegExp(`haproxy \\(pid (${master}, ${worker}|${worker}, ${master})\\) is stopped or traced and cannot act on SIGUSR1; killing it with SIGKILL`));
  t.false(isAlive(master));
  t.true(await waitFor(() => !isAlive(worker), 5000), 'the worker went with its master');
  t.false(existsSync(r.pidfile));
});

test('a draining HAProxy (listeners closed, a request in progress) is waited for, not killed after the 2 s a hung one gets; with grace set, its open listeners too', async (t) => {
  // A backend that accepts and never answers: the request stays in progress until HAProxy's
  // timeout server (5 s) answers it 504 and the worker, done draining, exits.
  const held: Socket[] = [];
  const silent = createServer((socket) => void held.push(socket.on('error', () => undefined)));
  const silentPort = await freePort();
  await new Promise<void>((resolve) => silent.listen(silentPort, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of held) socket.destroy();
    silent.close();
  });
  const r = await resource(t, 'hap-draining');
  writeFileSync(r.config, readFileSync(r.config, 'utf8').replace(`server app1 127.0.0.1:${r.site.backendPort}`, `server app1 127.0.0.1:${silentPort}`));
  t.is((await call(r, 'start')).code, OCF_SUCCESS);
  const client: Socket = createConnection(r.site.port, '127.0.0.1');
  t.teardown(() => void client.destroy());
  let answer = '';
  client.setEncoding('utf8').on('data', (chunk: string) => void (answer += chunk));
  client.on('error', () => undefined);
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const stop = await call(r, 'stop', { timeoutMs: 20_000 });
  t.is(stop.code, OCF_SUCCESS, stop.stderr);
  t.true(stop.elapsedMs >= 4000 && stop.elapsedMs < 12_000, `stop took ${stop.elapsedMs} ms`);
  t.notRegex(stop.stderr, /made no progress|SIGKILL/);
  t.regex(answer, /^HTTP\/1\.1 504 /, 'the request in progress was answered, not cut by a kill');
  // grace: HAProxy keeps its listeners 3 s after the soft stop on purpose; no request in progress.
  // Not killed while they are open. HAProxy 3.0.11 (Debian 13) now and then stays after the grace
  // with nothing left (no listener, no connection: about 1 stop in 7 here); then, and only then,
  // SIGKILL 2 s later, not at the end of the graceful part (15 s).
  const graceful = await resource(t, 'hap-grace');
  writeFileSync(graceful.config, readFileSync(graceful.config, 'utf8').replace('global\n', 'global\n    grace 3s\n'));
  t.is((await call(graceful, 'start')).code, OCF_SUCCESS);
  const graceStop = await call(graceful, 'stop', { timeoutMs: 20_000 });
  t.is(graceStop.code, OCF_SUCCESS, graceStop.stderr);
  t.true(graceStop.elapsedMs >= 2500 && graceStop.elapsedMs < 8000, `stop took ${graceStop.elapsedMs} ms`);
  if (/SIGKILL/.test(graceStop.stderr)) {
    t.regex(graceStop.stderr, /made no progress toward exiting in 2000 ms after SIGUSR1/);
    t.true(graceStop.elapsedMs >= 4500, `killed ${graceStop.elapsedMs} ms into the stop: before the grace and the patience had passed`);
    t.log(`HAProxy stayed after its grace with nothing left; killed after ${graceStop.elapsedMs} ms`);
  }
});

test('parameters are hostile input: nothing is evaluated by a shell', async (t) => {
  const dir = scratchDir(t);
  const canary = join(dir, 'evaluated');
  const r = await resource(t, 'hap-hostile', {}, { additional_parameters: `-L '$(touch ${canary})'` });
  const start = await call(r, 'start');
  t.is(start.code, OCF_SUCCESS, start.stderr);
  t.false(existsSync(canary));
  t.is((await call(r, 'stop')).code, OCF_SUCCESS);
  const unterminated = await call(r, 'validate-all', { params: { ...r.options.params, additional_parameters: "'open" } });
  t.is(unterminated.code, OCF_ERR_CONFIGURED);
  t.regex(unterminated.reason ?? '', /additional_parameters: unterminated single quote/);
  const meta = await callAgent('haproxy', 'meta-data', { instance: '', rscTmp: '/nonexistent' });
  t.is(meta.code, 0);
  t.regex(meta.stdout, /<action name="reload"/);
});

test('this node\'s files at start: a certificate only this node lacks, a backend name it cannot resolve: 5 (this node banned), never 6 (the clone and the VIP stopped everywhere)', async (t) => {
  const r = await resource(t, 'hap-node-files');
  const config = readFileSync(r.config, 'utf8');
  writeFileSync(r.config, config.replace(/^(    bind \S+)$/m, `$1 ssl crt ${join(r.rscTmp, 'not-yet-deployed.pem')}`));
  const cert = await call(r, 'start');
  t.is(cert.code, OCF_ERR_INSTALLED, cert.stderr);
  t.regex(cert.reason ?? '', /not-yet-deployed\.pem/);
  t.is(pidFromFile(r.pidfile), undefined);
  writeFileSync(r.config, config.replace(/server app1 127\.0\.0\.1:/, 'server app1 no-such-host.invalid:'));
  const name = await call(r, 'start');
  t.is(name.code, OCF_ERR_INSTALLED, name.stderr);
  t.is(pidFromFile(r.pidfile), undefined);
});
