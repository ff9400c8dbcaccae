// A memcached resource for tests that drive the compiled agent: a scratch HA_RSCTMP, a free port,
// and a daemon that never outlives the test (by its pidfile and by its marker).
import type { ExecutionContext } from 'ava';
import { join } from 'node:path';
import { callAgent, freePort, scratchDir, type AgentCall, type CallOptions } from '../agent.ts';
import { killAtEnd, killMarkedAtEnd } from '../processes.ts';

export interface MemcachedResource {
  readonly name: string;
  readonly options: CallOptions;
  readonly pidfile: string;
  readonly port: number;
}

/** `params` are OCF_RESKEY_ values; `pid` moves the pidfile out of the scratch HA_RSCTMP. */
export async function memcachedResource(t: ExecutionContext, name: string, params: Record<string, string> = {}): Promise<MemcachedResource> {
  const rscTmp = scratchDir(t);
  const port = await freePort();
  const pidfile = params.pid ?? join(rscTmp, `memcached-${name}.pid`);
  const options = { instance: name, rscTmp, params: { port: String(port), logfile: join(rscTmp, `memcached-${name}.log`), ...params } };
  killAtEnd(t, pidfile);
  killMarkedAtEnd(t, `memcached:${name}`);
  return { name, options, pidfile, port };
}

export function callMemcached(r: MemcachedResource, action: string, extra: Partial<CallOptions> = {}): Promise<AgentCall> {
  return callAgent('memcached', action, { ...r.options, ...extra });
}
