// Three controllers, each in its own network, mount and UTS namespaces with its own corosync (knet
// over its own address), pacemakerd, /etc/corosync, /var/lib/pacemaker, /var/lib/corosync, /run,
// /dev/shm, /var/log, hostname and OCF root, joined by veth links to a bridge in a fourth
// "network" namespace, where Redis and the test's client live. The agents come from the .deb's
// tree (extracted with dpkg-deb, laid over /usr/lib/ocf and /usr/libexec inside each node), the
// fence agent from test/e2e/fence (laid over /usr/sbin, where Pacemaker looks for fence_*).
// Fencing stays on: fence_ocftest "powers off" a node by killing every process in its network
// namespace and taking its link down; powerOn boots it again.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot, runProgram, type Program } from '../agent.ts';
import { Namespaces, refuseBesideRunningCluster } from '../namespaces.ts';
import { failureLines, parseStatus, type ClusterStatus } from '../parsers/crm-mon.ts';
import { corosyncConf, crmAndWait, logDirectory, mountVolatile, preparePacemakerNode, startPacemaker, type CorosyncNode, type Totem } from './pacemaker.ts';
import { waitFor } from '../processes.ts';

export const SUBNET_PREFIX = 24;
export const NETWORK_ADDRESS = '192.0.2.10';
export const VIP = '192.0.2.11';
export const NODES: readonly CorosyncNode[] = [
  { name: 'node1', address: '192.0.2.12', id: 1 },
  { name: 'node2', address: '192.0.2.13', id: 2 },
  { name: 'node3', address: '192.0.2.14', id: 3 },
];
export const FENCE_AGENT_DIR = join(projectRoot, 'test', 'e2e', 'fence');

export class ClusterNode {
  readonly name: string;
  readonly address: string;
  readonly dir: string;
  readonly ns: Namespaces;
  /** Its corosync and pacemakerd were started and it was not powered off since. */
  up = false;

  constructor(node: CorosyncNode, dir: string, ns: Namespaces) {
    this.name = node.name;
    this.address = node.address;
    this.dir = dir;
    this.ns = ns;
  }

  get bridgePort(): string {
    return `port-${this.name}`;
  }

  exec(file: string, args: readonly string[], env?: NodeJS.ProcessEnv, timeoutMs?: number): Promise<Program> {
    return this.ns.exec(file, args, env, timeoutMs);
  }

  get logs(): string {
    return logDirectory(this.dir);
  }

