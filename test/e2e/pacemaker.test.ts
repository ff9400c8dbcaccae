// The agents where they live: a real Pacemaker runs the seed's controller layout, and recovers it.
import anyTest, { type TestFn } from 'ava';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentPath, projectRoot, runProgram } from '../helpers/agent.ts';
import { configurationLines, operationLine, pcsDefaultOperations } from '../helpers/parsers/cib.ts';
import { Cluster, type ClusterStatus } from '../helpers/clusters/one-node.ts';
import { prepareKeystone, removeKeystone, type KeystoneFixture } from '../helpers/daemons/keystone.ts';
import { requireProgram, waitFor } from '../helpers/processes.ts';
import { childText, descendants, parseXml } from '../helpers/parsers/xml.ts';
import { loadAgent, type AgentName } from '../../agents/index.ts';
import { ceilometerConfig, crmCommands, FRONTEND_PORT, haproxyConfig, KEYSTONE_TOKEN_INTERVAL_S, layoutPrimitives, PARTITIONING_PREFIX, pcsCommands, REDIS_PORT, VIP, type LayoutFiles } from './layout.ts';

interface Context {
  cluster: Cluster;
  keystone: KeystoneFixture;
  scratch: string;
  files: LayoutFiles;
}

const test = anyTest as TestFn<Context>;
const ADMIN_PASSWORD = 'e2e-admin-secret';
const AGENTS: AgentName[] = ['memcached', 'haproxy', 'keystone', 'ceilometer'];
/** HAProxy refuses this configuration: line 6 has a keyword it does not know. */
const BROKEN_HAPROXY_CONFIG = 'global\n    maxconn 100\n\nfrontend f\n    bind 127.0.0.1:5999\n    no-such-keyword here\n';

