// A benchmark scenario: bring up a real daemon, offer pairs of commands to measure, tear down.
import { readFileSync } from 'node:fs';
import { loadAgent } from '../../agents/index.ts';
import type { MonitorDepth } from '../../shared/ocf/agent.ts';
import { agentPath, ocfEnvironment, type CallOptions } from '../helpers/agent.ts';
import type { Command, Pair } from './measure.ts';

export interface Prepared {
  readonly pairs: readonly Pair[];
  tearDown(): Promise<void>;
}

export interface Scenario {
  readonly name: string;
  setUp(): Promise<Prepared>;
}

/** The shell reference every daemon agent is compared with: resource-agents' ocf:heartbeat:anything. */
export const ANYTHING = '/usr/lib/ocf/resource.d/heartbeat/anything';

export function anythingMonitor(instance: string, binfile: string, pidfile: string): Pair['reference'] {
  return {
    argv: [ANYTHING, 'monitor'],
    env: {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      OCF_ROOT: '/usr/lib/ocf',
      OCF_RA_VERSION_MAJOR: '1',
      OCF_RESOURCE_INSTANCE: instance,
      OCF_RESKEY_CRM_meta_interval: '10000',
      OCF_RESKEY_CRM_meta_timeout: '20000',
      OCF_RESKEY_binfile: binfile,
      OCF_RESKEY_pidfile: pidfile,
    },
  };
}

/**
 * One pair per monitor depth the agent declares: our monitor with that OCF_CHECK_LEVEL against the
 * reference the scenario names for it.
 */
export async function depthPairs(
  agent: 'memcached' | 'haproxy' | 'keystone' | 'ceilometer',
  options: CallOptions,
  referenceFor: (depth: MonitorDepth) => { command: Command; name: string },
): Promise<Pair[]> {
  const { depths } = (await loadAgent(agent)).actions.monitor;
  return depths.map((depth) => {
    const reference = referenceFor(depth);
    return {
      name: `${agent} monitor, OCF_CHECK_LEVEL=${depth.level} (${depth.name}: ${depth.checks})`,
      ours: { argv: [agentPath(agent), 'monitor'], env: ocfEnvironment(agent, { ...options, env: { ...options.env, OCF_CHECK_LEVEL: String(depth.level) } }) },
      reference: reference.command,
      referenceName: reference.name,
    };
  });
}

/** The pid line of our pidfile, as the reference's pidfile: anything runs `kill -0 $(cat pidfile)`. */
export function onlyPid(pidfile: string): string {
  return `${readFileSync(pidfile, 'utf8').split('\n')[0]}\n`;
}
