// Issue 19's scenarios: one controller's memcached lost in four ways while a token client works
// through the VIP. Every Keystone caches in the three controllers' memcached servers (its
// [cache] section, three-layout.ts), so each fault reaches every Keystone, not only the victim's:
// what it costs a client is up to the cache client's settings. The victim is neither the VIP's
// node nor the Keystone the client's requests go to, so that the VIP's failover (measured by
// scenarios.ts) and the victim's own Keystone do not mix into the cache's cost.
import { isAlive } from '../../shared/process/proc.ts';
import type { ClusterStatus } from '../helpers/parsers/crm-mon.ts';
import { Controllers, waitUntil, type ClusterNode } from './failover.ts';

export const TOKEN_SCENARIOS = ['memcached-killed', 'memcached-frozen', 'standby', 'node-lost'] as const;
export type TokenScenario = typeof TOKEN_SCENARIOS[number];

/** Issue 19's target with the recommended settings: no failed token request, none slower than this (ms). */
export const TOKEN_TARGET_MS = 3000;
/**
 * What the e2e suite asserts of the slowest request (ms): the target plus 1 s for a loaded CI
 * machine. Every run so far met the target, the closest 2874 ms (node-lost, Debian 13, in a whole
 * CI rehearsal where everything ran about 1.3 times slower); a client paying serial timeouts (4031
 * ms with dogpile.cache.memcached, 10 s with pymemcache) still fails it. The bench prints the figures.
 */
export const TOKEN_SLOWEST_MS = TOKEN_TARGET_MS + 1000;
/** A token request's own bound (ms): longer is a failure (and far over the target). */
const REQUEST_TIMEOUT_MS = 10_000;
/** The client's bounds: requests in all, and time (ms). */
const LIMIT = 4000;
const MAX_MS = 300_000;
/** How long the client goes on once the cluster has settled after the fault, and after the repair (ms). */
const SETTLED_MS = 5000;

export interface TokenFigures {
  /** Requests sent, issues and validations: each round issues a token, then validates it, both through the VIP. */
  readonly sent: number;
  readonly failed: number;
  /** Failures by status (000: no answer within REQUEST_TIMEOUT_MS). */
  readonly errors: Record<string, number>;
  /**
   * Over both kinds of request: an issue (a password hashed, about 300 ms on 2 cores) and a
   * validation (about 30 ms), so p50 falls on either side of the two; p99 and the longest say more.
   */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The client stopped on its own bounds (LIMIT, MAX_MS) before the scenario ended: figures miss its end. */
  readonly truncated: boolean;
}

export interface TokenOutcome {
  readonly figures: TokenFigures;
  readonly victim: string;
  /**
   * Nodes whose Keystone was restarted (its pid changed) during the scenario: the others, and the
   * victim too where its Keystone is meant to keep running (memcached killed or frozen).
   */
  readonly keystoneRestartedOn: string[];
  /** Failed Keystone operations in crm_mon after the scenario that were not there before. */
  readonly keystoneFailures: string[];
  /** memcached-killed and memcached-frozen: from the fault to a new memcached answering on the victim (ms). */
  readonly memcachedBackMs?: number;
  readonly status: ClusterStatus;
}

/** The p-th percentile (0 < p <= 100) by nearest rank; 0 for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The line `npm run bench:failover` and the test print for a scenario and a setting. */
export function tokensLine(scenario: TokenScenario, setting: string, f: TokenFigures): string {
  return `tokens ${scenario} ${setting} sent=${f.sent} failed=${f.failed} p50_ms=${f.p50Ms} p99_ms=${f.p99Ms} max_ms=${f.maxMs}`;
}

/** Issue-then-validate rounds through the VIP, one after the other, until stopped or bounded. */
function tokenClient(c: Controllers): { stop: () => Promise<TokenFigures> } {
  const times: number[] = [];
  const errors: Record<string, number> = {};
  let failed = 0;
  let running = true;
  const until = Date.now() + MAX_MS;
  // An issue answers 201 with the token in X-Subject-Token; a validation answers 200.
  const record = (ok: boolean, status: string, ms: number): boolean => {
    times.push(ms);
    if (ok) return true;
    failed++;
    errors[status] = (errors[status] ?? 0) + 1;
    return false;
  };
  // A request curl could not make at all (killed at its bound, not spawned) is a failure too,
  // never an unhandled rejection that ends the run without its teardown.
  const attempt = async (request: () => Promise<{ status: string; ms: number; token?: string }>) => {
    const started = Date.now();
    return request().catch(() => ({ status: 'error', ms: Date.now() - started, token: undefined }));
  };
  const loop = (async () => {
    while (running && times.length < LIMIT && Date.now() < until) {
      const issued = await attempt(() => c.requestToken(REQUEST_TIMEOUT_MS));
      if (!record(issued.status === '201' && issued.token !== undefined, issued.token === undefined && issued.status === '201' ? 'no token' : issued.status, issued.ms)) continue;
      const validated = await attempt(() => c.validateThroughVip(issued.token!, REQUEST_TIMEOUT_MS));
      record(validated.status === '200', validated.status, validated.ms);
    }
  })();
  return {
    stop: async () => {
      const truncated = times.length >= LIMIT || Date.now() >= until;
      running = false;
      await loop;
      return { sent: times.length, failed, errors, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99), maxMs: Math.max(0, ...times), truncated };
    },
  };
}