test.before(async (t) => {
  for (const program of ['/usr/sbin/corosync', '/usr/sbin/pacemakerd', '/usr/sbin/crm', '/usr/sbin/pcs', '/usr/sbin/haproxy', '/usr/bin/memcached', '/usr/bin/uwsgi', '/usr/bin/curl', '/usr/bin/redis-server', '/usr/bin/ceilometer-polling']) {
    requireProgram(t, program);
  }
  const scratch = mkdtempSync(join(tmpdir(), 'ocf-e2e-'));
  chmodSync(scratch, 0o755);
  t.context.scratch = scratch;
  const [cluster, keystone] = await Promise.all([
    Cluster.start(AGENTS),
    // WAL: test 9 gives Keystone a wrong password (see walJournal).
    prepareKeystone(ADMIN_PASSWORD, { journal: 'wal' }),
  ]);
  t.context.cluster = cluster;
  t.context.keystone = keystone;
  const files: LayoutFiles = {
    haproxyConfig: join(scratch, 'haproxy.cfg'),
    haproxySocket: join(scratch, 'haproxy.sock'),
    keystoneConfig: keystone.config,
    passwordFile: join(scratch, 'admin-password'),
    ceilometerConfig: join(scratch, 'ceilometer.conf'),
  };
  writeFileSync(files.haproxyConfig, haproxyConfig(files.haproxySocket));
  writeFileSync(join(scratch, 'polling.yaml'), '---\nsources: []\n');
  writeFileSync(files.ceilometerConfig, ceilometerConfig(join(scratch, 'polling.yaml')));
  // The coordination backend ceilometer's clone partitions through, inside the cluster's network.
  const redisDir = join(scratch, 'redis');
  mkdirSync(redisDir);
  cluster.background('/usr/bin/redis-server', redisArguments(redisDir));
  writeFileSync(files.passwordFile, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
  t.context.files = files;
});

/** The layout's daemons write their output to the default logfile, /var/log/AGENT/AGENT-RESOURCE.log. */
const DAEMON_LOG_DIRS = ['haproxy', 'memcached', 'keystone', 'ceilometer'].map((agent) => ({ agent, dir: `/var/log/${agent}` }));
const logDirsBefore = new Set(DAEMON_LOG_DIRS.filter(({ dir }) => existsSync(dir)).map(({ dir }) => dir));

test.after.always(async (t) => {
  await t.context.cluster?.stop();
  for (const { agent, dir } of DAEMON_LOG_DIRS) {
    if (!logDirsBefore.has(dir)) rmSync(dir, { recursive: true, force: true });
    else rmSync(join(dir, `${agent}-p_${agent}.log`), { force: true });
  }
  removeKeystone(t.context.keystone);
  if (t.context.scratch) rmSync(t.context.scratch, { recursive: true, force: true });
});

/** Redis for ceilometer's coordination: no automatic saves; a shutdown with SAVE keeps its data in `dir`. */
function redisArguments(dir: string): string[] {
  return ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
}

function started(status: ClusterStatus, id: string): boolean {
  const instances = status.resources.filter((r) => r.id === id || r.id.startsWith(`${id.replace(/^cl_/, 'p_')}`));
  return instances.length > 0 && instances.every((r) => r.active && r.role === 'Started' && !r.failed);
}

const allStarted = (status: ClusterStatus) => ['vip', 'p_haproxy', 'p_memcached', 'p_keystone', 'p_ceilometer'].every((id) => started(status, id));

/** An HTTP request through the VIP, from inside the cluster's network namespace. */
async function throughVip(cluster: Cluster): Promise<string> {
  const result = await cluster.exec('curl', ['-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', `http://${VIP}:${FRONTEND_PORT}/v3`]);
  return result.output.trim();
}

async function memcachedAnswers(cluster: Cluster): Promise<boolean> {
  const probe = "import socket;s=socket.create_connection(('127.0.0.1',11211),2);s.sendall(b'version\\r\\n');print(s.recv(64).decode())";
  return /^VERSION /.test((await cluster.exec('python3', ['-c', probe])).output);
}

/** The members of ceilometer's partitioning group that have a live heartbeat in Redis. */
async function liveMembers(cluster: Cluster): Promise<string[]> {
  const redis = (...args: string[]) => cluster.exec('redis-cli', ['-p', String(REDIS_PORT), '--raw', ...args]).then((r) => r.output.trim().split('\n').filter(Boolean));
  const members = await redis('HKEYS', `_tooz_group:central-${PARTITIONING_PREFIX}-global`);
  const live: string[] = [];
  for (const member of members) if ((await redis('EXISTS', `_tooz_beats:${member}`))[0] === '1') live.push(member);
  return live;
}

/** The daemon an agent launched for a resource: it carries the resource's marker; its workers' parents carry it too. */
function daemonPid(marker: string): number {
  const carriers = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`OCF_OPENSTACK_RESOURCE=${marker}`)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      carriers.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const leaders = [...carriers].filter(([, parent]) => !carriers.has(parent)).map(([pid]) => pid);
  if (leaders.length !== 1) throw new Error(`expected one daemon for ${marker}, found ${leaders.join(', ') || 'none'}`);
  return leaders[0]!;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  if (!(await waitFor(check, timeoutMs, 100))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

test.serial('1. the seed layout, configured with crm, reaches Started and a request through the VIP reaches Keystone', async (t) => {
  const { cluster, files } = t.context;
  for (const command of crmCommands(files)) {
    const result = await cluster.crm('configure', ...command);
    t.is(result.code, 0, `crm configure ${command.join(' ')}: ${result.output}`);
  }
  const status = await cluster.waitForStatus('every resource Started', allStarted, 180_000);
  t.deepEqual(status.failures, []);
  // HAProxy's health check wants two good answers (rise 2, inter 2000) before it sends traffic.
  await until('Keystone through the VIP', async () => (await throughVip(cluster)) === '200', 30_000);
  t.is(await throughVip(cluster), '200');
  t.true(await memcachedAnswers(cluster));
  t.is((await liveMembers(cluster)).length, 1, 'this node\'s ceilometer is a live member of its partitioning group');
  crmConfiguration = await configuration(cluster);
});

/** The CIB's configuration as crmsh made it (test 1), for the pcs run (1b) to match. */
let crmConfiguration: string[] | undefined;

/** The CIB's configuration section as comparable lines (ids each client invents left out). */
async function configuration(cluster: Cluster): Promise<string[]> {
  const result = await cluster.exec('cibadmin', ['--query', '--scope', 'configuration']);
  if (result.code !== 0) throw new Error(`cibadmin --query: ${result.output}`);
  return configurationLines(result.output);
}

/** Stop every resource through its agent, then remove the resources, constraints and their history. */
async function eraseLayout(cluster: Cluster): Promise<void> {
  const stopAll = (...args: string[]) => cluster.exec('crm_attribute', ['--type', 'crm_config', '--name', 'stop-all-resources', ...args]);
  await stopAll('--update', 'true');
  await cluster.waitForStatus('every resource stopped', (s) => s.resources.every((r) => !r.active), 120_000);
  for (const scope of ['constraints', 'resources']) {
    const result = await cluster.exec('cibadmin', ['--replace', '--scope', scope, '--xml-text', `<${scope}/>`]);
    if (result.code !== 0) throw new Error(`cibadmin --replace --scope ${scope}: ${result.output}`);
  }
  await stopAll('--delete');
  await cluster.exec('crm_resource', ['--cleanup']);
  await cluster.waitForStatus('no resources left', (s) => s.resources.length === 0 && s.failures.length === 0, 60_000);
}

test.serial('1b. the same layout configured with pcs: the same CIB plus the operations pcs takes from the agents\' meta-data, and the same service', async (t) => {
  const { cluster, files } = t.context;
  if (!crmConfiguration) throw new Error('test 1 did not record the layout crmsh made');
  await eraseLayout(cluster);
  for (const command of pcsCommands(files)) {
    const result = await cluster.pcs(...command);
    t.is(result.code, 0, `pcs ${command.join(' ')}: ${result.output}`);
  }
  // crmsh writes only the operations its command names; pcs adds one per other action the agent's
  // meta-data lists, with the advertised timeout.
  const fromMetadata: string[] = [];
  for (const primitive of layoutPrimitives(files)) {
    const metadata = await cluster.exec('crm_resource', ['--show-metadata', primitive.agent]);
    t.is(metadata.code, 0, metadata.output);
    fromMetadata.push(...pcsDefaultOperations(primitive.id, metadata.output, primitive.ops.map((op) => op[0]!)));
  }
  t.deepEqual(await configuration(cluster), [...crmConfiguration, ...fromMetadata].sort());
  const status = await cluster.waitForStatus('every resource Started', allStarted, 180_000);
  t.deepEqual(status.failures, []);
  await until('Keystone through the VIP', async () => (await throughVip(cluster)) === '200', 30_000);
  t.is(await throughVip(cluster), '200');
  t.true(await memcachedAnswers(cluster));
  await until('one live member in ceilometer\'s group', async () => (await liveMembers(cluster)).length === 1, 30_000);
});

const victims = [
  { resource: 'p_haproxy', marker: 'haproxy:p_haproxy', service: (c: Cluster) => throughVip(c).then((code) => code === '200') },
  { resource: 'p_memcached', marker: 'memcached:p_memcached', service: memcachedAnswers },
  { resource: 'p_keystone', marker: 'keystone:p_keystone', service: (c: Cluster) => throughVip(c).then((code) => code === '200') },
  { resource: 'p_ceilometer', marker: 'ceilometer:p_ceilometer', service: ceilometerRejoined },
];

let membersBeforeKill: string[] = [];

/** A new member (not one from before the kill) heartbeats in the partitioning group. */
async function ceilometerRejoined(cluster: Cluster): Promise<boolean> {
  return (await liveMembers(cluster)).some((member) => !membersBeforeKill.includes(member));
}

for (const victim of victims) {
  test.serial(`2. kill -9 of ${victim.resource}: Pacemaker notices through our monitor and restarts it`, async (t) => {
    const { cluster } = t.context;
    await cluster.waitForStatus('every resource Started', allStarted, 120_000);
    const failuresBefore = await cluster.failCount(victim.resource);
    membersBeforeKill = await liveMembers(cluster);
    const pid = daemonPid(victim.marker);
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    await until(`${victim.resource}'s fail count to grow`, async () => (await cluster.failCount(victim.resource)) > failuresBefore, 60_000);
    await until(`${victim.resource}'s service to answer again`, () => victim.service(cluster), 120_000);
    const recovery = Date.now() - killedAt;
    t.log(`${victim.resource}: service restored ${recovery} ms after kill -9`);
    process.stdout.write(`recovery time: ${victim.resource} ${recovery} ms from kill -9 to service restored\n`);
    await cluster.waitForStatus('every resource Started', allStarted, 120_000);
    t.not(daemonPid(victim.marker), pid, 'a new daemon runs');
    t.true((await cluster.failCount(victim.resource)) > failuresBefore);
  });
}

test.serial('3. a broken haproxy config: crm_mon shows our exit reason and the resource stays stopped', async (t) => {
  const { cluster, scratch } = t.context;
  const broken = join(scratch, 'broken.cfg');
  writeFileSync(broken, BROKEN_HAPROXY_CONFIG);
  const configured = await cluster.crm('configure', 'primitive', 'p_broken', 'ocf:openstack:haproxy',
    'params', `config=${broken}`, 'op', 'monitor', 'interval=5s');
  t.is(configured.code, 0, configured.output);
  t.teardown(async () => {
    await cluster.crm('configure', 'delete', '--force', 'p_broken');
    // The status section remembers a deleted resource's failure until it is cleaned up.
    await cluster.exec('crm_resource', ['--cleanup']);
    await cluster.waitForStatus('the failure to be forgotten', (s) => !s.failures.some((f) => f.id === 'p_broken'), 60_000);
  });
  const status = await cluster.waitForStatus('the broken resource to fail', (s) => s.failures.some((f) => f.id === 'p_broken'), 60_000);
  const failure = status.failures.find((f) => f.id === 'p_broken')!;
  // The number, not the words (Pacemaker 2.1 and 3.0 word them differently). A file of this node
  // that `haproxy -c` refuses is 5: this node is banned, the clone elsewhere untouched (never 6).
  t.is(failure.exitcode, 5, JSON.stringify(failure));
  // crm_mon shows at most 128 characters of a reason: the agent puts HAProxy's error first.
  t.regex(failure.exitreason, /broken\.cfg:6: unknown keyword 'no-such-keyword'/);
  t.false(status.resources.find((r) => r.id === 'p_broken')?.active ?? false);
  t.true(allStarted(status), 'the rest of the layout is untouched');
});

test.serial('4. stopping the VIP stops the haproxy clone first (order constraint); starting it brings both back', async (t) => {
  const { cluster } = t.context;
  await cluster.waitForStatus('every resource Started', allStarted, 120_000);
  const logBefore = cluster.log('pacemaker.log').length;
  t.is((await cluster.crm('resource', 'stop', 'vip')).code, 0);
  await cluster.waitForStatus('vip and haproxy stopped', (s) => !started(s, 'vip') && s.resources.filter((r) => r.id.startsWith('p_haproxy')).every((r) => !r.active), 60_000);
  const log = cluster.log('pacemaker.log').slice(logBefore);
  const haproxyStopped = log.search(/Result of stop operation for p_haproxy/);
  const vipStopped = log.search(/Result of stop operation for vip/);
  t.true(haproxyStopped >= 0 && vipStopped > haproxyStopped, 'haproxy stopped before the VIP');
  t.not(await throughVip(cluster), '200');
  t.is((await cluster.crm('resource', 'start', 'vip')).code, 0);
  await cluster.waitForStatus('every resource Started', allStarted, 120_000);
  await until('service through the VIP', async () => (await throughVip(cluster)) === '200', 30_000);
  t.pass();
});

test.serial('5. crm_verify -L is clean for the whole configuration', async (t) => {
  const result = await t.context.cluster.exec('crm_verify', ['-L', '-V']);
  t.is(result.code, 0, result.output);
  t.notRegex(result.output, /error|warning/i, result.output);
});

/** The agent's meta-data as the binary prints it: what pcs and crmsh read through crm_resource. */
async function metadataOf(agent: string) {
  const result = await runProgram(agentPath(agent), ['meta-data']);
  if (result.code !== 0) throw new Error(`${agent} meta-data: ${result.output}`);
  const root = parseXml(result.output);
  return {
    xml: result.output,
    shortdesc: childText(root, 'shortdesc'),
    parameters: descendants(root, 'parameter').map((parameter) => {
      const content = descendants(parameter, 'content')[0]!.attributes;
      return { name: parameter.attributes.name!, type: content.type!, default: content.default, shortdesc: childText(parameter, 'shortdesc') };
    }),
    actions: descendants(root, 'action').map((action) => action.attributes),
  };
}

/**
 * `pcs resource describe`'s "Default operations" section, as cib.ts writes operations. pcs 0.11.5
 * puts each operation's name at 2 spaces and its options one a line at 4; pcs 0.11.6 and later the
 * name at 4 and the options on one line at 6.
 */
function describedOperations(resource: string, output: string): string[] {
  const section = output.slice(output.indexOf('Default operations:')).split('\n').slice(1);
  const operations: string[] = [];
  let current: Record<string, string> | undefined;
  const flush = () => {
    if (!current) return;
    const { OCF_CHECK_LEVEL: level, ...op } = current;
    operations.push(operationLine(resource, op, level));
  };
  for (const line of section) {
    const name = /^ +(\S+):$/.exec(line)?.[1];
    const options = /^ +[\w-]+=\S*(?: +[\w-]+=\S*)*$/.test(line) ? line.trim().split(/ +/) : undefined;
    if (name) {
      flush();
      current = { name };
    } else if (options && current) {
      for (const option of options) {
        const at = option.indexOf('=');
        current[option.slice(0, at)] = option.slice(at + 1);
      }
    } else if (line.trim() === '' && operations.length + (current ? 1 : 0) > 0) {
      break;
    }
  }
  flush();
  return operations.sort();
}

/** A parameter in `pcs resource describe`: "  NAME: description" (pcs 0.11.5), "  NAME\n    Description: ..." (0.11.6 and later). */
function describedParameter(name: string): RegExp {
  return new RegExp(`^ {2}${name}(?:: |\n {4}Description: )`, 'm');
}

/** `crm ra info`'s first line: "SHORTDESC (AGENT)" (crmsh 4.4), "AGENT - SHORTDESC" (crmsh 5). */
function raInfoTitles(agent: string, shortdesc: string): string[] {
  return [`${shortdesc} (${agent})\n`, `${agent} - ${shortdesc}\n`];
}

for (const agent of AGENTS) {
  test.serial(`6. ${agent}: pcs resource describe and crm ra info show the agent's meta-data`, async (t) => {
    const { cluster } = t.context;
    const metadata = await metadataOf(agent);
    const described = await cluster.pcs('resource', 'describe', `ocf:openstack:${agent}`);
    t.is(described.code, 0, described.output);
    t.true(described.output.startsWith(`ocf:openstack:${agent} - ${metadata.shortdesc}\n`), described.output);
    for (const parameter of metadata.parameters) t.regex(described.output, describedParameter(parameter.name), parameter.name);
    // What pcs would write into the CIB by default is what the meta-data recommends.
    t.deepEqual(describedOperations('R', described.output), pcsDefaultOperations('R', metadata.xml).sort());

    const info = await cluster.crm('ra', 'info', `ocf:openstack:${agent}`);
    t.is(info.code, 0, info.output);
    t.true(raInfoTitles(`ocf:openstack:${agent}`, metadata.shortdesc).some((title) => info.output.startsWith(title)), info.output);
    for (const parameter of metadata.parameters) {
      t.true(info.output.includes(`\n${parameter.name} (${parameter.type}${parameter.default === undefined ? '' : `, [${parameter.default}]`}): ${parameter.shortdesc}\n`), parameter.name);
    }
    const operations = info.output.slice(info.output.indexOf("Operations' defaults"));
    for (const action of metadata.actions.filter((a) => !['meta-data', 'validate-all'].includes(a.name!))) {
      t.regex(operations, new RegExp(`^\\s+${action.name}\\s+${['timeout', 'interval', 'depth'].filter((k) => action[k] !== undefined).map((k) => `${k}=${action[k]}`).join(' ')}$`, 'm'), action.name);
    }
  });

  test.serial(`6. ${agent}: pcs resource create without operations makes the recommended ones: every monitor depth, distinct intervals, OCF_CHECK_LEVEL above 0`, async (t) => {
    const { cluster } = t.context;
    const id = `p_defaults_${agent}`;
    const created = await cluster.pcs('resource', 'create', id, `ocf:openstack:${agent}`, '--disabled');
    t.is(created.code, 0, created.output);
    t.teardown(() => cluster.pcs('resource', 'delete', id));
    // What we recommend, from the agent's declaration: one operation per monitor depth, the others
    // with their timeout.
    const declared = await loadAgent(agent);
    const recommended = Object.entries(declared.actions).flatMap(([name, action]) => {
      if ('depths' in action) return action.depths.map((d) => operationLine(id, { name, interval: `${d.interval}s`, timeout: `${d.timeout}s` }, d.level === 0 ? undefined : String(d.level)));
      return name === 'validate-all' ? [] : [operationLine(id, { name, interval: '0s', timeout: `${action.timeout}s` })];
    });
    const made = (await configuration(cluster)).filter((line) => line.startsWith(`op ${id} `));
    t.deepEqual(made, recommended.sort());
    const intervals = made.filter((line) => line.startsWith(`op ${id} monitor `)).map((line) => /interval=(\S+)/.exec(line)![1]);
    t.true(intervals.length >= 2, 'more than one depth');
    t.is(new Set(intervals).size, intervals.length, `distinct monitor intervals: ${intervals.join(', ')}`);
    const verify = await cluster.exec('crm_verify', ['-L', '-V']);
    t.is(verify.code, 0, verify.output);
    t.notRegex(verify.output, /error|warning/i, verify.output);
  });
}

/** A parameter each agent's validation refuses, with the exit reason it gives. */
const malformed: Record<string, { parameter: string; reason: string }> = {
  memcached: { parameter: 'port=abc', reason: 'parameter port: "abc" is not an integer' },
  haproxy: { parameter: 'vip=300.1.1.1', reason: 'parameter vip: "300.1.1.1" is not an IPv4 or IPv6 address' },
  keystone: { parameter: 'port=abc', reason: 'parameter port: "abc" is not an integer' },
  ceilometer: { parameter: 'amqp_server_port=abc', reason: 'parameter amqp_server_port: "abc" is not an integer' },
};

for (const agent of AGENTS) {
  test.serial(`7. ${agent}: a malformed parameter: pcs --agent-validation refuses the resource with our exit reason, crm_resource --validate gives 6 with it`, async (t) => {
    const { cluster, files } = t.context;
    const { parameter, reason } = malformed[agent]!;
    const params = layoutPrimitives(files).find((p) => p.agent === `ocf:openstack:${agent}`)!.params;
    const options = (list: readonly string[]) => list.flatMap((p) => ['--option', p]);
    const validate = (list: readonly string[]) => cluster.exec('crm_resource', ['--validate', '--class', 'ocf', '--provider', 'openstack', '--agent', agent, ...options(list)]);
    const withBadValue = [...params.filter((p) => p.split('=')[0] !== parameter.split('=')[0]), parameter];

    const good = await validate(params);
    t.is(good.code, 0, good.output);
    // Pacemaker 2.1 words the result "(ok)", 3.0 "(OK)".
    t.regex(good.output, new RegExp(`^Operation validate \\(ocf:openstack:${agent}\\) returned 0 \\(ok\\)`, 'mi'));
    const bad = await validate(withBadValue);
    t.is(bad.code, 6, bad.output);
    t.true(bad.output.toLowerCase().includes(`returned 6 (not configured: ${reason})`.toLowerCase()), bad.output);

    const created = await cluster.pcs('resource', 'create', `p_invalid_${agent}`, `ocf:openstack:${agent}`, ...withBadValue, '--agent-validation', '--disabled');
    t.is(created.code, 1, created.output);
    t.true(created.output.includes('Validation result from agent'), created.output);
    t.true(created.output.includes(`ocf-exit-reason:${reason}`), created.output);
    const query = await cluster.exec('cibadmin', ['--query', '--xpath', `//primitive[@id="p_invalid_${agent}"]`]);
    t.not(query.code, 0, `nothing was created: ${query.output}`);
  });
}

test.serial('8. pcs resource debug-monitor, debug-start and debug-stop run our agent and give its codes and reasons', async (t) => {
  const { cluster, scratch } = t.context;
  const running = await cluster.pcs('resource', 'debug-monitor', 'p_keystone');
  t.is(running.code, 0, running.output);
  t.regex(running.output, /Operation force-check for p_keystone \(ocf:openstack:keystone\) returned 0 \(ok\)/i);

  const broken = join(scratch, 'debug-broken.cfg');
  writeFileSync(broken, BROKEN_HAPROXY_CONFIG);
  const created = await cluster.pcs('resource', 'create', 'p_debug', 'ocf:openstack:haproxy', `config=${broken}`, '--disabled');
  t.is(created.code, 0, created.output);
  t.teardown(() => cluster.pcs('resource', 'delete', 'p_debug'));
  const monitor = await cluster.pcs('resource', 'debug-monitor', 'p_debug');
  t.is(monitor.code, 7, monitor.output);
  t.regex(monitor.output, /Operation force-check for p_debug \(ocf:openstack:haproxy\) returned 7 \(not running\)/i);
  const start = await cluster.pcs('resource', 'debug-start', 'p_debug');
  // This node's file: 5 (Pacemaker bans this node only), never 6 (the clone stopped on every node).
  t.is(start.code, 5, start.output);
  t.regex(start.output, /returned 5 \(not installed: \S+debug-broken\.cfg:6: unknown keyword 'no-such-keyword'/i);
  t.regex(start.output, /^ocf-exit-reason:\S+debug-broken\.cfg:6: unknown keyword 'no-such-keyword'/m);
  const stop = await cluster.pcs('resource', 'debug-stop', 'p_debug');
  t.is(stop.code, 0, stop.output);
  // The debug actions ran beside the cluster, not through it: nothing recorded, nothing restarted.
  const status = await cluster.status();
  t.false(status.resources.find((r) => r.id === 'p_debug')?.active ?? true);
  t.deepEqual(status.failures.filter((f) => f.id === 'p_debug'), []);
  t.true(allStarted(status));
});

/** A failed operation crm_mon lists, by its key (`p_keystone_monitor_7000`), with every attribute crm_mon gives. */
function failedOperation(status: ClusterStatus, opKey: string): Record<string, string> | undefined {
  return descendants(parseXml(status.xml), 'failure').map((f) => f.attributes).find((a) => a.op_key === opKey);
}

/** The last result Pacemaker recorded for a resource's operation (`p_keystone_monitor_7000`), from the CIB's status. */
async function lastResult(cluster: Cluster, opId: string): Promise<string | undefined> {
  const result = await cluster.exec('cibadmin', ['--query', '--scope', 'status']);
  return descendants(parseXml(result.output), 'lrm_rsc_op').find((op) => op.attributes.id === opId)?.attributes['rc-code'];
}

const OCF_DEGRADED = '190';

test.serial('9. the password file changed: the token monitor (level 20) shows OCF_DEGRADED with our reason in crm_mon, the API monitor stays green, nothing restarts; repaired, all passes again with no cleanup', async (t) => {
  const { cluster, files } = t.context;
  await cluster.waitForStatus('every resource Started', allStarted, 120_000);
  const deep = `p_keystone_monitor_${KEYSTONE_TOKEN_INTERVAL_S * 1000}`;
  const shallow = 'p_keystone_monitor_5000';
  t.is(await lastResult(cluster, deep), '0', 'the token check passes before the fault');
  const pid = daemonPid('keystone:p_keystone');
  const failures = await cluster.failCount('p_keystone');
  writeFileSync(files.passwordFile, 'no-longer-the-password\n');
  t.teardown(() => writeFileSync(files.passwordFile, `${ADMIN_PASSWORD}\n`));
  const status = await cluster.waitForStatus('the token monitor to report degraded', (s) => failedOperation(s, deep)?.exitcode === OCF_DEGRADED, 60_000);
  const failure = failedOperation(status, deep)!;
  t.log(`crm_mon: ${failure.op_key} returned '${failure.exitstatus}' (${failure.exitreason})`);
  t.is(failure.exitreason, 'token check: the credentials of user admin are rejected (authentication failed)');
  t.is(await lastResult(cluster, shallow), '0', 'the API monitor stays green');
  t.is(failedOperation(status, shallow), undefined);
  t.true(started(status, 'p_keystone'), 'Keystone stays Started');
  t.is(await cluster.failCount('p_keystone'), failures, 'no fail count');
  t.is(daemonPid('keystone:p_keystone'), pid, 'nothing restarted');
  t.is(await throughVip(cluster), '200', 'Keystone keeps serving');

  writeFileSync(files.passwordFile, `${ADMIN_PASSWORD}\n`);
  await until('the token monitor to pass again', async () => (await lastResult(cluster, deep)) === '0', 60_000);
  const repaired = await cluster.status();
  t.true(allStarted(repaired));
  t.is(failedOperation(repaired, deep)?.exitcode, OCF_DEGRADED, 'crm_mon keeps showing what happened until a cleanup (Pacemaker 2.1)');
  t.is(await cluster.failCount('p_keystone'), failures);
  t.is(daemonPid('keystone:p_keystone'), pid, 'still the same Keystone, no cleanup needed');
  t.is(await throughVip(cluster), '200');
});

test.serial('10. Redis stopped under ceilometer: its monitor shows OCF_DEGRADED with our reason in crm_mon, nothing restarts; Redis back, the monitor passes again with no cleanup', async (t) => {
  const { cluster, scratch } = t.context;
  await cluster.waitForStatus('every resource Started', allStarted, 120_000);
  const monitor = 'p_ceilometer_monitor_5000';
  t.is(await lastResult(cluster, monitor), '0');
  const pid = daemonPid('ceilometer:p_ceilometer');
  const failures = await cluster.failCount('p_ceilometer');
  const [member] = await liveMembers(cluster);
  t.truthy(member, 'a live member before the outage');
  // Stopped with its data saved, as a Redis with persistence stops: it comes back with the group.
  await cluster.exec('redis-cli', ['-p', String(REDIS_PORT), 'SHUTDOWN', 'SAVE']);
  let restarted = false;
  const startRedis = () => {
    cluster.background('/usr/bin/redis-server', redisArguments(join(scratch, 'redis')));
    restarted = true;
  };
  t.teardown(() => (restarted ? undefined : startRedis()));
  const status = await cluster.waitForStatus('ceilometer\'s monitor to report degraded', (s) => failedOperation(s, monitor)?.exitcode === OCF_DEGRADED, 60_000);
  const failure = failedOperation(status, monitor)!;
  t.log(`crm_mon: ${failure.op_key} returned '${failure.exitstatus}' (${failure.exitreason})`);
  t.regex(failure.exitreason ?? '', new RegExp(`^coordination backend redis://127\\.0\\.0\\.1:${REDIS_PORT} unreachable \\(connection refused\\): partitioning`));
  t.true(started(status, 'p_ceilometer'), 'ceilometer stays Started');
  t.is(await cluster.failCount('p_ceilometer'), failures, 'no fail count');
  t.is(daemonPid('ceilometer:p_ceilometer'), pid, 'nothing restarted');

  startRedis();
  await until('ceilometer\'s monitor to pass again', async () => (await lastResult(cluster, monitor)) === '0', 60_000);
  const repaired = await cluster.status();
  t.true(allStarted(repaired));
  t.is(failedOperation(repaired, monitor)?.exitcode, OCF_DEGRADED, 'crm_mon keeps showing what happened until a cleanup (Pacemaker 2.1)');
  t.is(await cluster.failCount('p_ceilometer'), failures);
  t.is(daemonPid('ceilometer:p_ceilometer'), pid, 'still the same agent, no cleanup needed');
  await until('the same member to heartbeat in its group', async () => (await liveMembers(cluster)).join() === member, 30_000);
  t.deepEqual(await liveMembers(cluster), [member]);
});

test.serial('the harness refuses to start a second cluster beside a running one', async (t) => {
  await t.throwsAsync(Cluster.start(['memcached']), { message: /^refusing to start a test cluster: (.*, )?corosync \(pid \d+\).* already running on this machine$/ });
});

test('docs/pacemaker.md shows the crmsh and pcs commands this test runs', (t) => {
  const doc = readFileSync(join(projectRoot, 'docs', 'pacemaker.md'), 'utf8');
  const files: LayoutFiles = { haproxyConfig: '/etc/haproxy/haproxy.cfg', haproxySocket: '/run/haproxy/admin.sock', keystoneConfig: '/etc/keystone/keystone.conf', passwordFile: '/etc/keystone/admin-password', ceilometerConfig: '/etc/ceilometer/ceilometer.conf' };
  for (const command of crmCommands(files)) t.true(doc.includes(`crm configure ${command.join(' ')}`), command.join(' '));
  for (const command of pcsCommands(files)) t.true(doc.includes(`pcs ${command.join(' ')}`), command.join(' '));
});
