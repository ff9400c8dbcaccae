// The three-node controller layout brought up, the faults the failover scenarios inject, and what a
// client in the network namespace sees through the VIP while they happen. Shared by the end-to-end
// test (test/e2e/three-nodes.test.ts, which asserts) and `npm run bench:failover` (which prints the
// figures of both colocation variants).
import { appendFileSync, chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configurationLines, pcsDefaultOperations } from '../helpers/parsers/cib.ts';
import { copyKeystone, removeKeystone, type KeystoneFixture } from '../helpers/daemons/keystone.ts';
import { spawnClient, type ClientCounts } from '../helpers/client-loop.ts';
import { successfulFencings, type ClusterStatus } from '../helpers/parsers/crm-mon.ts';
import { buildDeb, NETWORK_ADDRESS, NODES, ThreeNodes, VIP, waitUntil, type ClusterNode } from '../helpers/clusters/three-nodes.ts';
import { EPMD, rabbitmqLaunch } from '../helpers/daemons/rabbitmq.ts';
import { stockLayout, stockNodeFiles, stockPidfileLinks, stockUwsgiIni, type LayoutName } from './stock-layout.ts';
import { establishedTo } from '../../shared/net/tcp-connections.ts';
import { childrenOf, msSinceStart, processTree } from '../../shared/process/proc.ts';
import { AMQP_PORT, BUS_CHECK_JUDGES_AFTER_MS, BUS_PROBE_POLLSTER, busProbePolling, ceilometerConfig, clusterCommands, crmCommands, crmCommandsOf, FRONTEND_PORT, haproxyConfig, type HaproxySetting, KEYSTONE_PORT, keystoneCacheSection, layoutPrimitives, MEMCACHED_PORT, PARTITIONING_PREFIX, pcsClusterCommands, pcsCommands, REDIS_PORT, TOTEM, type CacheSetting, type ThreeLayoutFiles, type Variant } from './three-layout.ts';

export const ADMIN_PASSWORD = 'three-admin-secret';
const KEYSTONE_ETC = '/etc/keystone';

/** One token request through the VIP: its HTTP status (000: no answer), its whole time (curl's time_total, ms), the token issued. */
export interface TokenRequest {
  readonly status: string;
  readonly ms: number;
  readonly token?: string;
}

export interface Figures {
  readonly outageMs: number;
  readonly failed: number;
  readonly sent: number;
  readonly counts: ClientCounts;
}

/** The whole layout for one colocation variant: the cluster, its files, Redis, and Keystone on every node. */
export class Controllers {
  readonly variant: Variant;
  readonly cluster: ThreeNodes;
  readonly files: ThreeLayoutFiles;
  private readonly scratch: string;
  private readonly copies: KeystoneFixture[];
  /** Each copy's keystone.conf without its [cache] section. */
  private readonly keystoneBase: string[];
  /** Keystone's oslo.cache setting on every node now (see CACHE_SETTINGS). */
  cacheSetting: CacheSetting;
  /** The stock layout's files are in place on every node (prepareStockFiles). */
  private stockPrepared = false;
  /** The layout configured last. */
  layoutName: LayoutName = 'ours';

  private constructor(variant: Variant, cluster: ThreeNodes, files: ThreeLayoutFiles, scratch: string, copies: KeystoneFixture[], keystoneBase: string[], cacheSetting: CacheSetting) {
    this.variant = variant;
    this.cluster = cluster;
    this.files = files;
    this.scratch = scratch;
    this.copies = copies;
    this.keystoneBase = keystoneBase;
    this.cacheSetting = cacheSetting;
  }

