// The failover scenarios on three controllers: each injects one fault, waits (bounded) for the
// cluster to recover, and returns what the client through the VIP saw and what crm_mon and the
// services said. The test asserts on these; the bench prints them.
import type { ClusterStatus } from '../helpers/parsers/crm-mon.ts';
import { writeFileSync } from 'node:fs';
import { childrenOf, isAlive, processTree } from '../../shared/process/proc.ts';
import { ADMIN_PASSWORD, Controllers, waitUntil, type ClusterNode, type Figures } from './failover.ts';
import { DATABASE_LOCKED, LOCK_DATABASE } from '../helpers/daemons/keystone.ts';

/** Issue 21's reloads: every node's Keystone and HAProxy reloaded through the agents' reload, or by their signals from outside. */
export const RELOAD_SCENARIOS = ['reload-agents', 'reload-external'] as const;
export type ReloadScenario = typeof RELOAD_SCENARIOS[number];
/** The failover scenarios, in the e2e suite's order (the bench prints a `failover` line for each). */
export const SCENARIOS = ['haproxy-killed', 'haproxy-frozen', 'keystone-killed', 'keystone-frozen', ...RELOAD_SCENARIOS, 'standby', 'node-lost', 'partition'] as const;
/** The scenarios of issue 16: a fault of one node (recovered or banned there) and faults every node shares (reported). */
export const EVIDENCE_SCENARIOS = ['keys-lost', 'database-path-wrong', 'haproxy-certificate', 'ceilometer-typo', 'database-down', 'redis-down', 'password-changed', 'bus-down'] as const;
export type Scenario = typeof SCENARIOS[number];

export interface Outcome {
  readonly figures: Figures;
  /** Where the VIP was before and after. */
  readonly vipBefore: string;
  readonly vipAfter: string;
  readonly status: ClusterStatus;
  readonly notes: Record<string, unknown>;
}

/** The node the VIP runs on now (crm_mon); throws when it runs nowhere. */
export async function vipHolder(c: Controllers): Promise<string> {
  const vip = Controllers.vipNode(await c.cluster.status());
  if (!vip) throw new Error('the VIP runs nowhere');
  return vip;
}

/** 2. kill -9 of HAProxy's master on the VIP's node. */
export async function haproxyKilled(c: Controllers): Promise<Outcome> {
  await c.waitSettled();
  const vipBefore = await vipHolder(c);
  const node = c.cluster.node(vipBefore);
  const pid = c.daemonPid(node, 'haproxy:haproxy');
  let status!: ClusterStatus;
  const figures = await c.measure(async () => {
    process.kill(pid, 'SIGKILL');
    await waitUntil('the haproxy failure in crm_mon', async () => (await c.cluster.status()).failures.some((f) => f.id.startsWith('haproxy')), 60_000, 250);
    status = await c.waitSettled(120_000);
    await waitUntil('an answer through the VIP', async () => (await c.throughVip()) === '200', 60_000);
  });
  return { figures, vipBefore, vipAfter: Controllers.vipNode(status)!, status, notes: { killedPid: pid } };
}

/**
 * 2b. Every HAProxy process of the VIP's node frozen (SIGSTOP): the sockets still take connections
 * into the kernel's backlog, nothing answers. The monitor sees the frozen processes, the stop kills
 * them at once. notes.frozenPids: the processes frozen; notes.left: those of them still alive after.
 */
export async function haproxyFrozen(c: Controllers): Promise<Outcome> {
  await c.waitSettled();
  const vipBefore = await vipHolder(c);
  const node = c.cluster.node(vipBefore);
  const frozenPids = processTree(c.daemonPid(node, 'haproxy:haproxy'));
  let status!: ClusterStatus;
  try {
    const figures = await c.measure(async () => {
      for (const pid of frozenPids) process.kill(pid, 'SIGSTOP');
      // Not a failure in crm_mon: haproxy-killed's stays there until a cleanup.
      await waitUntil('the frozen HAProxy stopped by the cluster', () => frozenPids.every((pid) => !isAlive(pid)), 60_000, 100);
      status = await c.waitSettled(120_000);
      await waitUntil('an answer through the VIP', async () => (await c.throughVip()) === '200', 60_000);
    });
    return { figures, vipBefore, vipAfter: Controllers.vipNode(status)!, status, notes: { frozenPids, left: frozenPids.filter(isAlive) } };
  } finally {
    // Whatever happened, no frozen process is left for the next scenario.
    for (const pid of frozenPids.filter(isAlive)) process.kill(pid, 'SIGCONT');
  }
}

/** 3. Keystone killed on the node HAProxy sends the client to: HAProxy routes around it, Pacemaker restarts it. */
export async function keystoneKilled(c: Controllers): Promise<Outcome> {
  await c.waitSettled();
  const vipBefore = await vipHolder(c);
  // Some traffic first, so HAProxy's statistics show where the client's source address hashes to.
  for (let i = 0; i < 5; i++) await c.throughVip();
  const victim = c.cluster.node(await c.busiestBackend(c.cluster.node(vipBefore)));
  const pid = c.daemonPid(victim, 'keystone:p_keystone');
  // The killed master's worker outlives it for a moment, and is then the marker's topmost process:
  // not a new Keystone.
  const killedTree = processTree(pid);
  let status!: ClusterStatus;
  let newPid = 0;
  const figures = await c.measure(async () => {
    process.kill(pid, 'SIGKILL');
    // A new daemon on the victim, not a failure in crm_mon: an earlier scenario's failure stays
    // there until a cleanup, and the cluster looks settled until the next monitor has seen the kill.
    const restarted = () => {
      try {
        return !killedTree.includes(c.daemonPid(victim, 'keystone:p_keystone'));
      } catch {
        return false;
      }
    };
    await waitUntil(`keystone restarted on ${victim.name}`, async () => restarted(), 120_000, 250);
    status = await c.waitSettled(120_000);
    newPid = c.daemonPid(victim, 'keystone:p_keystone');
  });
  return { figures, vipBefore, vipAfter: Controllers.vipNode(status)!, status, notes: { victim: victim.name, killedPid: pid, newPid } };
}

