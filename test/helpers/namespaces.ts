// The one way tests make namespaces, run programs inside them, and end everything in them: a holder
// process (`unshare ... sleep infinity`) keeps the namespaces alive, programs enter them with
// nsenter, and a namespace's end kills every process in it. A test's own node (networkNamespace: a
// network namespace whose addresses and sysctls the test sets without touching the host), the
// one-node cluster (clusters/one-node.ts) and the three-node cluster (clusters/three-nodes.ts) all
// stand on it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { agentPath, ocfEnvironment, runProgram, type AgentCall, type CallOptions, type Program } from './agent.ts';
import { isAlive, kill, waitFor } from './processes.ts';

export type NamespaceKind = 'mount' | 'net' | 'uts';

const NSENTER_FLAG: Record<NamespaceKind, string> = { mount: '-m', net: '-n', uts: '-u' };

/** Pacemaker's and corosync's daemons running anywhere on this machine. */
export function runningClusterDaemons(): string[] {
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

/** A test cluster never starts where another cluster (a real one, or another test's) runs. */
export function refuseBesideRunningCluster(): void {
  const running = runningClusterDaemons();
  if (running.length) throw new Error(`refusing to start a test cluster: ${running.join(', ')} already running on this machine`);
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

export class Namespaces {
  readonly holder: ChildProcess;
  private readonly flags: string[];
  private readonly daemons: ChildProcess[] = [];

  private constructor(holder: ChildProcess, kinds: readonly NamespaceKind[]) {
    this.holder = holder;
    this.flags = kinds.map((kind) => NSENTER_FLAG[kind]);
  }

  /** New namespaces of the given kinds (mounts private: nothing propagates back to the machine). */
  static async create(kinds: readonly NamespaceKind[]): Promise<Namespaces> {
    const options = kinds.map((kind) => `--${kind}`);
    const holder = spawn('unshare', [...options, ...(kinds.includes('mount') ? ['--propagation', 'private'] : []), '--', 'sleep', 'infinity'], { stdio: 'ignore', detached: true });
    const namespaces = new Namespaces(holder, kinds);
    const kind = kinds.includes('net') ? 'net' : kinds.includes('mount') ? 'mnt' : 'uts';
    const entered = await waitFor(() => existsSync(`/proc/${holder.pid}/ns/${kind}`) && safeReadlink(`/proc/${holder.pid}/ns/${kind}`) !== safeReadlink(`/proc/self/ns/${kind}`), 5000);
    if (!entered) {
      kill(holder.pid, 'SIGKILL');
      throw new Error('unshare did not start');
    }
    return namespaces;
  }

  get pid(): number {
    return this.holder.pid!;
  }

  /** The network namespace's identity, as /proc/PID/ns/net names it. */
  get netId(): string | undefined {
    return safeReadlink(`/proc/${this.pid}/ns/net`);
  }

  /** nsenter's arguments that run `file` inside the namespaces. */
  command(file: string, args: readonly string[]): string[] {
    return ['-t', String(this.pid), ...this.flags, '--', file, ...args];
  }

  /** Run a program inside the namespaces to its end. */
  exec(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): Promise<Program> {
    return runProgram('nsenter', this.command(file, args), env, timeoutMs);
  }

  /** exec, and throw with its output when it fails. */
  async run(file: string, ...args: string[]): Promise<string> {
    const result = await this.exec(file, args);
    if (result.code !== 0) throw new Error(`${file} ${args.join(' ')}: ${result.output}`);
    return result.output;
  }

  /** Start a program inside the namespaces that lives until it is stopped (stopDaemons, in reverse order) or the namespaces end. */
  background(file: string, args: readonly string[], env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '' }): ChildProcess {
    const child = spawn('nsenter', this.command(file, args), { env, stdio: 'ignore' });
    this.daemons.push(child);
    return child;
  }

  /** SIGTERM each background program, newest first, and wait for it (bounded). */
  async stopDaemons(timeoutMs = 60_000): Promise<void> {
    for (const child of this.daemons.splice(0).reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      kill(child.pid, 'SIGTERM');
      await waitFor(() => child.exitCode !== null || child.signalCode !== null, timeoutMs, 200);
    }
  }

  /** Every process in the network namespace but the holder. */
  processes(): number[] {
    const id = this.netId;
    if (!id) return [];
    return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number)
      .filter((pid) => pid !== this.pid && safeReadlink(`/proc/${pid}/ns/net`) === id);
  }

  /** The processes of the network namespace whose command name (/proc/PID/comm) matches. */
  processesNamed(comm: RegExp): number[] {
    return this.processes().filter((pid) => {
      try {
        return comm.test(readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
      } catch {
        return false; // gone meanwhile
      }
    });
  }

  /** SIGKILL every process in the network namespace (the holder stays: the namespaces live on). */
  async killAll(): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const pids = this.processes();
      if (!pids.length) break;
      for (const pid of pids) kill(pid, 'SIGKILL');
      await waitFor(() => pids.every((pid) => !isAlive(pid)), 2000);
    }
    this.daemons.splice(0);
  }

  /** The end: every process inside, then the holder, and with it the namespaces. */
  async destroy(): Promise<void> {
    await this.killAll();
    kill(this.pid, 'SIGKILL');
    await waitFor(() => !isAlive(this.pid), 10_000);
  }
}

/** A fresh network namespace with its loopback up, ended (with every process in it) when the test ends. */
export async function networkNamespace(t: ExecutionContext): Promise<Namespaces> {
  const ns = await Namespaces.create(['net']);
  t.teardown(() => ns.destroy());
  await ns.run('/usr/sbin/ip', 'link', 'set', 'lo', 'up');
  return ns;
}

/** Add an address (with its prefix, "198.51.100.10/32" or "fd00:10::10/128") to the namespace's lo: the VIP arrives. */
export async function addAddress(ns: Namespaces, cidr: string): Promise<void> {
  await ns.run('/usr/sbin/ip', 'address', 'add', cidr, 'dev', 'lo');
}

/** The VIP leaves. */
export async function removeAddress(ns: Namespaces, cidr: string): Promise<void> {
  await ns.run('/usr/sbin/ip', 'address', 'delete', cidr, 'dev', 'lo');
}

/** Set a sysctl inside the namespace only (net.* sysctls are per network namespace). */
export async function setSysctl(ns: Namespaces, name: string, value: string): Promise<void> {
  await ns.run('/usr/sbin/sysctl', '-q', '-w', `${name}=${value}`);
}

/** callAgent, with the agent running inside the namespace as Pacemaker would on that node. */
export function callAgentIn(ns: Namespaces, agent: string, action: string, options: CallOptions): Promise<AgentCall> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile('nsenter', ns.command(agentPath(agent), [action]), { env: ocfEnvironment(agent, options), timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      const reason = /^ocf-exit-reason:(.*)$/m.exec(stderr)?.[1];
      resolve({ code, stdout, stderr, reason, elapsedMs: Date.now() - started });
    });
  });
}
