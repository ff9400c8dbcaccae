// Issue 20: the same faults injected into the stock layout (stock-layout.ts: the distribution's
// init scripts as lsb: resources) and into ours, on the same three controllers, and what each
// showed: the client's requests through the VIP (every one, for a timeline), the cluster's events
// as crm_mon showed them, when the cluster first acted, and what crm_mon showed at the end.
// `npm run bench:faults` (test/bench/faults.ts) runs the whole list and writes docs/faults.md;
// test/e2e/three-nodes.test.ts runs a shortened one and asserts.
//
// A fault is injected by what it does to processes and files, never through an agent, so that it
// is the same fault for both layouts: daemons are found by their command name among the node's
// processes (its network namespace), not by our agents' markers. Each fault is watched for a fixed
// time (its bound), the same for both layouts: an outage still going on at the bound counts up to
// it, and a cluster that did nothing by then "never" acted. Then it is repaired, and the cluster
// cleaned up (crm_resource --cleanup: failures and bans forgotten, nothing restarted) and settled.
import { spawnClient, type ClientCounts } from '../helpers/client-loop.ts';
import type { ClusterStatus } from '../helpers/parsers/crm-mon.ts';
import { isAlive } from '../../shared/process/proc.ts';
import { Controllers, waitUntil, type ClusterNode } from './failover.ts';
import { lockKeystoneDatabases, tokenLoop, vipHolder } from './scenarios.ts';
import { FRONTEND_PORT } from './three-layout.ts';
import { VIP } from '../helpers/clusters/three-nodes.ts';
import type { LayoutName } from './stock-layout.ts';

export const FAULTS = ['haproxy-killed', 'haproxy-frozen', 'keystone-frozen', 'keystone-database-locked', 'database-down', 'redis-down', 'node-lost'] as const;
export type Fault = typeof FAULTS[number];

/** One request through the VIP: sent at (ms since the fault; negative before), its whole time (ms), answered as wanted. */
export interface RequestMark {
  readonly at: number;
  readonly ms: number;
  readonly ok: boolean;
}

/** What crm_mon showed change, or what the bench did (fault, repair); `at`: ms since the fault. */
export interface ClusterEvent {
  readonly at: number;
  readonly kind: 'fault' | 'repair' | 'failed' | 'stop' | 'start' | 'vip' | 'node';
  readonly text: string;
}

/** One fault in one layout, as seen. */
export interface FaultRun {
  readonly fault: Fault;
  readonly layout: LayoutName;
  readonly boundMs: number;
  /** The node the fault was injected on (every node for a shared fault). */
  readonly victim: string;
  /** GET /v3 through the VIP, a new connection each, 1 s timeout, 20 ms pause. */
  readonly requests: readonly RequestMark[];
  /** Token requests (POST /v3/auth/tokens) through the VIP, one after the other, for the faults that touch them. */
  readonly tokens?: readonly RequestMark[];
  readonly events: readonly ClusterEvent[];
  /** The longest time without an answered GET /v3 within the bound (ms). */
  readonly outageMs: number;
  readonly failed: number;
  readonly sent: number;
  readonly tokensFailed?: number;
  readonly tokensSent?: number;
  /** From the fault to crm_mon's first change (a failed operation, a stop, a start, the VIP moved, a node lost); undefined: never within the bound. */
  readonly actedMs: number | undefined;
  /** What crm_mon showed at the bound: failed operations, instances not started, where the VIP was. */
  readonly shown: string;
}

interface FaultSpec {
  readonly title: string;
  /** How long it is watched (ms). */
  readonly boundMs: number;
  /** A token loop beside the GET loop: the fault breaks tokens, not the version document. */
  readonly tokens: boolean;
  /** Finds its victim, then injects; `at`: Date.now() when the fault took effect (after the lookup). */
  inject(c: Controllers): Promise<Injected>;
}

interface Injected {
  readonly victim: string;
  readonly at: number;
  readonly repair: () => Promise<void>;
}


const HAPROXY = /^haproxy$/;
// Keystone under uwsgi: `uwsgi` (ours runs /usr/bin/uwsgi) or `uwsgi_python3` (Debian's init script).
const UWSGI = /^uwsgi/;

async function vipNode(c: Controllers): Promise<ClusterNode> {
  return c.cluster.node(await vipHolder(c));
}