/**
 * 3b. Every Keystone process of the node HAProxy sends the client to frozen (SIGSTOP): the kernel
 * still accepts connections into uwsgi's backlog, nothing answers. HAProxy sends a version request
 * that waited 500 ms to another server and checks the frozen one faster until it is out
 * (three-layout.ts); the monitor sees the frozen processes and the stop kills them. notes.frozenPids: the processes frozen; notes.left: those of
 * them still alive after; notes.newPid: the Keystone Pacemaker started.
 */
export async function keystoneFrozen(c: Controllers): Promise<Outcome> {
  await c.waitSettled();
  const vipBefore = await vipHolder(c);
  for (let i = 0; i < 5; i++) await c.throughVip();
  const victim = c.cluster.node(await c.busiestBackend(c.cluster.node(vipBefore)));
  const frozenPids = processTree(c.daemonPid(victim, 'keystone:p_keystone'));
  let status!: ClusterStatus;
  let newPid = 0;
  try {
    const figures = await c.measure(async () => {
      for (const pid of frozenPids) process.kill(pid, 'SIGSTOP');
      await waitUntil(`the frozen Keystone on ${victim.name} stopped by the cluster`, () => frozenPids.every((pid) => !isAlive(pid)), 60_000, 100);
      await waitUntil(`keystone started again on ${victim.name}`, async () => {
        try {
          newPid = c.daemonPid(victim, 'keystone:p_keystone');
          return true;
        } catch {
          return false;
        }
      }, 120_000, 250);
      status = await c.waitSettled(120_000);
    });
    return { figures, vipBefore, vipAfter: Controllers.vipNode(status)!, status, notes: { victim: victim.name, frozenPids, left: frozenPids.filter(isAlive), newPid } };
  } finally {
    for (const pid of frozenPids.filter(isAlive)) process.kill(pid, 'SIGCONT');
  }
}

/** 4. crm node standby of the VIP's node, then online: two moves, each measured. */
export async function standby(c: Controllers): Promise<{ away: Outcome; back: Outcome }> {
  await c.waitSettled();
  const vipBefore = await vipHolder(c);
  const others = c.liveNames().filter((n) => n !== vipBefore);
  let status!: ClusterStatus;
  const awayFigures = await c.measure(async () => {
    const result = await c.cluster.crm('node', 'standby', vipBefore);
    if (result.code !== 0) throw new Error(`crm node standby ${vipBefore}: ${result.output}`);
    await c.cluster.waitForStatus(`${vipBefore} in standby (crm said: ${result.output.trim()})`, (s) => s.nodes.some((n) => n.name === vipBefore && n.standby), 10_000);
    status = await c.waitSettled(120_000, others);
  });
  const away: Outcome = { figures: awayFigures, vipBefore, vipAfter: Controllers.vipNode(status)!, status, notes: { standby: vipBefore } };
  const backFigures = await c.measure(async () => {
    const result = await c.cluster.crm('node', 'online', vipBefore);
    if (result.code !== 0) throw new Error(`crm node online ${vipBefore}: ${result.output}`);
    status = await c.waitSettled(120_000);
  });
  const back: Outcome = { figures: backFigures, vipBefore: away.vipAfter, vipAfter: Controllers.vipNode(status)!, status, notes: { online: vipBefore } };
  return { away, back };
}

/** A failed operation, as one comparable string. */
function failureKey(f: ClusterStatus['failures'][number]): string {
  return `${f.id} ${f.node} ${f.task} ${f.exitstatus} ${f.exitreason}`;
}