  /** Build the .deb (once per run, into `debDir`) and bring the cluster up with the layout configured. */
  static async start(variant: Variant, keystone: KeystoneFixture, deb: string, cacheSetting: CacheSetting = 'recommended'): Promise<Controllers> {
    const scratch = mkdtempSync(join(tmpdir(), 'ocf-three-files-'));
    chmodSync(scratch, 0o755);
    const copies = NODES.map(() => copyKeystone(keystone));
    const keystoneBase = copies.map((copy) => readFileSync(copy.config, 'utf8'));
    for (const copy of copies) appendFileSync(copy.config, `\n${keystoneCacheSection(cacheSetting)}`);
    const files: ThreeLayoutFiles = {
      haproxyConfig: join(scratch, 'haproxy.cfg'),
      haproxySocket: '/run/haproxy-ocf.sock',
      keystoneConfig: join(KEYSTONE_ETC, 'keystone.conf'),
      passwordFile: join(scratch, 'admin-password'),
      ceilometerConfig: join(scratch, 'ceilometer.conf'),
      fenceMap: '',
    };
    writeFileSync(files.haproxyConfig, haproxyConfig(files.haproxySocket));
    writeFileSync(join(scratch, 'polling.yaml'), busProbePolling());
    mkdirSync(join(scratch, 'pollsters.d'));
    writeFileSync(join(scratch, 'pollsters.d', 'bus-probe.yaml'), BUS_PROBE_POLLSTER);
    writeFileSync(files.ceilometerConfig, ceilometerConfig(join(scratch, 'polling.yaml'), join(scratch, 'pollsters.d')));
    writeFileSync(files.passwordFile, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
    let cluster: ThreeNodes | undefined;
    try {
      cluster = await ThreeNodes.start({
        deb,
        totem: TOTEM,
        prepareNode: async (node) => {
          // One Keystone bootstrap, copied: the same database content and keys on every node, at the same path.
          const copy = copies[NODES.findIndex((n) => n.name === node.name)]!;
          await node.ns.run('mount', '--bind', copy.dir, KEYSTONE_ETC);
          // HAProxy binds the VIP on nodes that do not hold it (vip-follows-haproxy runs it everywhere).
          await node.ns.run('sysctl', '-q', '-w', 'net.ipv4.ip_nonlocal_bind=1');
        },
      });
      mkdirSync(join(scratch, 'redis'));
      const controllers = new Controllers(variant, cluster, { ...files, fenceMap: cluster.mapFile }, scratch, copies, keystoneBase, cacheSetting);
      controllers.startRedis();
      controllers.cluster.network.background(EPMD, ['-address', NETWORK_ADDRESS]);
      await controllers.startRabbitmq();
      return controllers;
    } catch (error) {
      await cluster?.stop();
      for (const copy of copies) removeKeystone(copy);
      rmSync(scratch, { recursive: true, force: true });
      throw error;
    }
  }

  /** Redis, the coordination backend, in the network namespace (outside the cluster, as in the seed). */
  startRedis(): void {
    this.cluster.network.background('/usr/bin/redis-server', ['--port', String(REDIS_PORT), '--bind', NETWORK_ADDRESS, '--protected-mode', 'no',
      '--save', '', '--appendonly', 'no', '--dir', join(this.scratch, 'redis')]);
  }

  /**
   * RabbitMQ, the message bus, in the network namespace (outside the cluster, as in the seed),
   * its state kept in the scratch directory across a stop; returns once it accepts connections.
   */
  async startRabbitmq(): Promise<void> {
    const launch = rabbitmqLaunch(join(this.scratch, 'rabbitmq'), NETWORK_ADDRESS, AMQP_PORT);
    this.cluster.network.background(launch.file, launch.args, launch.env);
    // About 5 s alone; longer on 2 cores beside three nodes' daemons.
    await waitUntil(`RabbitMQ listening on ${NETWORK_ADDRESS}:${AMQP_PORT}`, async () => {
      const listening = await this.cluster.network.exec('ss', ['-Hltn', `sport = :${AMQP_PORT}`], undefined, 10_000);
      return listening.output.trim() !== '';
    }, 90_000, 500);
  }

  /** Whether this node's ceilometer agent holds a connection to the message bus (what its bus check looks for). */
  busConnected(node: ClusterNode): boolean {
    return establishedTo(processTree(this.daemonPid(node, 'ceilometer:p_ceilometer')), AMQP_PORT, NETWORK_ADDRESS).length > 0;
  }

  /** Whether this node's ceilometer bus check judges now: its worker is past the first-publish grace (BUS_CHECK_JUDGES_AFTER_MS). */
  busJudged(node: ClusterNode): boolean {
    const ages = childrenOf(this.daemonPid(node, 'ceilometer:p_ceilometer')).map((pid) => msSinceStart(pid) ?? 0);
    return ages.length > 0 && Math.min(...ages) >= BUS_CHECK_JUDGES_AFTER_MS;
  }

  /** The RabbitMQ broker (Erlang's beam.smp). */
  rabbitmqPid(): number {
    return this.networkProcess(/^beam\.smp$/);
  }

  /**
   * This node's fernet key repository replaced by an empty one (a node whose keys never arrived):
   * its Keystone answers GET /v3 but refuses every token. Returns the repair.
   */
  emptyFernetKeys(node: ClusterNode): () => void {
    const copy = this.copies[NODES.findIndex((n) => n.name === node.name)]!;
    const keys = join(copy.dir, 'fernet-keys');
    const aside = join(copy.dir, 'fernet-keys.aside');
    const { uid, gid, mode } = statSync(keys);
    renameSync(keys, aside);
    mkdirSync(keys, { mode: mode & 0o777 });
    chownSync(keys, uid, gid);
    return () => {
      rmSync(keys, { recursive: true, force: true });
      renameSync(aside, keys);
    };
  }

  /**
   * One node's own file broken, as a node's file goes wrong in the field (issue 16), by a file bound
   * over the shared one in that node's mount namespace, the other nodes' untouched:
   * - `haproxy-certificate`: its haproxy.cfg serves the VIP with TLS from a certificate this node
   *   lacks (haproxy -c fails here only);
   * - `ceilometer-typo`: a section header of its ceilometer.conf lost its closing bracket.
   * The running daemon keeps what it read; its next start reads the broken file. Returns the repair.
   */
  async breakFileOn(node: ClusterNode, fault: 'haproxy-certificate' | 'ceilometer-typo'): Promise<() => Promise<void>> {
    const target = fault === 'haproxy-certificate' ? this.files.haproxyConfig : this.files.ceilometerConfig;
    const text = readFileSync(target, 'utf8');
    const broken = fault === 'haproxy-certificate'
      ? text.replace(`bind ${VIP}:${FRONTEND_PORT}\n`, `bind ${VIP}:${FRONTEND_PORT} ssl crt ${join(this.scratch, `${node.name}-certs`, 'api.pem')}\n`)
      : text.replace('[coordination]\n', '[coordination\n');
    if (broken === text) throw new Error(`${fault}: nothing to break in ${target}`);
    const copy = join(this.scratch, `${node.name}-${fault}`);
    writeFileSync(copy, broken, { mode: 0o644 });
    await node.ns.run('mount', '--bind', copy, target);
    return async () => {
      // Lazily when busy (a process of the node holding the file open): gone for every new open at once.
      await node.ns.run('umount', target).catch(() => node.ns.run('umount', '-l', target));
      rmSync(copy, { force: true });
    };
  }

  /**
   * This node's Keystone pointed at a database path that does not exist ([database] connection in
   * its keystone.conf; the others' untouched): read at its next start. Returns the repair.
   */
  wrongDatabasePath(node: ClusterNode): () => void {
    const copy = this.copies[NODES.findIndex((n) => n.name === node.name)]!;
    const text = readFileSync(copy.config, 'utf8');
    const broken = text.replace(/^connection = sqlite:\/\/\/.*$/m, `connection = sqlite:///${join(copy.dir, 'no-such-directory', 'keystone.db')}`);
    if (broken === text) throw new Error(`no sqlite [database] connection in ${copy.config}`);
    writeFileSync(copy.config, broken);
    return () => writeFileSync(copy.config, text);
  }

  /**
   * Keystone's [cache] section on every node rewritten for `setting`, and Keystone stopped and
   * started everywhere (its target-role, with Pacemaker's own crm_resource: crmsh 5's `crm resource
   * restart` refuses in the test's namespaces, "Pacemaker is not running. No DC.") to read it.
   */
  async useCacheSetting(setting: CacheSetting): Promise<void> {
    this.copies.forEach((copy, i) => writeFileSync(copy.config, `${this.keystoneBase[i]}\n${keystoneCacheSection(setting)}`));
    this.cacheSetting = setting;
    const node = this.cluster.live();
    const targetRole = async (...args: string[]) => {
      const result = await node.exec('crm_resource', ['--resource', 'cl_keystone', '--meta', ...args], undefined, 30_000);
      if (result.code !== 0) throw new Error(`crm_resource --resource cl_keystone --meta ${args.join(' ')}: ${result.output}`);
    };
    await targetRole('--set-parameter', 'target-role', '--parameter-value', 'Stopped');
    try {
      await this.cluster.waitForStatus('Keystone stopped everywhere', (s) => !s.resources.some((r) => r.id.startsWith('p_keystone') && r.active), 120_000);
    } finally {
      // Never left stopped for the scenarios after.
      await targetRole('--delete-parameter', 'target-role');
    }
    await this.waitSettled();
  }

  /** Meta attributes of a resource set (a value) or removed (undefined), with Pacemaker's crm_resource. */
  async setMeta(resource: string, meta: Record<string, string | undefined>): Promise<void> {
    for (const [name, value] of Object.entries(meta)) {
      const args = ['--resource', resource, '--meta', ...(value === undefined ? ['--delete-parameter', name] : ['--set-parameter', name, '--parameter-value', value])];
      const result = await this.cluster.live().exec('crm_resource', args, undefined, 30_000);
      // Deleting what is not set is not an error worth stopping for (crm_resource says so and exits 0 or 6 by version).
      if (result.code !== 0 && value !== undefined) throw new Error(`crm_resource ${args.join(' ')}: ${result.output}`);
    }
  }

  /** HAProxy's configuration rewritten for `setting` (three-layout.ts) and every node's HAProxy reloaded through its agent. */
  async useHaproxySetting(setting: HaproxySetting): Promise<void> {
    writeFileSync(this.files.haproxyConfig, haproxyConfig(this.files.haproxySocket, setting));
    for (const node of this.cluster.nodes.filter((n) => n.up)) {
      const { code, output } = await this.runAgent(node, 'haproxy', 'reload', 20_000);
      if (code !== 0) throw new Error(`haproxy reload on ${node.name} exited ${code}: ${output.slice(-500)}`);
    }
  }

  /**
   * Successful fencings of a node in the cluster's history (stonith_admin, from a live node).
   * --verbose: without it stonith_admin lists one fencing per node (measured on Pacemaker 2.1.5:
   * the first of three), and a second fencing of the same node in one run was never counted.
   */
  async fencings(node: string): Promise<number> {
    const result = await this.cluster.live().exec('stonith_admin', ['--history', node, '--verbose', '--output-as=xml'], undefined, 20_000);
    return successfulFencings(result.output, node);
  }

  /** The redis-server process. */
  redisPid(): number {
    return this.networkProcess(/^redis-server$/);
  }

  /** The process of the network namespace (outside the cluster) whose name (/proc/PID/comm) matches `comm`. */
  private networkProcess(comm: RegExp): number {
    const pid = this.cluster.network.processesNamed(comm)[0];
    if (pid === undefined) throw new Error(`no process named ${comm} in the network namespace`);
    return pid;
  }

  /**
   * crm configure, every command, for the layout named (ours by default: the variant's; the stock
   * one, stock-layout.ts, always the recommended colocation); throws with crm's output on the first
   * that fails.
   */
  async configure(layout: LayoutName = 'ours'): Promise<void> {
    this.layoutName = layout;
    if (layout === 'stock') await this.prepareStockFiles();
    const commands = layout === 'stock' ? crmCommandsOf(stockLayout()) : crmCommands(this.files, this.variant);
    for (const command of [...clusterCommands(this.files), ...commands]) {
      const result = await this.cluster.crm('configure', ...command);
      if (result.code !== 0) throw new Error(`crm configure ${command.join(' ')}: ${result.output}`);
    }
  }

  /** The CIB's configuration section as comparable lines (test/helpers/cib.ts: ids each client invents left out). */
  async configuration(): Promise<string[]> {
    const result = await this.cluster.live().exec('cibadmin', ['--query', '--scope', 'configuration'], undefined, 30_000);
    if (result.code !== 0) throw new Error(`cibadmin --query: ${result.output}`);
    return configurationLines(result.output);
  }

  /**
   * Stop every resource through its agent, then remove the resources (the fence device too) and
   * the constraints, and their history. The cluster options stay.
   */
  async eraseLayout(): Promise<void> {
    const node = this.cluster.live();
    const stopAll = (...args: string[]) => node.exec('crm_attribute', ['--type', 'crm_config', '--name', 'stop-all-resources', ...args], undefined, 30_000);
    await stopAll('--update', 'true');
    await this.cluster.waitForStatus('every resource stopped', (s) => s.resources.every((r) => !r.active), 180_000);
    for (const scope of ['constraints', 'resources']) {
      const result = await node.exec('cibadmin', ['--replace', '--scope', scope, '--xml-text', `<${scope}/>`], undefined, 30_000);
      if (result.code !== 0) throw new Error(`cibadmin --replace --scope ${scope}: ${result.output}`);
    }
    await stopAll('--delete');
    await node.exec('crm_resource', ['--cleanup'], undefined, 60_000);
    await this.cluster.waitForStatus('no resources left', (s) => s.resources.length === 0 && s.failures.length === 0, 60_000);
  }

  /** The layout running replaced by the one named (eraseLayout, then configure), settled. */
  async useLayout(layout: LayoutName): Promise<void> {
    await this.eraseLayout();
    await this.configure(layout);
    await this.waitSettled(240_000);
  }

  /**
   * Each node's init scripts pointed at the layout's files (stockNodeFiles, bound over the paths the
   * scripts read, in the node's mount namespace), the package's uwsgi ini in its /etc/keystone, and
   * the log directories the packages make (a node's /var/log is its own here). Once per cluster.
   */
  private async prepareStockFiles(): Promise<void> {
    if (this.stockPrepared) return;
    const uwsgiIni = stockUwsgiIni(readFileSync('/etc/keystone/keystone-uwsgi.ini', 'utf8'));
    for (const node of this.cluster.nodes) {
      writeFileSync(join(this.copies[NODES.findIndex((n) => n.name === node.name)]!.dir, 'keystone-uwsgi.ini'), uwsgiIni, { mode: 0o644 });
      // The node's own /etc/default (a copy of the machine's, with its files added): a file the
      // machine lacks cannot be bound over on its own.
      const defaults = join(this.scratch, `${node.name}-etc-default`);
      cpSync('/etc/default', defaults, { recursive: true });
      await node.ns.run('mount', '--bind', defaults, '/etc/default');
      for (const [target, text] of Object.entries(stockNodeFiles(this.files, node.address))) {
        if (target.startsWith('/etc/default/')) {
          writeFileSync(join(defaults, target.slice('/etc/default/'.length)), text, { mode: 0o644 });
          continue;
        }
        const source = join(this.scratch, `${node.name}-${target.replaceAll('/', '_')}`);
        writeFileSync(source, text, { mode: 0o644 });
        await node.ns.run('mount', '--bind', source, target);
      }
      await node.ns.run('mount', '--bind', this.files.ceilometerConfig, '/etc/ceilometer/ceilometer.conf');
      for (const [dir, owner] of [['/var/log/keystone', 'keystone'], ['/var/log/ceilometer', 'ceilometer']] as const) {
        await node.ns.run('install', '-d', '-o', owner, '-g', 'adm', '-m', '0750', dir);
      }
    }
    this.stockPrepared = true;
    await this.linkStockPidfiles();
  }

  /**
   * On every node up, the stock init scripts' status pointed at their own pidfiles
   * (stockPidfileLinks). A node's /run is fresh after a power cycle: made again after one.
   */
  async linkStockPidfiles(): Promise<void> {
    if (this.layoutName !== 'stock') return;
    for (const node of this.cluster.nodes.filter((n) => n.up)) {
      for (const [link, pidfile] of Object.entries(stockPidfileLinks())) await node.ns.run('ln', '-sfn', pidfile, link);
    }
  }

  /** The same options, fence device and layout with pcs, every command; throws with pcs's output on the first that fails. */
  async configureWithPcs(): Promise<void> {
    for (const command of [...pcsClusterCommands(this.files), ...pcsCommands(this.files, this.variant)]) {
      const result = await this.cluster.pcs(...command);
      if (result.code !== 0) throw new Error(`pcs ${command.join(' ')}: ${result.output}`);
    }
  }

  /**
   * The operations pcs adds to crmsh's configuration: one per action of each agent's meta-data its
   * command did not name (the fence device: none, pcs adds only a monitor to a stonith resource).
   */
  async pcsOperations(): Promise<string[]> {
    const lines: string[] = [];
    for (const primitive of layoutPrimitives(this.files, this.variant)) {
      const metadata = await this.cluster.live().exec('crm_resource', ['--show-metadata', primitive.agent], undefined, 30_000);
      if (metadata.code !== 0) throw new Error(`crm_resource --show-metadata ${primitive.agent}: ${metadata.output}`);
      lines.push(...pcsDefaultOperations(primitive.id, metadata.output, primitive.ops.map((op) => op[0]!)));
    }
    return lines;
  }

  async stop(): Promise<void> {
    await this.cluster.stop();
    for (const copy of this.copies) removeKeystone(copy);
    rmSync(this.scratch, { recursive: true, force: true });
  }

  /** Where the VIP runs now (crm_mon), if anywhere. */
  static vipNode(status: ClusterStatus): string | undefined {
    const vip = status.resources.find((r) => r.id === 'vip');
    return vip?.active ? vip.nodes[0] : undefined;
  }

  /** Started instances of a primitive (clone instances included), by node. */
  static startedOn(status: ClusterStatus, primitive: string): string[] {
    return status.resources.filter((r) => r.id === primitive || r.id.startsWith(`${primitive}:`))
      .filter((r) => r.active && r.role === 'Started' && !r.failed).flatMap((r) => r.nodes);
  }

  /** Every resource where the layout puts it, on the given nodes (the VIP's HAProxy only, or HAProxy everywhere). */
  settled(nodes: readonly string[]): (status: ClusterStatus) => boolean {
    return (status) => {
      const vip = Controllers.vipNode(status);
      if (!vip || !nodes.includes(vip)) return false;
      const haproxy = Controllers.startedOn(status, 'haproxy');
      const haproxyWanted = this.variant === 'vip-follows-haproxy' ? nodes : [vip];
      if (!sameSet(haproxy, haproxyWanted)) return false;
      return ['p_keystone', 'p_memcached', 'p_ceilometer'].every((id) => sameSet(Controllers.startedOn(status, id), nodes));
    };
  }

  liveNames(): string[] {
    return this.cluster.nodes.filter((n) => n.up).map((n) => n.name);
  }

  /**
   * After a failed test, the cluster as the next test expects it: every node powered on, every
   * resource's failures cleaned up (a ban by a 5 or 6 with them), then every resource Started. Without
   * it one failure fails every later test at its first waitSettled, 3 minutes each (in the CI run of
   * 2026-12-07 that failed, part 1 took 52 minutes where 20 are usual). What it did, for the test's log.
   */
  async recoverAfterFailure(): Promise<string> {
    const done: string[] = [];
    for (const node of this.cluster.nodes.filter((n) => !n.up)) {
      await this.cluster.powerOn(node.name);
      done.push(`${node.name} powered on`);
    }
    // Pacemaker's own tools, the same on both releases: no node left in standby, then every
    // resource's failures cleaned on every node.
    for (const node of this.cluster.nodes) {
      await this.cluster.live().exec('crm_attribute', ['--node', node.name, '--name', 'standby', '--delete'], undefined, 30_000);
    }
    const cleanup = await this.cluster.live().exec('crm_resource', ['--cleanup'], undefined, 60_000);
    done.push(`crm_resource --cleanup: exit ${cleanup.code}`);
    // Within ava's 5 min without news (--timeout), with the power-on before it.
    await this.waitSettled(150_000);
    done.push('every resource Started');
    return done.join('; ');
  }

  async waitSettled(timeoutMs = 180_000, nodes = this.liveNames()): Promise<ClusterStatus> {
    return this.cluster.waitForStatus(`every resource Started on ${nodes.join(', ')}`, this.settled(nodes), timeoutMs);
  }

  /** A GET through the VIP from the network namespace: the HTTP status, or 000. */
  throughVip(path = '/v3'): Promise<string> {
    return this.statusOf(`http://${VIP}:${FRONTEND_PORT}${path}`);
  }

  /** A GET from the network namespace, at most 3 s: the HTTP status, or 000. */
  private async statusOf(url: string): Promise<string> {
    const result = await this.cluster.network.exec('curl', ['-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', url], undefined, 10_000);
    return result.output.trim();
  }

  /** A token issued through the VIP (the password from a file, never in argv). */
  async issueToken(): Promise<string> {
    const request = await this.requestToken(10_000);
    if (!request.token) throw new Error(`no token through the VIP: HTTP ${request.status} after ${request.ms} ms`);
    return request.token;
  }

  /** POST /v3/auth/tokens through the VIP as admin, bounded by `timeoutMs`: status, time, token. */
  async requestToken(timeoutMs: number): Promise<TokenRequest> {
    const body = join(this.scratch, 'token-request.json');
    writeFileSync(body, JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD } } },
      scope: { project: { name: 'admin', domain: { id: 'default' } } } } }), { mode: 0o600 });
    try {
      const result = await this.timedCurl(timeoutMs, ['-D', '-', '-H', 'Content-Type: application/json', '--data-binary', `@${body}`, `http://${VIP}:${FRONTEND_PORT}/v3/auth/tokens`]);
      const token = /^x-subject-token:\s*(\S+)/im.exec(result.output)?.[1];
      return { status: result.status, ms: result.ms, ...(token ? { token } : {}) };
    } finally {
      rmSync(body, { force: true });
    }
  }

  /** GET /v3/auth/tokens through the VIP: the token validated with itself, bounded by `timeoutMs`. */
  validateThroughVip(token: string, timeoutMs: number): Promise<TokenRequest> {
    return this.validateAt(`http://${VIP}:${FRONTEND_PORT}/v3/auth/tokens`, token, timeoutMs);
  }

  /** GET `url` (a /v3/auth/tokens) with the token validating itself, its headers from a file (never in argv). */
  private async validateAt(url: string, token: string, timeoutMs: number): Promise<TokenRequest> {
    const headers = join(this.scratch, 'validate-headers');
    writeFileSync(headers, `X-Auth-Token: ${token}\nX-Subject-Token: ${token}\n`, { mode: 0o600 });
    try {
      const { status, ms } = await this.timedCurl(timeoutMs, ['-o', '/dev/null', '-H', `@${headers}`, url]);
      return { status, ms };
    } finally {
      rmSync(headers, { force: true });
    }
  }

  /** curl in the network namespace; its last line carries the status and time_total (s), read back as ms. */
  private async timedCurl(timeoutMs: number, args: string[]): Promise<{ status: string; ms: number; output: string }> {
    const result = await this.cluster.network.exec('curl', ['-s', '-m', String(timeoutMs / 1000), '-w', '\\n%{http_code} %{time_total}\\n', ...args], undefined, timeoutMs + 10_000);
    const last = /(\d{3}) (\d+(?:\.\d+)?)\s*$/.exec(result.output);
    if (!last) throw new Error(`curl printed no status and time: ${result.output.slice(-200)}`);
    return { status: last[1]!, ms: Math.round(Number(last[2]) * 1000), output: result.output };
  }

  /** GET /v3 from this node's own Keystone (not through the VIP): the HTTP status, or 000. */
  versionOn(node: ClusterNode): Promise<string> {
    return this.statusOf(`http://${node.address}:${KEYSTONE_PORT}/v3`);
  }

  /** Does this node's own Keystone (not through the VIP) validate the token? The HTTP status. */
  async validateOn(node: ClusterNode, token: string): Promise<string> {
    return (await this.validateAt(`http://${node.address}:${KEYSTONE_PORT}/v3/auth/tokens`, token, 10_000)).status;
  }

  /** Does the node's memcached answer `version` on the node's own address (asked from the network namespace, as Keystone's clients ask)? */
  async memcachedAnswers(node: ClusterNode): Promise<boolean> {
    const probe = `import socket;s=socket.create_connection(('${node.address}',${MEMCACHED_PORT}),2);s.sendall(b'version\\r\\n');print(s.recv(64).decode())`;
    return /^VERSION /.test((await this.cluster.network.exec('python3', ['-c', probe], undefined, 10_000)).output);
  }

  /** The local addresses memcached's port is listened on in the node (ss), e.g. ['192.0.2.12:11211']. */
  async memcachedListening(node: ClusterNode): Promise<string[]> {
    const result = await node.exec('ss', ['-ltnH', `sport = :${MEMCACHED_PORT}`], undefined, 10_000);
    return result.output.split('\n').map((line) => line.trim().split(/\s+/)[3]).filter((address): address is string => Boolean(address)).sort();
  }

  /** One Redis command on the coordination backend, its reply's lines. */
  async redis(...args: string[]): Promise<string[]> {
    const result = await this.cluster.network.exec('redis-cli', ['-h', NETWORK_ADDRESS, '-p', String(REDIS_PORT), '--raw', ...args], undefined, 10_000);
    return result.output.trim().split('\n').filter(Boolean);
  }

  /** Members of ceilometer's partitioning group with a live heartbeat in Redis. */
  async liveMembers(): Promise<string[]> {
    const redis = (...args: string[]) => this.redis(...args);
    const members = await redis('HKEYS', `_tooz_group:central-${PARTITIONING_PREFIX}-global`);
    const live: string[] = [];
    for (const member of members) if ((await redis('EXISTS', `_tooz_beats:${member}`))[0] === '1') live.push(member);
    return live;
  }

  /** Each node's daemon of a resource now (daemonPid), by node name. */
  daemonPids(nodes: readonly ClusterNode[], marker: string): Map<string, number> {
    return new Map(nodes.map((node) => [node.name, this.daemonPid(node, marker)]));
  }

  /** The nodes of `before` (daemonPids) whose daemon of the resource is another now, or none: restarted or gone. */
  restartedSince(before: ReadonlyMap<string, number>, marker: string): string[] {
    return [...before].filter(([name, pid]) => {
      try {
        return this.daemonPid(this.cluster.node(name), marker) !== pid;
      } catch {
        return true;
      }
    }).map(([name]) => name);
  }

  /** The daemon an agent launched on a node for a resource (it carries the resource's marker, its parent does not). */
  daemonPid(node: ClusterNode, marker: string): number {
    const carriers = new Map<number, number>();
    for (const pid of node.ns.processes()) {
      try {
        if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`OCF_OPENSTACK_RESOURCE=${marker}`)) continue;
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        carriers.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        // gone meanwhile
      }
    }
    const leaders = [...carriers].filter(([, parent]) => !carriers.has(parent)).map(([pid]) => pid);
    if (leaders.length !== 1) throw new Error(`expected one daemon for ${marker} on ${node.name}, found ${leaders.join(', ') || 'none'}`);
    return leaders[0]!;
  }

  /**
   * One of the layout's agents run on `node` by hand, as an operator or configuration management
   * runs it: the resource's parameters from the layout, the instance name Pacemaker gives an
   * anonymous clone's instance, the action's timeout from the agent's meta-data default (`timeoutMs`).
   * The exit code and what the agent printed.
   */
  async runAgent(node: ClusterNode, primitive: string, action: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
    const spec = layoutPrimitives(this.files, this.variant).find((p) => p.id === primitive);
    if (!spec) throw new Error(`no primitive ${primitive} in the layout`);
    const type = spec.agent.split(':').at(-1)!;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: primitive, OCF_RESOURCE_TYPE: type, OCF_RESOURCE_PROVIDER: 'openstack',
      OCF_RESKEY_CRM_meta_timeout: String(timeoutMs), OCF_RESKEY_CRM_meta_on_node: node.name,
      ...(spec.clone ? { OCF_RESKEY_CRM_meta_clone_max: String(NODES.length), OCF_RESKEY_CRM_meta_clone_node_max: '1' } : {}),
      ...Object.fromEntries(spec.params.map((param) => {
        const at = param.indexOf('=');
        return [`OCF_RESKEY_${param.slice(0, at)}`, param.slice(at + 1)];
      })),
    };
    const result = await node.exec(`/usr/lib/ocf/resource.d/openstack/${type}`, [action], env, timeoutMs + 10_000);
    return { code: result.code, output: result.output };
  }

  /** Sessions HAProxy on `node` has sent each Keystone server since it started (its stats socket's stot), by node name. */
  async sessionsByServer(node: ClusterNode): Promise<Map<string, number>> {
    const probe = `import socket;s=socket.socket(socket.AF_UNIX);s.connect('${this.files.haproxySocket}');s.sendall(b'show stat\\n');d=b''
while True:
  c=s.recv(65536)
  if not c: break
  d+=c
print(d.decode())`;
    const csv = (await node.exec('python3', ['-c', probe], undefined, 10_000)).output;
    const rows = csv.split('\n').filter((line) => line.startsWith('keystone_public_internal_cluster,controller')).map((line) => line.split(','));
    if (!rows.length) throw new Error(`no server statistics from HAProxy on ${node.name}: ${csv.slice(0, 300)}`);
    return new Map(rows.map((row) => [NODES[Number(row[1]!.replace('controller', '')) - 1]!.name, Number(row[7])]));
  }

  /** The Keystone server HAProxy on `node` sent most requests to (its stats socket): the one the client's source hashes to. */
  async busiestBackend(node: ClusterNode): Promise<string> {
    return [...(await this.sessionsByServer(node))].sort(([, a], [, b]) => b - a)[0]![0];
  }

  /** A client loop through the VIP around `during`: what it saw. */
  async measure(during: () => Promise<void>, maxMs = 240_000): Promise<Figures> {
    const client = spawnClient(['nsenter', '-t', String(this.cluster.network.pid), '-n'], VIP, FRONTEND_PORT,
      { path: '/v3', timeoutMs: 1000, pauseMs: 20, limit: 100_000, maxMs });
    try {
      await Promise.race([client.ready, new Promise((_, reject) => setTimeout(() => reject(new Error('no answer through the VIP before the fault')), 30_000))]);
      await during();
      // The last answers after recovery close the longest gap.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const counts = await client.finish();
      return { outageMs: counts.longestGapMs, failed: counts.failed, sent: counts.sent, counts };
    } finally {
      client.kill();
    }
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Build the .deb once for a run (scratch directory removed by the caller). */
export async function packageForNodes(): Promise<{ deb: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ocf-three-deb-'));
  try {
    return { deb: await buildDeb(dir), dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export { waitUntil, type ClusterNode };