/** The node whose Keystone HAProxy on the VIP's node sends the client to (balance source: one for the client's address). */
async function clientsKeystone(c: Controllers): Promise<ClusterNode> {
  const vip = await vipNode(c);
  // Sessions counted across a few requests of the client's address: HAProxy's counters run from
  // its start, and an earlier fault may have sent the client elsewhere for a while.
  const before = await c.sessionsByServer(vip);
  for (let i = 0; i < 5; i++) await c.throughVip();
  const after = await c.sessionsByServer(vip);
  const [busiest] = [...after].map(([node, n]) => [node, n - (before.get(node) ?? 0)] as const).sort(([, a], [, b]) => b - a)[0]!;
  return c.cluster.node(busiest);
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
}

function freeze(node: ClusterNode, comm: RegExp, what: string): Injected {
  const pids = node.ns.processesNamed(comm);
  if (!pids.length) throw new Error(`no ${what} process on ${node.name}`);
  signalAll(pids, 'SIGSTOP');
  return { victim: node.name, at: Date.now(), repair: async () => signalAll(pids.filter(isAlive), 'SIGCONT') };
}

export const FAULT_SPECS: Record<Fault, FaultSpec> = {
  'haproxy-killed': {
    title: 'HAProxy killed (kill -9, every process) on the VIP\'s node',
    boundMs: 30_000,
    tokens: false,
    async inject(c) {
      const node = await vipNode(c);
      const pids = node.ns.processesNamed(HAPROXY);
      if (!pids.length) throw new Error(`no haproxy process on ${node.name}`);
      const at = Date.now();
      signalAll(pids, 'SIGKILL');
      return { victim: node.name, at, repair: async () => undefined };
    },
  },
  'haproxy-frozen': {
    title: 'HAProxy frozen (SIGSTOP, every process) on the VIP\'s node',
    boundMs: 30_000,
    tokens: false,
    inject: async (c) => freeze(await vipNode(c), HAPROXY, 'haproxy'),
  },
  'keystone-frozen': {
    title: 'Keystone frozen (SIGSTOP, every process) on a node that does not hold the VIP',
    boundMs: 45_000,
    tokens: true,
    async inject(c) {
      // The client's own Keystone when it is not on the VIP's node, else another node's.
      const vip = await vipNode(c);
      const clients = await clientsKeystone(c);
      const victim = clients.name !== vip.name ? clients : c.cluster.nodes.find((n) => n.up && n.name !== vip.name)!;
      return freeze(victim, UWSGI, 'keystone (uwsgi)');
    },
  },
  'keystone-database-locked': {
    title: 'Keystone\'s database unavailable on the node HAProxy sends the client to (locked): GET /v3 answers, tokens fail',
    boundMs: 90_000,
    tokens: true,
    async inject(c) {
      const node = await clientsKeystone(c);
      return { victim: node.name, ...(await lockKeystoneDatabases([node], 300)) };
    },
  },
  'database-down': {
    title: 'Keystone\'s database unavailable on every node (locked): a shared backend down',
    boundMs: 45_000,
    tokens: true,
    inject: async (c) => ({ victim: 'every node', ...(await lockKeystoneDatabases(c.cluster.nodes, 300)) }),
  },
  'redis-down': {
    title: 'Redis, ceilometer\'s coordination backend, unreachable (SIGSTOP): a shared backend down',
    boundMs: 45_000,
    tokens: false,
    async inject(c) {
      const redis = c.redisPid();
      const at = Date.now();
      process.kill(redis, 'SIGSTOP');
      return { victim: 'every node', at, repair: async () => void process.kill(redis, 'SIGCONT') };
    },
  },
  'node-lost': {
    title: 'The VIP\'s node lost (powered off without warning)',
    boundMs: 45_000,
    tokens: false,
    async inject(c) {
      const node = await vipNode(c);
      const at = Date.now();
      await c.cluster.powerOff(node.name);
      return { victim: node.name, at, repair: () => c.cluster.powerOn(node.name) };
    },
  },
};

/** Started instances by primitive and node ("haproxy@node1"), from crm_mon. */
function startedInstances(status: ClusterStatus): Set<string> {
  return new Set(status.resources.filter((r) => r.active && r.role === 'Started' && !r.failed)
    .flatMap((r) => r.nodes.map((node) => `${r.id.split(':')[0]}@${node}`)));
}

/** A failed operation as crm_mon shows it, in one line: resource, task, node, status and reason. */
function failureText(f: ClusterStatus['failures'][number]): string {
  return `${f.id.split(':')[0]} ${f.task} on ${f.node}: ${f.exitstatus} (${f.exitcode})${f.exitreason ? ` ${f.exitreason}` : ''}`;
}