/** 5. The VIP's node powered off without warning; fenced by the survivors; back again later. */
export async function nodeLost(c: Controllers): Promise<{ lost: Outcome; rejoin: Outcome }> {
  await c.waitSettled();
  const vipBefore = await vipHolder(c);
  const survivors = c.liveNames().filter((n) => n !== vipBefore);
  const membersBefore = (await c.liveMembers()).length;
  const failuresBefore = (await c.cluster.status()).failures.map(failureKey);
  let status!: ClusterStatus;
  let fenced = false;
  const fencedBefore = await c.fencings(vipBefore);
  let members: string[] = [];
  let lostFigures: Figures;
  let afterShrink: ClusterStatus;
  try {
    lostFigures = await c.measure(async () => {
      await c.cluster.powerOff(vipBefore);
      status = await c.waitSettled(120_000, survivors);
      await waitUntil(`the survivors to fence ${vipBefore}`, async () => (fenced = (await c.fencings(vipBefore)) > fencedBefore), 60_000, 500);
    });
    // Tooz forgets a member whose heartbeat stopped after its membership timeout (30 s).
    await waitUntil('two live members in the partitioning group', async () => (members = await c.liveMembers()).length === 2, 60_000, 1000);
    afterShrink = await c.cluster.status();
  } catch (error) {
    // The next scenarios need three nodes: bring it back before failing.
    await c.cluster.powerOn(vipBefore).then(() => c.waitSettled(180_000)).catch(() => undefined);
    throw error;
  }
  const lost: Outcome = {
    figures: lostFigures, vipBefore, vipAfter: Controllers.vipNode(status)!, status: afterShrink,
    notes: { lost: vipBefore, fenced, membersBefore, membersAfter: members.length,
      newFailures: afterShrink!.failures.filter((f) => !failuresBefore.includes(failureKey(f))) },
  };
  const rejoinFigures = await c.measure(async () => {
    await c.cluster.powerOn(vipBefore);
    status = await c.waitSettled(180_000);
  });
  const rejoin: Outcome = { figures: rejoinFigures, vipBefore: lost.vipAfter, vipAfter: Controllers.vipNode(status)!, status, notes: { rejoined: vipBefore } };
  return { lost, rejoin };
}

