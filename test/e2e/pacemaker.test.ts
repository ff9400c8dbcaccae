// The agents where they live: a real Pacemaker runs the seed's controller layout, and recovers it.
import anyTest, { type TestFn } from 'ava';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../helpers/agent.ts';
import { Cluster, type ClusterStatus } from '../helpers/cluster.ts';
import { prepareKeystone, removeKeystone, type KeystoneFixture } from '../helpers/keystone.ts';
import { requireProgram, waitFor } from '../helpers/processes.ts';
import { ceilometerConfig, crmCommands, FRONTEND_PORT, haproxyConfig, PARTITIONING_PREFIX, REDIS_PORT, VIP, type LayoutFiles } from './layout.ts';

interface Context {
  cluster: Cluster;
  keystone: KeystoneFixture;
  scratch: string;
  files: LayoutFiles;
}

const test = anyTest as TestFn<Context>;
const ADMIN_PASSWORD = 'e2e-admin-secret';

test.before(async (t) => {
  for (const program of ['/usr/sbin/corosync', '/usr/sbin/pacemakerd', '/usr/sbin/crm', '/usr/sbin/haproxy', '/usr/bin/memcached', '/usr/bin/uwsgi', '/usr/bin/curl', '/usr/bin/redis-server', '/usr/bin/ceilometer-polling']) {
    requireProgram(t, program);
  }
  const scratch = mkdtempSync(join(tmpdir(), 'ocf-e2e-'));
  chmodSync(scratch, 0o755);
  t.context.scratch = scratch;
  const [cluster, keystone] = await Promise.all([
    Cluster.start(['memcached', 'haproxy', 'keystone', 'ceilometer']),
    prepareKeystone(ADMIN_PASSWORD),
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
  cluster.background('/usr/bin/redis-server', ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir]);
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
  writeFileSync(broken, 'global\n    maxconn 100\n\nfrontend f\n    bind 127.0.0.1:5999\n    no-such-keyword here\n');
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
  t.is(failure.exitstatus, 'not configured', JSON.stringify(failure));
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

test.serial('the harness refuses to start a second cluster beside a running one', async (t) => {
  await t.throwsAsync(Cluster.start(['memcached']), { message: /^refusing to start a test cluster: corosync \(pid \d+\).* already running/ });
});

test('docs/pacemaker.md shows the commands this test runs', (t) => {
  const doc = readFileSync(join(projectRoot, 'docs', 'pacemaker.md'), 'utf8');
  const files: LayoutFiles = { haproxyConfig: '/etc/haproxy/haproxy.cfg', haproxySocket: '/run/haproxy/admin.sock', keystoneConfig: '/etc/keystone/keystone.conf', passwordFile: '/etc/keystone/admin-password', ceilometerConfig: '/etc/ceilometer/ceilometer.conf' };
  for (const command of crmCommands(files)) t.true(doc.includes(`crm configure ${command.join(' ')}`), command.join(' '));
});