/** What changed from one crm_mon to the next, as events at `at`. */
export function statusEvents(before: ClusterStatus, after: ClusterStatus, at: number): ClusterEvent[] {
  const events: ClusterEvent[] = [];
  const old = new Set(before.failures.map(failureText));
  for (const key of new Set(after.failures.map(failureText))) if (!old.has(key)) events.push({ at, kind: 'failed', text: key });
  const [was, now] = [startedInstances(before), startedInstances(after)];
  for (const instance of was) if (!now.has(instance) && !instance.startsWith('vip@')) events.push({ at, kind: 'stop', text: `${instance.replace('@', ' stopped on ')}` });
  for (const instance of now) if (!was.has(instance) && !instance.startsWith('vip@')) events.push({ at, kind: 'start', text: `${instance.replace('@', ' started on ')}` });
  const [vipWas, vipNow] = [Controllers.vipNode(before), Controllers.vipNode(after)];
  if (vipWas !== vipNow) events.push({ at, kind: 'vip', text: vipNow ? `VIP on ${vipNow}` : `VIP stopped (was on ${vipWas})` });
  const online = (s: ClusterStatus) => new Set(s.nodes.filter((n) => n.online).map((n) => n.name));
  const [onWas, onNow] = [online(before), online(after)];
  for (const node of onWas) if (!onNow.has(node)) events.push({ at, kind: 'node', text: `${node} offline` });
  for (const node of onNow) if (!onWas.has(node)) events.push({ at, kind: 'node', text: `${node} online` });
  return events;
}

/** What crm_mon shows now, in one line: failed operations, instances not started, the VIP. */
export function shownBy(status: ClusterStatus, nodes: readonly string[]): string {
  const started = startedInstances(status);
  const missing = ['haproxy', 'p_memcached', 'p_keystone', 'p_ceilometer'].flatMap((primitive) => nodes.filter((node) => !started.has(`${primitive}@${node}`)).map((node) => `${primitive}@${node}`));
  const offline = status.nodes.filter((n) => !n.online).map((n) => n.name);
  const parts = [
    ...status.failures.map((f) => `failed: ${failureText(f).slice(0, 160)}`),
    ...(missing.length ? [`not started: ${missing.join(', ')}`] : []),
    ...(offline.length ? [`offline: ${offline.join(', ')}`] : []),
    `VIP on ${Controllers.vipNode(status) ?? 'no node'}`,
  ];
  return parts.join('; ');
}

/**
 * The token loop's settings (scenarios.ts tokenLoop): a 2 s timeout, and a pause between two, since
 * back to back the logins' password hashing would take a core of the two and slow the GET loop
 * they are measured beside.
 */
const TOKEN_LOOP = { timeoutMs: 2000, pauseMs: 250 } as const;

/**
 * The longest time between two answers (a request answered, at its answer), or from the last to
 * `end` (ms), among those that end after the fault (0); answers after `end` are not counted.
 */
export function longestGap(marks: readonly RequestMark[], end: number): number {
  let longest = 0;
  let last: number | undefined;
  for (const mark of marks) {
    if (!mark.ok || mark.at + mark.ms > end) continue;
    const answered = mark.at + mark.ms;
    if (last !== undefined && answered > 0) longest = Math.max(longest, answered - last);
    last = answered;
  }
  return last === undefined ? end : Math.max(longest, end - last);
}

/**
 * Failures forgotten (a re-probe, nothing restarted), every resource where the layout puts it, and
 * serving: an init script's start returns before its daemon answers (Keystone under uwsgi: about
 * 10 s), so Started is not yet serving; a token through the VIP shows Keystone and its database.
 */
export async function cleanUp(c: Controllers): Promise<void> {
  await c.linkStockPidfiles();
  await c.cluster.live().exec('crm_resource', ['--cleanup'], undefined, 60_000);
  await c.waitSettled(240_000);
  await waitUntil('a token through the VIP', async () => !!(await c.issueToken().catch(() => undefined)), 120_000, 1000);
}

/**
 * One fault in the layout now running: injected after 3 s of a healthy client, watched for its
 * bound (crm_mon every 500 ms), repaired, the cluster cleaned up and settled. `boundMs` shortens
 * or lengthens the fault's own bound.
 */
