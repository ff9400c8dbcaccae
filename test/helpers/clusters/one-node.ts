// A real one-node Pacemaker cluster (corosync with knet on 127.0.0.1, pacemakerd) for the end-to-end
// tests. It lives in private mount and network namespaces: /etc/corosync, /var/lib/pacemaker,
// /var/lib/corosync, /var/log/pacemaker, /run, /dev/shm and /usr/lib/ocf/resource.d are its own, its
// addresses and ports are its own, and stopping it leaves nothing behind on the machine.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binaryPath, type Program } from '../agent.ts';
import { Namespaces, refuseBesideRunningCluster } from '../namespaces.ts';
import { parseStatus, type ClusterStatus } from '../parsers/crm-mon.ts';
import { corosyncConf, crmAndWait, preparePacemakerNode, readLog, startPacemaker } from './pacemaker.ts';

export { parseStatus, type ClusterStatus, type ResourceState } from '../parsers/crm-mon.ts';

export class Cluster {
  readonly scratch: string;
  private readonly ns: Namespaces;
  private started = false;

  private constructor(scratch: string, ns: Namespaces) {
    this.scratch = scratch;
    this.ns = ns;
  }

  /** Bring the cluster up with the given agents installed as ocf:openstack:*. Refuses to touch a real cluster. */
  static async start(agents: readonly string[]): Promise<Cluster> {
    refuseBesideRunningCluster();
    const scratch = mkdtempSync(join(tmpdir(), 'ocf-cluster-'));
    let ns: Namespaces;
    try {
      ns = await Namespaces.create(['mount', 'net']);
    } catch (error) {
      rmSync(scratch, { recursive: true, force: true });
      throw error;
    }
    const cluster = new Cluster(scratch, ns);
    try {
      await preparePacemakerNode(ns, scratch, corosyncConf([{ name: 'node1', address: '127.0.0.1', id: 1 }]));
      await cluster.installAgents(agents);
      cluster.started = true;
      await startPacemaker(ns, scratch);
      await cluster.waitForStatus('node1 online and a DC elected', (status) => status.online && status.dc, 120_000);
      const property = await cluster.exec('crm_attribute', ['--type', 'crm_config', '--name', 'stonith-enabled', '--update', 'false']);
      if (property.code !== 0) throw new Error(property.output);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Run a program inside the cluster's namespaces. */
  exec(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): Promise<Program> {
    return this.ns.exec(file, args, env, timeoutMs);
  }

  /** crmsh, as an operator types it. */
  async crm(...args: string[]): Promise<Program> {
    return crmAndWait((file, list) => this.exec(file, list), args);
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
    return readLog(this.scratch, name);
  }

  /** The agents: the OCF root Pacemaker searches gets an openstack provider of ours, beside the distribution's heartbeat and pacemaker providers. */
  private async installAgents(agents: readonly string[]): Promise<void> {
    const resourceD = join(this.scratch, 'resource.d');
    for (const provider of ['heartbeat', 'pacemaker', 'openstack']) mkdirSync(join(resourceD, provider), { recursive: true });
    for (const agent of agents) symlinkSync(binaryPath, join(resourceD, 'openstack', agent));
    for (const provider of ['heartbeat', 'pacemaker']) {
      await this.ns.run('mount', '--bind', `/usr/lib/ocf/resource.d/${provider}`, join(resourceD, provider));
    }
    await this.ns.run('mount', '--rbind', resourceD, '/usr/lib/ocf/resource.d'); // --rbind: with the providers bound inside it
  }

  /** Start a program inside the cluster's namespaces that lives as long as the cluster (stopped in reverse order). */
  background(file: string, args: readonly string[], env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '' }): ChildProcess {
    return this.ns.background(file, args, env);
  }

  /** Stop every resource through its agent, then the daemons, then the namespaces. */
  async stop(): Promise<void> {
    if (this.started) {
      await this.exec('crm_attribute', ['--type', 'crm_config', '--name', 'stop-all-resources', '--update', 'true']);
      await this.waitForStatus('all resources stopped', (s) => s.resources.every((r) => !r.active), 120_000).catch(() => undefined);
      await this.ns.stopDaemons();
    }
    // Anything still living in the cluster's network namespace (a daemon a failed stop left) goes too.
    await this.ns.destroy();
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