/** 7. The VIP's node's link cut: the two others keep quorum and fence it; the VIP is never on two nodes. */
export async function partition(c: Controllers): Promise<Outcome & { doubleHolders: string[][]; samples: number }> {
  await c.waitSettled();
  const vipBefore = await vipHolder(c);
  const survivors = c.liveNames().filter((n) => n !== vipBefore);
  let sampling = true;
  let samples = 0;
  const doubleHolders: string[][] = [];
  // Every node's addresses, sampled in a loop for the whole scenario.
  const sampler = (async () => {
    while (sampling) {
      const holders: string[] = [];
      for (const node of c.cluster.nodes) if ((await node.addresses()).includes('192.0.2.11')) holders.push(node.name);
      samples++;
      if (holders.length > 1) doubleHolders.push(holders);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  let status!: ClusterStatus;
  let fenced = false;
  const fencedBefore = await c.fencings(vipBefore);
  try {
    const figures = await c.measure(async () => {
      await c.cluster.cutLink(vipBefore);
      c.cluster.node(vipBefore).up = false;
      status = await c.waitSettled(120_000, survivors);
      await waitUntil(`the survivors to fence ${vipBefore}`, async () => (fenced = (await c.fencings(vipBefore)) > fencedBefore), 60_000, 500);
    });
    const quorum = status.quorum;
    sampling = false;
    await sampler;
    await c.cluster.powerOn(vipBefore);
    await c.waitSettled(180_000);
    return { figures, vipBefore, vipAfter: Controllers.vipNode(status)!, status, notes: { cut: vipBefore, fenced, quorum }, doubleHolders, samples };
  } catch (error) {
    sampling = false;
    await sampler;
    await c.cluster.powerOn(vipBefore).then(() => c.waitSettled(180_000)).catch(() => undefined);
    throw error;
  }
}

/** Keystone's databases locked: the moment the last lock was held, each node's lock time after the holders started (ms), and the repair. */
export interface DatabasesLocked {
  readonly at: number;
  readonly heldMs: Record<string, number>;
  readonly repair: () => Promise<void>;
}

/**
 * Keystone's database locked on each node (LOCK_DATABASE, one holder per node, all started at once),
 * for at most `seconds`; returns once every lock is held (each node's database refuses a write lock).
 * Throws, the holders killed, when a lock is not held within `withinMs` of the start: a node whose
 * database is still free while its peers' are locked is a fault of the others, not a shared one,
 * and the peers' evidence would rightly say so (a peer's pass counts after SKEW_S, 5 s). The repair
 * fails when a holder had already gone (the fault ended early: the run would be wrong).
 */
export async function lockKeystoneDatabases(nodes: readonly ClusterNode[], seconds: number, withinMs = 30_000): Promise<DatabasesLocked> {
  const started = Date.now();
  const holders = nodes.map((node) => node.ns.background('python3', ['-c', LOCK_DATABASE, '/etc/keystone/keystone.db', String(seconds)]));
  const release = async () => {
    const early = holders.filter((h) => h.exitCode !== null || h.signalCode !== null).length;
    for (const holder of holders) holder.kill('SIGKILL');
    await waitUntil('the database locks to be released', () => holders.every((h) => h.exitCode !== null || h.signalCode !== null), 10_000);
    if (early) throw new Error(`${early} database lock holder(s) had ended before the repair`);
  };
  const heldMs: Record<string, number> = {};
  try {
    // Each node's poll ends by the bound (a look that answers late is no lock in time: checked after).
    await Promise.allSettled(nodes.map(async (node) => {
      const locked = async () => (await node.exec('python3', ['-c', DATABASE_LOCKED, '/etc/keystone/keystone.db'], undefined, 10_000)).code === 0;
      await waitUntil(`Keystone's database locked on ${node.name}`, locked, Math.max(0, started + withinMs - Date.now()), 100);
      heldMs[node.name] = Date.now() - started;
    }));
    const late = nodes.filter((node) => !(heldMs[node.name]! <= withinMs)).map((node) => node.name);
    if (late.length) throw new Error(`Keystone's database not locked in time on ${late.join(', ')}`);
  } catch (error) {
    await release().catch(() => undefined);
    throw new Error(`${(error as Error).message} (held: ${JSON.stringify(heldMs)} ms after the holders started, bound ${withinMs} ms)`);
  }
  return { at: Date.now(), heldMs, repair: release };
}

export interface SharedFaultOutcome {
  /** Nodes whose monitor reported OCF_DEGRADED (190) for the resource. */
  readonly degradedOn: string[];
  /** Nodes where the daemon's pid changed (restarted) during the fault or its repair. */
  readonly restartedOn: string[];
  readonly statusDuring: ClusterStatus;
  readonly statusAfter: ClusterStatus;
  /** The service answered again after the repair (a token through the VIP; three live ceilometer members). */
  readonly servesAfter: boolean;
  /** For the database: could a token be issued through the VIP during the fault (it should not). */
  readonly tokenDuringFault: boolean | undefined;
  /** From the fault to the first 190 in crm_mon, per node. */
  readonly degradedMs: Record<string, number>;
  /** Nodes whose first 190 reason names this node and at least one peer failing too (the peers' evidence: shared). */
  readonly namedOn: string[];
  readonly namedMs: number | undefined;
  readonly reasons: string[];
  /** For the database: when each node's lock was held (ms after its holders started), and the attempts given up before. */
  readonly locks: string | undefined;
}

/**
 * 6. A fault every node shares: Keystone's database unavailable on all three nodes ("database"),
 * Redis stopped ("redis", SIGSTOP: unreachable, its data kept as a persistent Redis keeps it), the
 * admin password changed ("password"), or RabbitMQ stopped ("bus": the message bus down, started
 * again as the repair). Nothing should be restarted or banned; the monitors say OCF_DEGRADED; the
 * repair needs no cleanup.
 */
export type SharedFault = 'database' | 'redis' | 'password' | 'bus';

export async function sharedFault(c: Controllers, fault: SharedFault): Promise<SharedFaultOutcome> {
  await c.waitSettled();
  const keystone = fault === 'database' || fault === 'password';
  const primitive = keystone ? 'p_keystone' : 'p_ceilometer';
  const marker = keystone ? 'keystone:p_keystone' : 'ceilometer:p_ceilometer';
  const nodes = c.cluster.nodes;
  const degradedNodes = async () => new Set((await c.cluster.status()).failures.filter((f) => f.id === primitive && f.exitcode === 190).map((f) => f.node));
  if ((await degradedNodes()).size) {
    // An earlier shared fault of the same resource, repaired: Pacemaker keeps a recurring monitor's
    // last failed result (190 included) in the status until a cleanup. Cleaned first (a re-probe,
    // no restart), so that what is seen next is this fault's.
    await c.cluster.crm('resource', 'cleanup', primitive);
    await c.waitSettled();
  }
  let pids = c.daemonPids(nodes, marker);
  const degradedBefore = await degradedNodes();
  if (fault === 'bus') {
    // What is measured is the check on agents that have published: a worker started less than the
    // first-publish grace ago is not judged yet (a cluster just brought up, an agent just restarted).
    await waitUntil('every ceilometer agent connected to the bus and past its first-publish grace', () => nodes.every((n) => c.busConnected(n) && c.busJudged(n)), 90_000, 1000);
  }
  let faultAt = Date.now();
  let repair: () => Promise<void>;
  let locks: string | undefined;
  if (fault === 'database') {
    const { locked, failedAttempts } = await lockEveryDatabase(c);
    ({ at: faultAt, repair } = locked);
    // What a given-up attempt may have done is not this fault's: the daemons counted from here.
    if (failedAttempts.length) pids = c.daemonPids(nodes, marker);
    locks = `held after ${JSON.stringify(locked.heldMs)} ms${failedAttempts.map((a) => `; before: ${a}`).join('')}`;
  } else if (fault === 'password') {
    // The admin password changed in Keystone and not in the resource's os_password_file: every
    // node's token check is refused (401), for the same reason. One file serves all three nodes,
    // as one CIB parameter does.
    writeFileSync(c.files.passwordFile, 'no-longer-the-password\n');
    repair = async () => writeFileSync(c.files.passwordFile, `${ADMIN_PASSWORD}\n`);
  } else if (fault === 'bus') {
    // Stopped as its init script stops it (a graceful shutdown): every connection closed.
    const broker = c.rabbitmqPid();
    process.kill(broker, 'SIGTERM');
    await waitUntil('RabbitMQ to stop', () => !isAlive(broker), 60_000);
    repair = () => c.startRabbitmq();
  } else {
    const redis = c.redisPid();
    process.kill(redis, 'SIGSTOP');
    repair = async () => void process.kill(redis, 'SIGCONT');
  }
  let statusDuring: ClusterStatus;
  let tokenDuringFault: boolean | undefined;
  const degradedMs: Record<string, number> = {};
  const allNodes = new RegExp(`fails on ${nodes.map((n) => n.name).sort().join(', ')} since`);
  let named: ClusterStatus['failures'] = [];
  let namedMs: number | undefined;
  try {
    if (degradedBefore.size) throw new Error(`${primitive} was already degraded on ${[...degradedBefore].join(', ')}`);
    statusDuring = await c.cluster.waitForStatus(`${primitive} degraded on every node`, (s) => {
      for (const f of s.failures) if (f.id === primitive && f.exitcode === 190 && degradedMs[f.node] === undefined) degradedMs[f.node] = Date.now() - faultAt;
      return nodes.every((n) => s.failures.some((f) => f.id === primitive && f.node === n.name && f.exitcode === 190));
    }, 120_000);
    // The database fault is real for every client; a changed password only for the resource's credentials.
    if (keystone) tokenDuringFault = await c.issueToken().then(() => true, () => false);
    // Pacemaker records a recurring monitor's result only when it changes: crm_mon keeps each node's
    // first 190 reason. The first node to fail has no evidence yet (its check's own reason); a node
    // failing after peers reported names itself and them.
    const evidence = statusDuring.failures.filter((f) => f.id === primitive && f.exitcode === 190 && / fails on /.test(f.exitreason));
    named = evidence.filter((f) => (allNodes.test(f.exitreason) || new RegExp(`fails on (node\\d, )*${f.node}`).test(f.exitreason)) && /fails on node\d, node\d/.test(f.exitreason));
    namedMs = named.length ? Date.now() - faultAt : undefined;
  } finally {
    await repair();
  }
  const degradedOn = statusDuring.failures.filter((f) => f.id === primitive && f.exitcode === 190).map((f) => f.node);
  let servesAfter = false;
  const repairedAt = Math.floor(Date.now() / 1000);
  if (fault === 'password' || fault === 'bus') {
    // A token through the VIP proves nothing for the password (Keystone served throughout); for the
    // bus, nothing but the agents' own connections shows it. So every node's own check must pass
    // again, as each publishes it (the evidence attribute, "ok" since the repair). oslo.messaging
    // retries the bus with a growing pause (up to 30 s) before the agent's next publish connects.
    const check = fault === 'password' ? 'p_keystone-token' : 'p_ceilometer-bus';
    servesAfter = await waitUntil(`every node's ${check} check to pass again`, async () => {
      const passing = await passingSince(c, check, repairedAt);
      return nodes.every((n) => passing.includes(n.name));
    }, 90_000, 1000).then(() => true, () => false);
  } else if (keystone) {
    servesAfter = await waitUntil('a token through the VIP', async () => !!(await c.issueToken().catch(() => undefined)), 60_000, 1000).then(() => true, () => false);
  } else {
    servesAfter = await waitUntil('three live ceilometer members', async () => (await c.liveMembers()).length === 3, 60_000, 1000).then(() => true, () => false);
  }
  // Two monitor intervals more: a monitor that failed after the repair would show up now.
  await new Promise((resolve) => setTimeout(resolve, 20_000));
  const statusAfter = await c.waitSettled(60_000);
  const restartedOn = c.restartedSince(pids, marker);
  return {
    degradedOn, restartedOn, statusDuring, statusAfter, servesAfter, tokenDuringFault, degradedMs, namedOn: named.map((f) => f.node).sort(), namedMs,
    reasons: statusDuring.failures.filter((f) => f.id === primitive).map((f) => `${f.node}: ${f.exitcode} ${f.exitreason}`), locks,
  };
}

/**
 * Test 6's database fault: every node's Keystone database locked within LOCK_SPREAD_MS of the start,
 * so that it is one fault shared by all from the first monitor on. A lock that comes later (the
 * likeliest reading of a CI failure: two nodes' monitors judged local, 1 then 5, by a peer that still
 * issued tokens) is no shared fault: the locks are released, the failures the attempt left cleaned
 * up, and the fault tried once more (two attempts fit in ava's 5 minutes without news).
 */
async function lockEveryDatabase(c: Controllers): Promise<{ locked: DatabasesLocked; failedAttempts: string[] }> {
  const failedAttempts: string[] = [];
  for (;;) {
    try {
      return { locked: await lockKeystoneDatabases(c.cluster.nodes, 180, LOCK_SPREAD_MS), failedAttempts };
    } catch (error) {
      failedAttempts.push((error as Error).message);
      if (failedAttempts.length === 2) throw new Error(`the database fault, two attempts: ${failedAttempts.join('; ')}`);
      // A node that failed its token check meanwhile keeps that failure's start for a minute: until
      // each passes again after the release, a new fault would be judged from the old start.
      const releasedAt = Math.floor(Date.now() / 1000);
      await waitUntil('every node\'s token check to pass after the locks were released', async () => (await passingSince(c, 'p_keystone-token', releasedAt, 'confirmed')).length === c.cluster.nodes.length, 60_000, 1000);
      await c.cluster.crm('resource', 'cleanup', 'p_keystone');
      await c.waitSettled(120_000);
    }
  }
}

/**
 * The nodes whose agent publishes `check` (the evidence attribute, "RESOURCE-CHECK") as passing,
 * since `sinceS` (epoch s: a pass begun then, after a failure) or, with `field` 'confirmed', confirmed
 * since then (a pass that may have begun before).
 */
async function passingSince(c: Controllers, check: string, sinceS: number, field: 'since' | 'confirmed' = 'since'): Promise<string[]> {
  const query = await c.cluster.live().exec('attrd_updater', ['-Q', '-A', '-n', `ocf-openstack-${check}`], undefined, 10_000);
  // One line per node, its fields in any order: host (or node) and value "ok|SINCE|CONFIRMED|EVERY|REASON".
  return query.output.split('\n').map((line) => new Map([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])))
    .filter((fields) => /^ok\|\d+\|\d+\|/.test(fields.get('value') ?? '') && Number(fields.get('value')!.split('|')[field === 'since' ? 1 : 2]) >= sinceS)
    .map((fields) => (fields.get('host') ?? fields.get('node'))!);
}

/** Bound on the database fault's locks, from the start of their holders to the last one held (ms): under the evidence rule's SKEW_S (5 s). */
const LOCK_SPREAD_MS = 4000;

/**
 * Token requests through the VIP, one after the other, for as long as a scenario runs (at most
 * 20 000): each one's start (Date.now()), its whole time (ms) and whether a token came. Each is
 * bounded by `timeoutMs`; `pauseMs` between two (a password login costs Keystone its hashing).
 */
export function tokenLoop(c: Controllers, options: { timeoutMs: number; pauseMs: number }): { marks: { at: number; ms: number; ok: boolean }[]; stop: () => Promise<void> } {
  const marks: { at: number; ms: number; ok: boolean }[] = [];
  let running = true;
  const loop = (async () => {
    while (running && marks.length < 20_000) {
      const at = Date.now();
      const request = await c.requestToken(options.timeoutMs).catch(() => ({ ms: Date.now() - at, token: undefined }));
      marks.push({ at, ms: request.ms, ok: !!request.token });
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  })();
  return { marks, stop: async () => void ((running = false), await loop) };
}

export interface LocalFaultOutcome {
  readonly figures: Figures;
  readonly victim: string;
  /** The victim's failed monitor: its exit code and reason (the evidence named). */
  readonly code: number;
  readonly reason: string;
  /** From the fault to the victim's first 1 or 5 naming a peer's evidence; to Keystone stopped there (banned). */
  readonly rightCodeMs: number;
  readonly bannedMs: number;
  /** From the fault to the last failed token request through the VIP. */
  readonly tokensFailUntilMs: number;
  readonly tokens: { readonly sent: number; readonly failed: number };
  /** After the ban: the last token requests all succeeded. */
  readonly tokensOkAfter: boolean;
  /** The other nodes' Keystone, untouched (their pids before and after), and where Keystone ran during the fault. */
  readonly othersRestarted: string[];
  readonly startedDuring: string[];
  readonly vipServes: boolean;
  /** After the repair and a cleanup: Started everywhere again. */
  readonly repaired: boolean;
}

/** Issue 16's faults of one node's Keystone: its fernet keys lost, or its database path wrong. */
export type KeystoneLocalFault = 'keys-lost' | 'database-path-wrong';

/**
 * A fault of one node's Keystone: its fernet key repository replaced by an empty one
 * (`keys-lost`), or its keystone.conf naming a database path that does not exist, then its Keystone
 * killed so that it reads it (`database-path-wrong`). Either way it answers GET /v3 (HAProxy keeps
 * sending it requests) but issues no token while the others do: the peers' evidence makes it this
 * node's fault (1, then 5 once a restart did not repair it), and the ban takes it out of HAProxy's
 * rotation.
 */
export async function keystoneLocalFault(c: Controllers, fault: KeystoneLocalFault): Promise<LocalFaultOutcome> {
  await c.waitSettled();
  const vipBefore = await vipHolder(c);
  for (let i = 0; i < 5; i++) await c.throughVip();
  const victim = c.cluster.node(await c.busiestBackend(c.cluster.node(vipBefore)));
  const others = c.cluster.nodes.filter((node) => node.name !== victim.name);
  const pidsBefore = c.daemonPids(others, 'keystone:p_keystone');
  const tokens = tokenLoop(c, { timeoutMs: 10_000, pauseMs: 0 });
  let restore = () => {};
  let faultAt = 0;
  let rightCodeMs = 0;
  let bannedMs = 0;
  let failure: ClusterStatus['failures'][number] | undefined;
  let during!: ClusterStatus;
  const evidenced = (f: ClusterStatus['failures'][number]) => f.id === 'p_keystone' && f.node === victim.name && (f.exitcode === 1 || f.exitcode === 5) && /passes on node\d/.test(f.exitreason);
  let figures: Figures;
  try {
    figures = await c.measure(async () => {
      faultAt = Date.now();
      if (fault === 'keys-lost') {
        restore = c.emptyFernetKeys(victim);
      } else {
        restore = c.wrongDatabasePath(victim);
        process.kill(c.daemonPid(victim, 'keystone:p_keystone'), 'SIGKILL');
      }
      const seen = await c.cluster.waitForStatus(`p_keystone failing on ${victim.name} with the peers' evidence`, (s) => s.failures.some(evidenced), 120_000, undefined);
      rightCodeMs = Date.now() - faultAt;
      failure = seen.failures.find(evidenced);
      // Banned, not between a stop and a start: stopped there after a 5 or a failed start (start-failure-is-fatal).
      const banning = (f: ClusterStatus['failures'][number]) => f.id === 'p_keystone' && f.node === victim.name && (f.exitcode === 5 || f.task === 'start');
      during = await c.cluster.waitForStatus(`p_keystone banned on ${victim.name} only`, (s) => {
        const started = Controllers.startedOn(s, 'p_keystone');
        return s.failures.some(banning) && !started.includes(victim.name) && others.every((node) => started.includes(node.name));
      }, 120_000);
      bannedMs = Date.now() - faultAt;
      failure = during.failures.find(evidenced) ?? failure;
      const bannedAt = Date.now();
      await waitUntil('five tokens in a row through the VIP after the ban', async () => {
        const after = tokens.marks.filter((r) => r.at > bannedAt + 3000);
        return after.length >= 5 && after.slice(-5).every((r) => r.ok);
      }, 60_000, 500);
    });
  } catch (error) {
    // The scenarios after this one need every node: the file back and the ban lifted, then the failure.
    await tokens.stop();
    restore();
    await c.cluster.crm('resource', 'cleanup', 'p_keystone');
    await c.waitSettled(120_000).catch(() => undefined);
    throw error;
  }
  await tokens.stop();
  restore();
  const failedTokens = tokens.marks.filter((r) => !r.ok && r.at >= faultAt);
  const lastFailed = failedTokens.at(-1);
  const bannedAt = faultAt + bannedMs;
  const tokensOkAfter = tokens.marks.filter((r) => r.at > bannedAt + 3000).slice(-5).every((r) => r.ok);
  const vipServes = (await c.throughVip()) === '200';
  const othersRestarted = c.restartedSince(pidsBefore, 'keystone:p_keystone');
  // The repair of a local fault: the file back, then a cleanup lifts the ban.
  await c.cluster.crm('resource', 'cleanup', 'p_keystone');
  const repaired = await c.waitSettled(120_000).then(() => true, () => false);
  return {
    figures, victim: victim.name, code: failure?.exitcode ?? -1, reason: failure?.exitreason ?? '', rightCodeMs, bannedMs,
    tokensFailUntilMs: lastFailed ? lastFailed.at - faultAt : 0,
    tokens: { sent: tokens.marks.filter((r) => r.at >= faultAt).length, failed: failedTokens.length },
    tokensOkAfter, othersRestarted, startedDuring: Controllers.startedOn(during, 'p_keystone'), vipServes, repaired,
  };
}

/** Issue 16's faults of one node's own file, each then its daemon killed so that its start reads the file. */
export const FILE_FAULTS = {
  'haproxy-certificate': { primitive: 'haproxy', marker: 'haproxy:haproxy' },
  'ceilometer-typo': { primitive: 'p_ceilometer', marker: 'ceilometer:p_ceilometer' },
} as const;
export type FileFault = keyof typeof FILE_FAULTS;

export interface FileFaultOutcome {
  readonly figures: Figures;
  readonly victim: string;
  readonly vipBefore: string;
  readonly vipAfter: string | undefined;
  /** The victim's failed start: its exit code and reason. */
  readonly code: number;
  readonly reason: string;
  /** From the kill to the failed start in crm_mon with the instance stopped there and Started on the others. */
  readonly bannedMs: number;
  /** Where the primitive runs during the fault. */
  readonly startedDuring: string[];
  /** Other nodes whose daemon of the primitive changed (restarted) during the fault. */
  readonly othersRestarted: string[];
  /** A failure of the primitive on another node during the fault (none expected). */
  readonly othersFailed: string[];
  readonly vipServes: boolean;
  /** After the repair and a cleanup: Started everywhere again. */
  readonly repaired: boolean;
}

/**
 * A fault of one node's own file (FileFault: breakFileOn), then its daemon killed (kill -9): the
 * restart's start reads the broken file and fails with 5, so Pacemaker bans that node only; the
 * others keep running untouched, and with HAProxy's on the VIP's node, the VIP moves to a node
 * whose HAProxy runs. 6 would have stopped the clone on every node, and the VIP with it.
 */
export async function fileFault(c: Controllers, fault: FileFault): Promise<FileFaultOutcome> {
  const { primitive, marker } = FILE_FAULTS[fault];
  const ours = (id: string) => id === primitive || id.startsWith(`${primitive}:`);
  if ((await c.cluster.status()).failures.some((f) => ours(f.id))) {
    // An earlier scenario's failures of the primitive (a shared fault's 190 stays until a cleanup):
    // cleared first (a re-probe, no restart), so that what is seen next is this fault's.
    await c.cluster.crm('resource', 'cleanup', primitive);
    await c.cluster.waitForStatus(`${primitive}'s earlier failures cleared`, (s) => !s.failures.some((f) => ours(f.id)), 60_000);
  }
  await c.waitSettled();
  const vipBefore = await vipHolder(c);
  // HAProxy's on the VIP's node, the worst case (the VIP must move); ceilometer's on another node.
  const victim = fault === 'haproxy-certificate' ? c.cluster.node(vipBefore) : c.cluster.nodes.find((node) => node.name !== vipBefore)!;
  const others = c.cluster.nodes.filter((node) => node.name !== victim.name);
  const pidsBefore = c.daemonPids(others, marker);
  const failedStart = (f: ClusterStatus['failures'][number]) => ours(f.id) && f.node === victim.name && f.task === 'start';
  const repair = await c.breakFileOn(victim, fault);
  let during!: ClusterStatus;
  let bannedMs = 0;
  let figures!: Figures;
  let after!: ClusterStatus;
  let othersRestarted: string[] = [];
  let vipServes = false;
  let repaired = false;
  try {
    figures = await c.measure(async () => {
      const killedAt = Date.now();
      process.kill(c.daemonPid(victim, marker), 'SIGKILL');
      during = await c.cluster.waitForStatus(`${primitive}'s start failed on ${victim.name}, Started on the others`, (s) => {
        const started = Controllers.startedOn(s, primitive);
        return s.failures.some(failedStart) && !started.includes(victim.name) && others.every((node) => started.includes(node.name));
      }, 120_000);
      bannedMs = Date.now() - killedAt;
      await waitUntil('an answer through the VIP', async () => (await c.throughVip()) === '200', 60_000);
      // Three HAProxy monitor intervals (1 s): a failure of HAProxy spreading to the others would show now.
      await new Promise((resolve) => setTimeout(resolve, 3000));
    });
    after = await c.cluster.status();
    othersRestarted = c.restartedSince(pidsBefore, marker);
    vipServes = (await c.throughVip()) === '200';
  } finally {
    // The repair of a local fault, whatever happened (the scenarios after this one need every node):
    // the file back, then a cleanup lifts the ban.
    await repair();
    await c.cluster.crm('resource', 'cleanup', primitive);
    repaired = await c.waitSettled(120_000).then(() => true, () => false);
  }
  const failure = during.failures.find(failedStart);
  const othersFailed = after.failures.filter((f) => ours(f.id) && f.node !== victim.name).map((f) => `${f.node}: ${f.task} ${f.exitcode} ${f.exitreason}`);
  return {
    figures, victim: victim.name, vipBefore, vipAfter: Controllers.vipNode(after), code: failure?.exitcode ?? -1, reason: failure?.exitreason ?? '',
    bannedMs, startedDuring: Controllers.startedOn(during, primitive), othersRestarted, othersFailed, vipServes, repaired,
  };
}

export interface ReloadOutcome {
  readonly figures: Figures;
  /** Each reload: node, resource, how long until it served again (ms), and the agent's exit code (reload-agents). */
  readonly reloads: { node: string; primitive: string; ms: number; code?: number | null; output?: string }[];
  /** Nodes where a daemon's master changed (restarted, not reloaded). */
  readonly restartedOn: string[];
  /** Keystone's and HAProxy's failures in crm_mon after the reloads and two monitor intervals (cleaned before). */
  readonly failures: ClusterStatus['failures'];
}

/** The graceful reload each daemon takes from outside: uwsgi's SIGHUP, HAProxy master-worker's SIGUSR2. */
const RELOADED = [
  { primitive: 'p_keystone', marker: 'keystone:p_keystone', signal: 'SIGHUP', agentTimeoutMs: 60_000 },
  { primitive: 'haproxy', marker: 'haproxy:haproxy', signal: 'SIGUSR2', agentTimeoutMs: 20_000 },
] as const;

/**
 * Every node's Keystone, then its HAProxy, reloaded one node after the other, `rounds` times, as
 * configuration management does after editing their files: through the agents' reload action
 * (`reload-agents`), or by the daemon's own signal sent from outside (`reload-external`, each waited
 * for until the master has a new worker and the node's daemon serves again). Nothing should fail:
 * no request through the VIP, no operation in crm_mon, no daemon restarted.
 */
export async function reloadEverywhere(c: Controllers, scenario: ReloadScenario, rounds = 2): Promise<ReloadOutcome> {
  // Earlier scenarios' failures cleaned (a re-probe, no restart), so that what is seen after is this scenario's.
  await c.cluster.live().exec('crm_resource', ['--cleanup'], undefined, 60_000);
  await c.waitSettled();
  const nodes = c.cluster.nodes;
  const masters = new Map(nodes.flatMap((node) => RELOADED.map((r) => [`${node.name} ${r.primitive}`, c.daemonPid(node, r.marker)] as const)));
  const reloads: ReloadOutcome['reloads'] = [];
  const figures = await c.measure(async () => {
    for (let round = 0; round < rounds; round++) {
      for (const node of nodes) {
        for (const r of RELOADED) {
          const started = Date.now();
          if (scenario === 'reload-agents') {
            const { code, output } = await c.runAgent(node, r.primitive, 'reload', r.agentTimeoutMs);
            reloads.push({ node: node.name, primitive: r.primitive, ms: Date.now() - started, code, output: output.slice(0, 4000) });
            continue;
          }
          const master = c.daemonPid(node, r.marker);
          const before = new Set(childrenOf(master));
          process.kill(master, r.signal);
          await waitUntil(`${r.primitive} on ${node.name} reloaded (a new worker) after ${r.signal}`, async () => childrenOf(master).some((child) => !before.has(child)), 60_000, 100);
          if (r.primitive === 'p_keystone') await waitUntil(`Keystone on ${node.name} answering after ${r.signal}`, async () => (await c.versionOn(node)) === '200', 60_000, 200);
          reloads.push({ node: node.name, primitive: r.primitive, ms: Date.now() - started });
        }
      }
    }
  });
  // Two of Keystone's monitor intervals: a monitor that failed on what the reloads left shows up now.
  await new Promise((resolve) => setTimeout(resolve, 20_000));
  const status = await c.waitSettled(60_000);
  const restartedOn = [...masters].filter(([key, pid]) => {
    const [name, primitive] = key.split(' ');
    try {
      return c.daemonPid(c.cluster.node(name!), RELOADED.find((r) => r.primitive === primitive)!.marker) !== pid;
    } catch {
      return true;
    }
  }).map(([key]) => key);
  return { figures, reloads, restartedOn, failures: status.failures.filter((f) => f.id.startsWith('p_keystone') || f.id.startsWith('haproxy')) };
}
