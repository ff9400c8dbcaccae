// The failover scenarios on three controllers: each injects one fault, waits (bounded) for the
// cluster to recover, and returns what the client through the VIP saw and what crm_mon and the
// services said. The test asserts on these; the bench prints them.
import type { ClusterStatus } from '../helpers/pacemaker.ts';
import { Controllers, waitUntil, type Figures } from './failover.ts';

export const SCENARIOS = ['haproxy-killed', 'keystone-killed', 'standby', 'node-lost', 'partition'] as const;
export type Scenario = typeof SCENARIOS[number];

export interface Outcome {
  readonly figures: Figures;
  /** Where the VIP was before and after. */
  readonly vipBefore: string;
  readonly vipAfter: string;
  readonly status: ClusterStatus;
  readonly notes: Record<string, unknown>;
}

async function vipHolder(c: Controllers): Promise<string> {
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

/** 3. Keystone killed on the node HAProxy sends the client to: HAProxy routes around it, Pacemaker restarts it. */
export async function keystoneKilled(c: Controllers): Promise<Outcome> {
  await c.waitSettled();
  const vipBefore = await vipHolder(c);
  // Some traffic first, so HAProxy's statistics show where the client's source address hashes to.
  for (let i = 0; i < 5; i++) await c.throughVip();
  const victim = c.cluster.node(await c.busiestBackend(c.cluster.node(vipBefore)));
  const pid = c.daemonPid(victim, 'keystone:p_keystone');
  let status!: ClusterStatus;
  let newPid = 0;
  const figures = await c.measure(async () => {
    process.kill(pid, 'SIGKILL');
    await waitUntil('the keystone failure in crm_mon', async () => (await c.cluster.status()).failures.some((f) => f.id.startsWith('p_keystone')), 60_000, 250);
    status = await c.waitSettled(120_000);
    newPid = c.daemonPid(victim, 'keystone:p_keystone');
  });
  return { figures, vipBefore, vipAfter: Controllers.vipNode(status)!, status, notes: { victim: victim.name, killedPid: pid, newPid } };
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

/** Successful fencings of a node in the cluster's history (stonith_admin, from a live node). */
async function fencings(c: Controllers, node: string): Promise<number> {
  const result = await c.cluster.live().exec('stonith_admin', ['--history', node, '--output-as=xml'], undefined, 20_000);
  return [...result.output.matchAll(/<fence_event [^>]*>/g)].filter((m) => /status="success"/.test(m[0]) && m[0].includes(`target="${node}"`)).length;
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
  const fencedBefore = await fencings(c, vipBefore);
  let members: string[] = [];
  let lostFigures: Figures;
  let afterShrink: ClusterStatus;
  try {
    lostFigures = await c.measure(async () => {
      await c.cluster.powerOff(vipBefore);
      status = await c.waitSettled(120_000, survivors);
      await waitUntil(`the survivors to fence ${vipBefore}`, async () => (fenced = (await fencings(c, vipBefore)) > fencedBefore), 60_000, 500);
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
  const fencedBefore = await fencings(c, vipBefore);
  try {
    const figures = await c.measure(async () => {
      await c.cluster.cutLink(vipBefore);
      c.cluster.node(vipBefore).up = false;
      status = await c.waitSettled(120_000, survivors);
      await waitUntil(`the survivors to fence ${vipBefore}`, async () => (fenced = (await fencings(c, vipBefore)) > fencedBefore), 60_000, 500);
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
