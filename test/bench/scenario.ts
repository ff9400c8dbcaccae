// A benchmark scenario: bring up a real daemon, offer pairs of commands to measure, tear down.
import { readFileSync } from 'node:fs';
import type { Pair } from './measure.ts';

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

/** The pid line of our pidfile, as the reference's pidfile: anything runs `kill -0 $(cat pidfile)`. */
export function onlyPid(pidfile: string): string {
  return `${readFileSync(pidfile, 'utf8').split('\n')[0]}\n`;
}