export async function runFault(c: Controllers, layout: LayoutName, fault: Fault, boundMs = FAULT_SPECS[fault].boundMs): Promise<FaultRun> {
  const spec = FAULT_SPECS[fault];
  await cleanUp(c);
  const nodes = c.liveNames();
  const client = spawnClient(['nsenter', '-t', String(c.cluster.network.pid), '-n'], VIP, FRONTEND_PORT,
    { path: '/v3', timeoutMs: 1000, pauseMs: 20, limit: 100_000, maxMs: boundMs + 300_000, record: true });
  let tokens: ReturnType<typeof tokenLoop> | undefined;
  const events: ClusterEvent[] = [];
  let faultAt = 0;
  let shown = '';
  let victim = '';
  let counts: ClientCounts | undefined;
  try {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([client.ready, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer through the VIP before the fault')), 30_000)))])
      .finally(() => clearTimeout(timer));
    if (spec.tokens) tokens = tokenLoop(c, TOKEN_LOOP);
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      let last = await c.cluster.status();
      let injected: Injected | undefined;
      try {
        injected = await spec.inject(c);
        ({ victim, at: faultAt } = injected);
        events.push({ at: 0, kind: 'fault', text: `${fault} on ${victim}` });
        let reads = 0;
        while (Date.now() - faultAt < boundMs) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          const now = await c.cluster.status();
          // A cluster that did not answer (the DC being elected again) reads as no nodes: skipped.
          if (!now.nodes.length) continue;
          reads++;
          events.push(...statusEvents(last, now, Date.now() - faultAt));
          last = now;
        }
        // "Never acted" means crm_mon was read through the bound: at least one read every 2 s.
        if (reads < boundMs / 2000) throw new Error(`crm_mon answered ${reads} times in ${boundMs} ms`);
        shown = shownBy(last, nodes);
      } finally {
        const repairAt = Date.now();
        if (injected) events.push({ at: repairAt - faultAt, kind: 'repair', text: 'repaired' });
        await injected?.repair();
      }
    } finally {
      await tokens?.stop();
    }
    counts = await client.finish();
    const lastSent = (counts.marks ?? []).reduce((latest, [at]) => Math.max(latest, at), -Infinity) - faultAt;
    if (!(lastSent >= boundMs - 2000)) throw new Error(`the client loop stopped ${lastSent} ms after the fault, before the bound (${boundMs} ms)`);
  } finally {
    client.kill();
  }
  await cleanUp(c);
  const relative = (marks: readonly RequestMark[]) => marks.map((m) => ({ ...m, at: m.at - faultAt }));
  const requests = relative(counts.marks!.map(([at, ms, ok]) => ({ at, ms, ok: ok === 1 })));
  const tokenMarks = tokens ? relative(tokens.marks) : undefined;
  return figuresOf({ fault, layout, boundMs, victim, requests, ...(tokenMarks ? { tokens: tokenMarks } : {}), events, shown });
}

/** What a run's figures are made of: its requests, token requests and events. */
export type RunRecord = Pick<FaultRun, 'fault' | 'layout' | 'boundMs' | 'victim' | 'requests' | 'tokens' | 'events' | 'shown'>;

/**
 * A run's figures from its record, within the bound (the same span for both layouts): requests
 * sent from the fault to the bound, answered when their answer came by the bound; the outage by
 * longestGap; acted, the first event of crm_mon's.
 */
export function figuresOf(record: RunRecord): FaultRun {
  const { boundMs } = record;
  const within = (marks: readonly RequestMark[]) => marks.filter((m) => m.at >= 0 && m.at <= boundMs);
  const failedWithin = (marks: readonly RequestMark[]) => within(marks).filter((m) => !m.ok || m.at + m.ms > boundMs).length;
  const acted = record.events.find((e) => e.kind !== 'fault' && e.kind !== 'repair' && e.at <= boundMs);
  return {
    ...record,
    outageMs: longestGap(record.requests, boundMs),
    failed: failedWithin(record.requests),
    sent: within(record.requests).length,
    ...(record.tokens ? { tokensFailed: failedWithin(record.tokens), tokensSent: within(record.tokens).length } : {}),
    actedMs: acted?.at,
  };
}

/** The machine-readable line of one run: `faults FAULT LAYOUT outage_ms=N failed=N sent=N acted_ms=N|never`. */
export function faultsLine(run: FaultRun): string {
  return `faults ${run.fault} ${run.layout} outage_ms=${run.outageMs} failed=${run.failed} sent=${run.sent} acted_ms=${run.actedMs ?? 'never'}`;
}
