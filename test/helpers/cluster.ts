// A real one-node Pacemaker cluster (corosync with knet on 127.0.0.1, pacemakerd) for the end-to-end
// tests. It lives in private mount and network namespaces: /etc/corosync, /var/lib/pacemaker,
// /var/lib/corosync, /var/log/pacemaker, /run, /dev/shm and /usr/lib/ocf/resource.d are its own, its
// addresses and ports are its own, and stopping it leaves nothing behind on the machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binaryPath, runProgram, type Program } from './agent.ts';
import { isAlive, kill, waitFor } from './processes.ts';

const COROSYNC_CONF = `totem {
    version: 2
    cluster_name: ocf-openstack-test
    transport: knet
    crypto_cipher: none
    crypto_hash: none
}
nodelist {
    node {
        ring0_addr: 127.0.0.1
        name: node1
        nodeid: 1
    }
}
quorum {
    provider: corosync_votequorum
}
logging {
    to_logfile: yes
    logfile: /var/log/pacemaker/corosync.log
    to_syslog: no
    to_stderr: no
    timestamp: on
}
`;

function runningDaemons(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const name = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (name === 'corosync' || name === 'pacemakerd' || name.startsWith('pacemaker-')) found.push(`${name} (pid ${entry})`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function accountIds(name: string, file: string): number {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no ${name} in ${file}: is pacemaker installed?`);
  return Number(line.split(':')[2]);
}

export interface ResourceState {
  readonly id: string;
  readonly role: string;
  readonly active: boolean;
  readonly failed: boolean;
}

export interface ClusterStatus {
  readonly xml: string;
  readonly online: boolean;
  readonly resources: ResourceState[];
  /** Failed operations with the agent's exit reason, as crm_mon shows them. */
  readonly failures: { id: string; task: string; exitstatus: string; exitreason: string }[];
}

function attributes(tag: string): Record<string, string> {
  const result: Record<string, string> = {};
  const entities: Record<string, string> = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' };
  const decode = (text: string) => text.replace(/&(quot|apos|lt|gt|amp|#\d+);/g, (_, name: string) =>
    name.startsWith('#') ? String.fromCharCode(Number(name.slice(1))) : entities[name]!);
  // Pacemaker 2.1 stores exit reasons escaped and crm_mon escapes them again: decode twice.
  for (const match of tag.matchAll(/([\w-]+)="([^"]*)"/g)) result[match[1]!] = decode(decode(match[2]!));
  return result;
}

export function parseStatus(xml: string): ClusterStatus {
  const node = /<node name="node1"[^>]*>/.exec(xml)?.[0] ?? '';
  const resources = [...xml.matchAll(/<resource [^>]*>/g)].map((m) => attributes(m[0])).map((a) => ({
    id: a.id ?? '', role: a.role ?? '', active: a.active === 'true', failed: a.failed === 'true',
  }));
  const failures = [...xml.matchAll(/<failure [^>]*>/g)].map((m) => attributes(m[0])).map((a) => ({
    id: (a.op_key ?? '').replace(/_[a-z-]+_\d+$/, ''), task: a.task ?? '', exitstatus: a.exitstatus ?? '', exitreason: a.exitreason ?? '',
  }));
  return { xml, online: attributes(node).online === 'true', resources, failures };
}

export class Cluster {
  readonly scratch: string;
  private readonly holder: ChildProcess;
  private readonly daemons: ChildProcess[] = [];

  private constructor(scratch: string, holder: ChildProcess) {
    this.scratch = scratch;
    this.holder = holder;
  }

  /** Bring the cluster up with the given agents installed as ocf:openstack:*. Refuses to touch a real cluster. */
  static async start(agents: readonly string[]): Promise<Cluster> {
    const running = runningDaemons();
    if (running.length) throw new Error(`refusing to start a test cluster: ${running.join(', ')} already running on this machine`);
    const scratch = mkdtempSync(join(tmpdir(), 'ocf-cluster-'));
    const holder = spawn('unshare', ['--mount', '--net', '--propagation', 'private', '--', 'sleep', 'infinity'], { stdio: 'ignore', detached: true });
    const cluster = new Cluster(scratch, holder);
    try {
      await cluster.prepareNamespace(agents);
      await cluster.startDaemons();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Run a program inside the cluster's namespaces. */
  exec(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): Promise<Program> {
    return runProgram('nsenter', ['-t', String(this.holder.pid), '-m', '-n', '--', file, ...args], env, timeoutMs);
  }

  /** crmsh, as an operator types it. */
  async crm(...args: string[]): Promise<Program> {
    return this.exec('crm', ['-w', ...args]);
  }

  /** pcs 0.11, as an operator types it; without pcsd it works on the CIB and crm_resource directly. */
  async pcs(...args: string[]): Promise<Program> {
    return this.exec('pcs', args);
  }

  async status(): Promise<ClusterStatus> {
    const result = await this.exec('crm_mon', ['-1', '--output-as=xml', '--include=failcounts,operations']);
    return parseStatus(result.output);
  }

  async failCount(resource: string): Promise<number> {
    const result = await this.exec('crm_failcount', ['--query', '-r', resource, '-N', 'node1']);
    return Number(/value=(\d+|INFINITY)/.exec(result.output)?.[1]?.replace('INFINITY', '1000000') ?? 0);
  }

  /** Poll crm_mon until `ready` says yes; throws with the last status when time runs out. */
  async waitForStatus(what: string, ready: (status: ClusterStatus) => boolean, timeoutMs: number): Promise<ClusterStatus> {
    const until = Date.now() + timeoutMs;
    let status = await this.status();
    while (!ready(status)) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; crm_mon says:\n${status.xml}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      status = await this.status();
    }
    return status;
  }

  log(name: 'pacemaker.log' | 'corosync.log'): string {
    try {
      return readFileSync(join(this.scratch, 'log', name), 'utf8');
    } catch {
      return '';
    }
  }

  private async inside(file: string, ...args: string[]): Promise<void> {
    const result = await this.exec(file, args);
    if (result.code !== 0) throw new Error(`${file} ${args.join(' ')}: ${result.output}`);
  }

  private async prepareNamespace(agents: readonly string[]): Promise<void> {
    if (!(await waitFor(() => existsSync(`/proc/${this.holder.pid}/ns/mnt`), 5000))) throw new Error('unshare did not start');
    const hacluster = accountIds('hacluster', '/etc/passwd');
    const haclient = accountIds('haclient', '/etc/group');
    const dirs: Record<string, string> = {
      '/etc/corosync': join(this.scratch, 'corosync-etc'),
      '/var/lib/corosync': join(this.scratch, 'corosync-lib'),
      '/var/lib/pacemaker': join(this.scratch, 'pacemaker-lib'),
      '/var/log/pacemaker': join(this.scratch, 'log'),
    };
    for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dirs['/etc/corosync']!, 'corosync.conf'), COROSYNC_CONF);
    for (const sub of ['cib', 'pengine', 'blackbox', 'cores']) {
      const dir = join(dirs['/var/lib/pacemaker']!, sub);
      mkdirSync(dir, { mode: 0o750 });
      chownSync(dir, hacluster, haclient);
    }
    chownSync(dirs['/var/log/pacemaker']!, hacluster, haclient);
    // The agents: the OCF root Pacemaker searches gets an openstack provider of ours, beside the
    // distribution's heartbeat and pacemaker providers.
    const resourceD = join(this.scratch, 'resource.d');
    for (const provider of ['heartbeat', 'pacemaker', 'openstack']) mkdirSync(join(resourceD, provider), { recursive: true });
    for (const agent of agents) symlinkSync(binaryPath, join(resourceD, 'openstack', agent));

    await this.inside('ip', 'link', 'set', 'lo', 'up');
    await this.inside('mount', '-t', 'tmpfs', 'tmpfs', '/run');
    await this.inside('mount', '-t', 'tmpfs', 'tmpfs', '/dev/shm');
    for (const [target, source] of Object.entries(dirs)) await this.inside('mount', '--bind', source, target);
    for (const provider of ['heartbeat', 'pacemaker']) {
      await this.inside('mount', '--bind', `/usr/lib/ocf/resource.d/${provider}`, join(resourceD, provider));
    }
    await this.inside('mount', '--rbind', resourceD, '/usr/lib/ocf/resource.d'); // --rbind: with the providers bound inside it
  }

  private async startDaemons(): Promise<void> {
    const env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      PCMK_logfile: '/var/log/pacemaker/pacemaker.log',
      PCMK_logfacility: 'none',
      HA_LOGFACILITY: 'none',
    };
    const launch = (file: string, args: string[]) => this.background(file, args, env);
    launch('corosync', ['-f']);
    const quorate = await waitFor(async () => (await this.exec('corosync-cfgtool', ['-s'])).code === 0, 30_000, 500);
    if (!quorate) throw new Error(`corosync did not come up:\n${this.log('corosync.log')}`);
    launch('pacemakerd', []);
    await this.waitForStatus('node1 online', (status) => status.online, 120_000);
    const property = await this.exec('crm_attribute', ['--type', 'crm_config', '--name', 'stonith-enabled', '--update', 'false']);
    if (property.code !== 0) throw new Error(property.output);
  }

  /** Start a program inside the cluster's namespaces that lives as long as the cluster (stopped in reverse order). */
  background(file: string, args: readonly string[], env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '' }): ChildProcess {
    const child = spawn('nsenter', ['-t', String(this.holder.pid), '-m', '-n', '--', file, ...args], { env, stdio: 'ignore' });
    this.daemons.push(child);
    return child;
  }

  /** Stop every resource through its agent, then the daemons, then the namespaces. */
  async stop(): Promise<void> {
    if (this.daemons.length) {
      await this.exec('crm_attribute', ['--type', 'crm_config', '--name', 'stop-all-resources', '--update', 'true']);
      await this.waitForStatus('all resources stopped', (s) => s.resources.every((r) => !r.active), 120_000).catch(() => undefined);
      for (const child of [...this.daemons].reverse()) {
        kill(child.pid, 'SIGTERM');
        await waitFor(() => child.exitCode !== null || child.signalCode !== null, 60_000, 500);
      }
    }
    // Anything still living in the cluster's network namespace (a daemon a failed stop left) goes too.
    const namespace = safeReadlink(`/proc/${this.holder.pid}/ns/net`);
    for (const entry of readdirSync('/proc')) {
      if (/^\d+$/.test(entry) && Number(entry) !== this.holder.pid && namespace && safeReadlink(`/proc/${entry}/ns/net`) === namespace) {
        kill(Number(entry), 'SIGKILL');
      }
    }
    kill(this.holder.pid, 'SIGKILL');
    await waitFor(() => !isAlive(this.holder.pid!), 10_000);
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