function keystoneFailureKeys(status: ClusterStatus): string[] {
  return status.failures.filter((f) => f.id.startsWith('p_keystone')).map((f) => `${f.node} ${f.task} ${f.exitstatus} ${f.exitreason}`);
}

/**
 * Neither the VIP's node nor the node whose Keystone HAProxy sends the client to now: the server
 * whose session count grew across a few requests (a count since HAProxy started may still name
 * where an earlier scenario sent the client).
 */
async function quietNode(c: Controllers): Promise<ClusterNode> {
  const vip = Controllers.vipNode(await c.cluster.status());
  if (!vip) throw new Error('the VIP runs nowhere');
  const holder = c.cluster.node(vip);
  const before = await c.sessionsByServer(holder);
  for (let i = 0; i < 5; i++) await c.throughVip();
  const after = await c.sessionsByServer(holder);
  const grown = [...after].sort(([a, x], [b, y]) => (y - (before.get(b) ?? 0)) - (x - (before.get(a) ?? 0)))[0]?.[0];
  if (!grown) throw new Error(`no server statistics from HAProxy on ${vip}`);
  return c.cluster.nodes.find((node) => node.name !== vip && node.name !== grown)!;
}

/** A new memcached on `node` (not `before`) that answers on the node's address. */
async function memcachedReplaced(c: Controllers, node: ClusterNode, before: number): Promise<boolean> {
  try {
    return c.daemonPid(node, 'memcached:p_memcached') !== before && await c.memcachedAnswers(node);
  } catch {
    return false;
  }
}

/** Run one token scenario with the cluster's current cache setting; the cluster is settled on three nodes after it. */
export async function tokenScenario(c: Controllers, scenario: TokenScenario): Promise<TokenOutcome> {
  await c.waitSettled(180_000, c.cluster.nodes.map((n) => n.name));
  const victim = await quietNode(c);
  const others = c.cluster.nodes.filter((node) => node !== victim);
  // In standby and node-lost the victim's Keystone stops by design; otherwise it must not restart.
  const keptRunning = scenario === 'memcached-killed' || scenario === 'memcached-frozen' ? c.cluster.nodes : others;
  const pidsBefore = c.daemonPids(keptRunning, 'keystone:p_keystone');
  const failuresBefore = keystoneFailureKeys(await c.cluster.status());
  const client = tokenClient(c);
  let memcachedBackMs: number | undefined;
  let figures: TokenFigures | undefined;
  try {
    // A few rounds before the fault: the caches are warm, as in a running cloud.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const faultAt = Date.now();
    if (scenario === 'memcached-killed' || scenario === 'memcached-frozen') {
      const pid = c.daemonPid(victim, 'memcached:p_memcached');
      process.kill(pid, scenario === 'memcached-killed' ? 'SIGKILL' : 'SIGSTOP');
      try {
        // Pacemaker's memcached monitor (10 s) finds it dead or frozen; the agent stops it (a
        // frozen one with SIGKILL at once) and starts a new one.
        await waitUntil(`a new memcached on ${victim.name}`, () => memcachedReplaced(c, victim, pid), 90_000, 250);
        memcachedBackMs = Date.now() - faultAt;
      } finally {
        if (isAlive(pid)) process.kill(pid, 'SIGCONT');
      }
    } else if (scenario === 'standby') {
      const online = async () => {
        const back = await c.cluster.crm('node', 'online', victim.name);
        if (back.code !== 0) throw new Error(`crm node online ${victim.name}: ${back.output}`);
      };
      try {
        const away = await c.cluster.crm('node', 'standby', victim.name);
        if (away.code !== 0) throw new Error(`crm node standby ${victim.name}: ${away.output}`);
        await c.waitSettled(120_000, others.map((n) => n.name));
        await new Promise((resolve) => setTimeout(resolve, SETTLED_MS));
      } catch (error) {
        // The next scenarios need the node back.
        await online().catch(() => undefined);
        throw error;
      }
      await online();
    } else {
      // Its link cut: a black hole (connections time out, nothing refuses them) until the others fence it.
      const fencedBefore = await c.fencings(victim.name);
      await c.cluster.cutLink(victim.name);
      victim.up = false;
      try {
        await c.waitSettled(120_000, others.map((n) => n.name));
        await waitUntil(`the others to fence ${victim.name}`, async () => (await c.fencings(victim.name)) > fencedBefore, 60_000, 500);
        await new Promise((resolve) => setTimeout(resolve, SETTLED_MS));
      } finally {
        await c.cluster.powerOn(victim.name);
      }
    }
    const status = await c.waitSettled(180_000, c.cluster.nodes.map((n) => n.name));
    await new Promise((resolve) => setTimeout(resolve, SETTLED_MS));
    figures = await client.stop();
    const pidsAfter = c.daemonPids(keptRunning, 'keystone:p_keystone');
    const after = await c.cluster.status();
    return {
      figures, victim: victim.name, status,
      keystoneRestartedOn: keptRunning.filter((node) => pidsAfter.get(node.name) !== pidsBefore.get(node.name)).map((node) => node.name),
      keystoneFailures: keystoneFailureKeys(after).filter((key) => !failuresBefore.includes(key)),
      ...(memcachedBackMs === undefined ? {} : { memcachedBackMs }),
    };
  } finally {
    if (!figures) await client.stop().catch(() => undefined);
  }
}