  /** The IPv4 addresses on its eth0 now. */
  async addresses(): Promise<string[]> {
    const result = await this.exec('ip', ['-o', '-4', 'address', 'show', 'dev', 'eth0'], undefined, 10_000);
    return [...result.output.matchAll(/inet (\S+)\//g)].map((m) => m[1]!);
  }
}

export interface ThreeNodeOptions {
  /** A built .deb of this project: its tree is what each node runs. */
  readonly deb: string;
  readonly totem: Totem;
  /** Per node, before Pacemaker starts: files, sysctls, mounts. */
  readonly prepareNode?: (node: ClusterNode) => Promise<void>;
}

export class ThreeNodes {
  readonly scratch: string;
  readonly network: Namespaces;
  readonly nodes: ClusterNode[] = [];
  readonly mapFile: string;

  private constructor(scratch: string, network: Namespaces) {
    this.scratch = scratch;
    this.network = network;
    this.mapFile = join(scratch, 'fence-map');
  }

  static async start(options: ThreeNodeOptions): Promise<ThreeNodes> {
    refuseBesideRunningCluster();
    const scratch = mkdtempSync(join(tmpdir(), 'ocf-three-'));
    let cluster: ThreeNodes | undefined;
    try {
      cluster = new ThreeNodes(scratch, await Namespaces.create(['net']));
      await cluster.build(options);
      return cluster;
    } catch (error) {
      if (cluster) {
        process.stderr.write(`three-node cluster did not start; logs were in ${cluster.logPlaces()}\n`);
        await cluster.stop();
      } else {
        rmSync(scratch, { recursive: true, force: true });
      }
      throw error;
    }
  }

  private async build(options: ThreeNodeOptions): Promise<void> {
    // The package's tree, as dpkg would install it.
    const root = join(this.scratch, 'package-root');
    mkdirSync(root);
    const extracted = spawnSync('dpkg-deb', ['-x', options.deb, root], { encoding: 'utf8' });
    if (extracted.status !== 0) throw new Error(`dpkg-deb -x ${options.deb}: ${extracted.stderr}`);

    await this.network.run('ip', 'link', 'set', 'lo', 'up');
    await this.network.run('ip', 'link', 'add', 'br0', 'type', 'bridge');
    await this.network.run('ip', 'address', 'add', `${NETWORK_ADDRESS}/${SUBNET_PREFIX}`, 'dev', 'br0');
    await this.network.run('ip', 'link', 'set', 'br0', 'up');

    const conf = corosyncConf(NODES, options.totem);
    // Every node knows the others by name (crmsh pings a node before it puts it in standby).
    const hosts = join(this.scratch, 'hosts');
    writeFileSync(hosts, `127.0.0.1 localhost\n::1 localhost\n${NODES.map((n) => `${n.address} ${n.name}\n`).join('')}`);
    for (const spec of NODES) {
      const ns = await Namespaces.create(['mount', 'net', 'uts']);
      const node = new ClusterNode(spec, join(this.scratch, spec.name), ns);
      this.nodes.push(node);
      await ns.run('hostname', spec.name);
      await ns.run('mount', '--bind', hosts, '/etc/hosts');
      await preparePacemakerNode(ns, node.dir, conf);
      await ns.run('mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${join(root, 'usr/lib/ocf')}:/usr/lib/ocf`, '/usr/lib/ocf');
      await ns.run('mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${join(root, 'usr/libexec')}:/usr/libexec`, '/usr/libexec');
      await ns.run('mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${FENCE_AGENT_DIR}:/usr/sbin`, '/usr/sbin');
      await this.network.run('ip', 'link', 'add', node.bridgePort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(ns.pid));
      await this.network.run('ip', 'link', 'set', node.bridgePort, 'master', 'br0', 'up');
      await this.connect(node);
      await options.prepareNode?.(node);
    }
    writeFileSync(this.mapFile, this.nodes.map((n) => `${n.name} ${n.ns.pid} ${this.network.pid} ${n.bridgePort}\n`).join(''));

    await Promise.all(this.nodes.map((node) => this.boot(node)));
    await this.waitForStatus('three nodes online and a DC elected', (s) => s.nodes.length === 3 && s.nodes.every((n) => n.online) && s.dc, 180_000);
  }

  /** The node's own address on its link, and the link up at both ends. */
  private async connect(node: ClusterNode): Promise<void> {
    await node.ns.run('ip', 'address', 'add', `${node.address}/${SUBNET_PREFIX}`, 'dev', 'eth0');
    await node.ns.run('ip', 'link', 'set', 'eth0', 'up');
    await this.network.run('ip', 'link', 'set', node.bridgePort, 'up');
  }

  private async boot(node: ClusterNode): Promise<void> {
    node.up = true;
    await startPacemaker(node.ns, node.dir);
  }

  node(name: string): ClusterNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  /** A node whose Pacemaker runs (to ask crm_mon or crm), preferring the given one. */
  live(prefer?: string): ClusterNode {
    const node = this.nodes.find((n) => n.up && n.name === prefer) ?? this.nodes.find((n) => n.up);
    if (!node) throw new Error('no node of the three-node cluster is up');
    return node;
  }

  /** crmsh on a live node, as an operator types it. */
  crm(...args: string[]): Promise<Program> {
    const node = this.live();
    return crmAndWait((file, list) => node.exec(file, list), args);
  }

  /** pcs 0.11 on a live node, as an operator types it; without pcsd it works on the CIB directly. */
  pcs(...args: string[]): Promise<Program> {
    return this.live().exec('pcs', args);
  }

  async status(on?: string): Promise<ClusterStatus> {
    const result = await this.live(on).exec('crm_mon', ['-1', '--output-as=xml', '--include=nodes,resources,failures,failcounts'], undefined, 30_000);
    return parseStatus(result.output);
  }

  /** Poll crm_mon until `ready` says yes; throws with the last status when time runs out. */
  async waitForStatus(what: string, ready: (status: ClusterStatus) => boolean, timeoutMs: number, on?: string): Promise<ClusterStatus> {
    const until = Date.now() + timeoutMs;
    let status = await this.status(on);
    while (!ready(status)) {
      if (Date.now() > until) {
        // The failures first: a caller that cuts the message keeps what explains it.
        throw new Error(`timed out waiting for ${what}; failures in crm_mon:\n${failureLines(status)}\ncrm_mon says:\n${status.xml}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      status = await this.status(on);
    }
    return status;
  }

  /** The fence agent's own power cut, without warning (run from the machine, as a PDU would). */
  async powerOff(name: string): Promise<void> {
    const node = this.node(name);
    node.up = false;
    const result = await runProgram(join(FENCE_AGENT_DIR, 'fence_ocftest'), ['-o', 'off', '-n', name, `--map=${this.mapFile}`], { PATH: process.env.PATH ?? '' }, 30_000);
    if (result.code !== 0) throw new Error(`fence_ocftest off ${name}: ${result.output}`);
  }

  /** Cut the node's link at the bridge (the node keeps running, alone). */
  async cutLink(name: string): Promise<void> {
    await this.network.run('ip', 'link', 'set', this.node(name).bridgePort, 'down');
  }

  /** Power the node on again: a fresh /run and /dev/shm, its link and address, corosync and pacemakerd. */
  async powerOn(name: string): Promise<void> {
    const node = this.node(name);
    await node.ns.killAll();
    await node.ns.exec('ip', ['address', 'flush', 'dev', 'eth0']);
    await mountVolatile(node.ns);
    await this.connect(node);
    await this.boot(node);
  }

  /** Where to look when something went wrong. */
  logPlaces(): string {
    return this.nodes.map((n) => `${n.name}: ${n.logs}/{corosync,pacemaker}.log`).join('; ') || this.scratch;
  }

  /** Stop every resource through its agent, then the daemons, then the namespaces; remove every file. */
  async stop(): Promise<void> {
    const live = this.nodes.filter((n) => n.up);
    if (live.length) {
      await this.live().exec('crm_attribute', ['--type', 'crm_config', '--name', 'stop-all-resources', '--update', 'true'], undefined, 30_000);
      await this.waitForStatus('all resources stopped', (s) => s.resources.every((r) => !r.active || r.id.startsWith('fence')), 120_000).catch(() => undefined);
      await Promise.all(live.map((node) => node.ns.stopDaemons(30_000)));
    }
    for (const node of this.nodes) await node.ns.destroy();
    await this.network.destroy();
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** Build the .deb of the current dist/ into `out` (about 30 s): the tree the nodes run. */
export async function buildDeb(out: string): Promise<string> {
  const { buildPackages } = await import('../../../build/package.ts');
  const [deb] = await buildPackages({ dist: join(projectRoot, 'dist'), out, formats: ['deb'] });
  return deb!;
}

export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 200): Promise<void> {
  if (!(await waitFor(check, timeoutMs, intervalMs))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
