// The rule that tells a fault of this node from a fault every node shares, from the peers' published
// states (shared/cluster/evidence.ts), exhaustively: a pure function of the states and the time.
import test, { type ExecutionContext } from 'ava';
import { scratchDir } from '../helpers/agent.ts';
import {
  attributeName, checkFailed, checkPassed, checkPending, decodeState, encodeState, forgetFailure, judge, outcomeOf, parseQuery, SKEW_S, type PeerState,
} from '../../shared/cluster/evidence.ts';
import { fakeAttrd, type FakeAttrd } from '../helpers/fake-attrd.ts';
import { Deadline } from '../../shared/ocf/deadline.ts';
import { readEnvironment } from '../../shared/ocf/environment.ts';
import { Logger } from '../../shared/ocf/log.ts';

const T = 1_764_000_000; // this node's failure began
const EVERY = 10;

function peer(node: string, state: 'ok' | 'failing', confirmed: number, every = EVERY): PeerState {
  return { node, state, since: confirmed - 100, confirmed, every, reason: state === 'ok' ? 'passes' : 'HTTP 500' };
}

test('a peer passing, confirmed after this node\'s failure began (beyond the skew): local', (t) => {
  const verdict = judge(T, [peer('node2', 'ok', T + 7)], T + 10);
  t.is(verdict.kind, 'local');
  t.deepEqual(verdict.kind === 'local' && verdict.passing.map((p) => p.node), ['node2']);
});

test('a peer passing, confirmed before the failure began or within the skew: not evidence of a local fault', (t) => {
  t.is(judge(T, [peer('node2', 'ok', T - 3)], T + 5).kind, 'none');
  t.is(judge(T, [peer('node2', 'ok', T + SKEW_S)], T + 8).kind, 'none', 'exactly at the skew: ambiguous');
  t.is(judge(T, [peer('node2', 'ok', T + SKEW_S + 1)], T + 8).kind, 'local');
});

test('every peer that reported since fails: shared, naming them', (t) => {
  const verdict = judge(T, [peer('node3', 'failing', T + 2), peer('node2', 'failing', T - 1)], T + 5);
  t.is(verdict.kind, 'shared');
  t.deepEqual(verdict.kind === 'shared' && verdict.failing.map((p) => p.node), ['node2', 'node3']);
});

test('a peer failing a little before this node\'s failure began (within the skew) counts as having reported since', (t) => {
  t.is(judge(T, [peer('node2', 'failing', T - SKEW_S)], T + 2).kind, 'shared');
  t.is(judge(T, [peer('node2', 'failing', T - SKEW_S - 1)], T + 2).kind, 'none', 'reported before: not since');
});

// Seen on Debian 13 (three-node test 6, database locked): node2 published failing at +6.9 s; node1's
// token check, begun before that, hung 10 s and failed at +13.9 s, 7 s after node2's report: no
// evidence, so no node named another.
test('a peer failing since this node\'s look began (a check that hung until its timeout): shared', (t) => {
  const failedAt = T + 10; // the check began at T and found the failure when it timed out
  t.is(judge(failedAt, [peer('node2', 'failing', T + 3)], failedAt, SKEW_S).kind, 'none', 'judged from the end of the look');
  const verdict = judge(failedAt, [peer('node2', 'failing', T + 3)], failedAt, SKEW_S, T);
  t.is(verdict.kind, 'shared');
  t.deepEqual(verdict.kind === 'shared' && verdict.failing.map((p) => p.node), ['node2']);
  t.is(judge(failedAt, [peer('node2', 'failing', T - SKEW_S - 1)], failedAt, SKEW_S, T).kind, 'none', 'reported before the look began');
  // A pass is evidence against this node only after the failure was found, not since the look began.
  t.is(judge(failedAt, [peer('node2', 'ok', T + 3)], failedAt + 1, SKEW_S, T).kind, 'none');
});

test('one peer passing and one failing: the passing one makes it local (faults of two nodes, each its own)', (t) => {
  t.is(judge(T, [peer('node2', 'failing', T + 8), peer('node3', 'ok', T + 9)], T + 10).kind, 'local');
});

test('no peers, or only silent or stale ones: no evidence', (t) => {
  t.is(judge(T, [], T + 10).kind, 'none');
  // Confirmed after the failure began, but not for more than two of its intervals since.
  t.is(judge(T, [peer('node2', 'ok', T + 6)], T + 6 + 2 * EVERY + SKEW_S + 1).kind, 'none');
  t.is(judge(T, [peer('node2', 'ok', T + 6)], T + 6 + 2 * EVERY + SKEW_S).kind, 'local');
  t.is(judge(T, [peer('node2', 'failing', T + 1)], T + 1 + 2 * EVERY + SKEW_S + 1).kind, 'none');
  // A slow peer (interval 120 s) stays current longer.
  t.is(judge(T, [peer('node2', 'ok', T + 6, 120)], T + 200).kind, 'local');
});

test('a peer whose clock runs ahead beyond the skew is not believed', (t) => {
  t.is(judge(T, [peer('node2', 'ok', T + 30)], T + 10).kind, 'none');
  t.is(judge(T, [peer('node2', 'ok', T + 10 + SKEW_S)], T + 10).kind, 'local', 'ahead within the skew');
});

test('a stale passing peer does not spoil a shared verdict; a stale failing one does not make one', (t) => {
  t.is(judge(T, [peer('node2', 'failing', T + 3), peer('node3', 'ok', T - 200)], T + 5).kind, 'shared');
  t.is(judge(T, [peer('node2', 'ok', T - 2), peer('node3', 'failing', T + 3)], T + 5).kind, 'none', 'a recent ok before the failure: not every reporter fails');
});

test('the judgement: 1 with the evidence named, 5 once a restart did not repair it or the cause is a file of this node, 190 naming every node', (t) => {
  const check = { title: 'token check' };
  const local = judge(T, [peer('node2', 'ok', T + 7)], T + 10);
  t.deepEqual(outcomeOf(check, 'node1', T, local, 'HTTP 500'), {
    code: 1, reason: `token check fails here since ${new Date(T * 1000).toISOString().slice(11, 19)}, passes on node2 at ${new Date((T + 7) * 1000).toISOString().slice(11, 19)}: this node's fault: HTTP 500`,
  });
  t.is(outcomeOf(check, 'node1', T, local, 'x', { restarted: true }).code, 5);
  t.regex(outcomeOf(check, 'node1', T, local, 'x', { restarted: true }).reason, /not repaired by a restart/);
  t.is(outcomeOf(check, 'node1', T, local, 'x', { unrepairable: true }).code, 5);
  const shared = outcomeOf(check, 'node2', T, judge(T, [peer('node3', 'failing', T + 1), peer('node1', 'failing', T + 2)], T + 3), 'HTTP 500');
  t.is(shared.code, 190);
  t.regex(shared.reason, /^token check fails on node1, node2, node3 since \d\d:\d\d:\d\d, shared: HTTP 500$/);
  t.deepEqual(outcomeOf(check, 'node1', T, { kind: 'none' }, 'HTTP 500'), { code: 190, reason: 'HTTP 500' });
});

test('a published state is compact, one line, without quotes or bars, and bounded; decoding refuses anything else', (t) => {
  const text = encodeState({ state: 'failing', since: T, confirmed: T + 3, every: 10, reason: `a "quoted" | barred\nline ${'x'.repeat(300)}` });
  t.false(/["\n]/.test(text));
  t.true(text.length < 120);
  const back = decodeState(text)!;
  t.is(back.state, 'failing');
  t.is(back.since, T);
  t.is(back.confirmed, T + 3);
  t.is(back.every, 10);
  t.is(decodeState('maybe|1|2|3|x'), undefined);
  t.is(decodeState(''), undefined);
  t.is(decodeState('ok|1|2'), undefined);
});

test('the attribute names the resource without its clone suffix, and the check', (t) => {
  t.is(attributeName('p_keystone:2', 'token'), 'ocf-openstack-p_keystone-token');
  t.is(attributeName('p_keystone', 'token'), 'ocf-openstack-p_keystone-token');
  t.is(attributeName('odd name/../x', 'bus'), 'ocf-openstack-odd_name_.._x-bus');
});

test('attrd_updater\'s query output is read per node, other attributes ignored', (t) => {
  const text = 'name="a" host="node1" value="ok|1|2|10|passes"\nname="a" host="node2" value=""\nname="b" host="node3" value="x"\n';
  t.deepEqual([...parseQuery(text, 'a')], [['node1', 'ok|1|2|10|passes'], ['node2', '']]);
  t.deepEqual([...parseQuery('value="v" host="node4" name="a"\nname="a" value="no host"\n', 'a')], [['node4', 'v']], 'fields by name; a line without a host is no node\'s');
});

function context(variables: Record<string, string>) {
  const env = readEnvironment('keystone', 'monitor', { OCF_RESOURCE_INSTANCE: 'p_k:0', OCF_RESKEY_CRM_meta_interval: '10000', ...variables });
  return { env, log: new Logger(env.log), deadline: Deadline.after(5000) };
}

const TOKEN = { name: 'token', title: 'token check', shared: true, checks: 'a token' };

test('outside a clone run by Pacemaker there is no evidence: 190 with the problem as it is, nothing spawned; a check that is not shared is 1', async (t) => {
  const rscTmp = scratchDir(t, 'evidence-');
  const primitive = context({ HA_RSCTMP: rscTmp, OCF_RESKEY_CRM_meta_on_node: 'node1' });
  t.deepEqual(await checkFailed(primitive, TOKEN, 'HTTP 500'), { code: 190, reason: 'HTTP 500' });
  const unnamed = context({ HA_RSCTMP: rscTmp, OCF_RESKEY_CRM_meta_clone_max: '3' });
  t.deepEqual(await checkFailed(unnamed, TOKEN, 'HTTP 500'), { code: 190, reason: 'HTTP 500' });
  t.deepEqual(await checkFailed(unnamed, { ...TOKEN, shared: false }, 'no answer'), { code: 1, reason: 'no answer' });
  await checkPassed(unnamed, TOKEN);
});

test('attrd not answering (no cluster here) is no evidence, never a failure: 190, bounded by the deadline', async (t) => {
  const rscTmp = scratchDir(t, 'evidence-');
  const clone = context({ HA_RSCTMP: rscTmp, OCF_RESKEY_CRM_meta_clone_max: '3', OCF_RESKEY_CRM_meta_on_node: 'node1' });
  const started = Date.now();
  const outcome = await checkFailed(clone, TOKEN, 'HTTP 500');
  t.is(outcome.code, 190);
  t.is(outcome.reason, 'HTTP 500');
  t.true(Date.now() - started < 5000);
});

test('the end of a shared fault is no evidence against this node: a peer whose pass has only just begun does not make it local', (t) => {
  // The database was down for everyone since T; it came back at T + 300: the peers pass at once,
  // while a check here begun before may still fail.
  const justRecovered: PeerState = { node: 'node2', state: 'ok', since: T + 300, confirmed: T + 300, every: EVERY, reason: 'passes' };
  t.is(judge(T, [justRecovered], T + 302).kind, 'none', 'a pass younger than one interval: the next monitor decides (190)');
  const stillPassing: PeerState = { ...justRecovered, confirmed: T + 300 + EVERY + SKEW_S + 1 };
  t.is(judge(T, [stillPassing], T + 300 + EVERY + SKEW_S + 2).kind, 'local', 'passing for longer than its interval while this node still fails: local');
});

/**
 * For a serial test of the plumbing: attrd_updater is the stand-in (PATH, which the evidence module
 * hands to it), and Date.now can be moved ahead (a monitor interval, a restart) without waiting.
 * Both restored at the test's end; serial tests run before the concurrent ones of this file.
 */
function withAttrdAndClock(t: ExecutionContext): { attrd: FakeAttrd; ahead: (ms: number) => void } {
  const attrd = fakeAttrd(t, 'node1');
  const savedPath = process.env.PATH;
  const realNow = Date.now;
  let aheadMs = 0;
  process.env.PATH = attrd.env.PATH;
  Date.now = () => realNow() + aheadMs;
  t.teardown(() => {
    process.env.PATH = savedPath;
    Date.now = realNow;
  });
  return { attrd, ahead: (ms) => void (aheadMs += ms) };
}

test('a check whose recovery lags (settleS): a peer back for less than that is no evidence against this node yet', (t) => {
  // The bus came back at T + 300; node2 reconnected at once, this node only at its next publish.
  const backSoon: PeerState = { node: 'node2', state: 'ok', since: T + 300, confirmed: T + 300 + EVERY + SKEW_S + 1, every: EVERY, reason: 'passes' };
  const now = T + 300 + EVERY + SKEW_S + 2;
  t.is(judge(T, [backSoon], now).kind, 'local', 'without settleS: passing longer than its interval is evidence');
  t.is(judge(T, [backSoon], now, SKEW_S, T, 40).kind, 'none', 'with settleS 40: not yet');
  t.is(judge(T, [{ ...backSoon, confirmed: T + 346 }], T + 346, SKEW_S, T, 40).kind, 'local', 'back for longer than settleS + skew: local');
  // A peer that passed throughout this node's failure is evidence at once, whatever settleS says.
  t.is(judge(T, [{ ...backSoon, since: T - 100, confirmed: T + 15 }], T + 20, SKEW_S, T, 600).kind, 'local');
});

test.serial('a failure stays the same failure through monitors that could not judge (checkPending): failing again under another pid after them, a restart did not repair it: 5', async (t) => {
  const { attrd, ahead } = withAttrdAndClock(t);
  const BUS = { name: 'bus', title: 'message bus check', shared: true, checks: 'a bus connection' };
  const name = attributeName('p_k:0', 'bus');
  const peerPasses = () => {
    const now = Math.floor(Date.now() / 1000);
    attrd.set('node2', name, encodeState({ state: 'ok', since: now - 1000, confirmed: now, every: EVERY, reason: 'passes' }));
  };
  const run = async (bridged: boolean) => {
    const rscTmp = scratchDir(t, 'evidence-');
    // Each monitor is its own call, with its own deadline (on the clock moved ahead).
    const c = () => context({ ...attrd.env, HA_RSCTMP: rscTmp });
    // A peer's pass is evidence once confirmed after this node's failure began (beyond the skew).
    const failsWith = async (pid: number) => {
      await checkFailed(c(), BUS, 'no connection', { pid });
      ahead(10_000);
      peerPasses();
      return checkFailed(c(), BUS, 'no connection', { pid });
    };
    const first = await failsWith(100);
    // Pacemaker restarts the daemon; its new worker is not judged for 180 s, longer than a failure is
    // remembered unconfirmed (3 intervals + 30 s).
    for (let i = 0; i < 6; i++) {
      ahead(30_000);
      if (bridged) checkPending(c(), BUS);
    }
    peerPasses();
    const again = bridged ? await checkFailed(c(), BUS, 'no connection', { pid: 200 }) : await failsWith(200);
    return { first, again };
  };
  const bridged = await run(true);
  t.is(bridged.first.code, 1, bridged.first.reason);
  t.is(bridged.again.code, 5, bridged.again.reason);
  t.regex(bridged.again.reason ?? '', /this node's fault, not repaired by a restart/);
  // Without the pending monitors the same gap forgets the failure: a new one under the new pid, 1
  // again, and Pacemaker restarts it again (a restart loop instead of a ban).
  const forgotten = await run(false);
  t.is(forgotten.first.code, 1, forgotten.first.reason);
  t.is(forgotten.again.code, 1, forgotten.again.reason);
});

test.serial('a pass goes on only while it is published: one not published for longer than a few intervals (a stop, monitors that could not judge) starts anew', async (t) => {
  const { attrd, ahead } = withAttrdAndClock(t);
  const rscTmp = scratchDir(t, 'evidence-');
  const c = () => context({ ...attrd.env, HA_RSCTMP: rscTmp });
  const name = attributeName('p_k:0', 'token');
  const publishedSince = () => decodeState(attrd.values(name).node1 ?? '')?.since;
  await checkPassed(c(), TOKEN);
  const first = publishedSince()!;
  ahead(30_000); // within 3 intervals + 30 s of the last publish: the same pass
  await checkPassed(c(), TOKEN);
  t.is(publishedSince(), first);
  ahead(120_000); // nothing published for 2 min: a new pass
  await checkPassed(c(), TOKEN);
  t.is(publishedSince(), Math.floor(Date.now() / 1000));
  t.true(publishedSince()! > first + 100);
});

test.serial('a restart during a shared fault is no restart tried against a fault of this node: judged this node\'s afterwards, 1 first, then 5 only after a restart since', async (t) => {
  const { attrd, ahead } = withAttrdAndClock(t);
  const rscTmp = scratchDir(t, 'evidence-');
  const c = () => context({ ...attrd.env, HA_RSCTMP: rscTmp });
  const name = attributeName('p_k:0', 'token');
  const began = Math.floor(Date.now() / 1000);
  attrd.set('node2', name, encodeState({ state: 'failing', since: began, confirmed: began, every: EVERY, reason: 'HTTP 500' }));
  t.is((await checkFailed(c(), TOKEN, 'HTTP 500', { pid: 100 })).code, 190, 'shared at first');
  // Restarted meanwhile for another reason (pid 300); the peer is back and has been for 20 s.
  ahead(40_000);
  const now = Math.floor(Date.now() / 1000);
  attrd.set('node2', name, encodeState({ state: 'ok', since: now - 20, confirmed: now, every: EVERY, reason: 'passes' }));
  const local = await checkFailed(c(), TOKEN, 'HTTP 500', { pid: 300 });
  t.is(local.code, 1, local.reason);
  ahead(10_000);
  const later = Math.floor(Date.now() / 1000);
  attrd.set('node2', name, encodeState({ state: 'ok', since: now - 20, confirmed: later, every: EVERY, reason: 'passes' }));
  t.is((await checkFailed(c(), TOKEN, 'HTTP 500', { pid: 300 })).code, 1, 'the same daemon: still 1');
  t.is((await checkFailed(c(), TOKEN, 'HTTP 500', { pid: 400 })).code, 5, 'restarted since it was judged this node\'s: 5');
});

test.serial('a symptom this node\'s by default (Keystone\'s API not answering in time: localWhenAlone): 190 while every peer that reported since fails, 1 once one passes since, 190 while current peers have not reported since, 1 with no peer publishing and outside a clone', async (t) => {
  const { attrd, ahead } = withAttrdAndClock(t);
  const name = attributeName('p_k:0', 'token');
  const report = (node: string, state: 'ok' | 'failing', sinceAgoS: number) => {
    const now = Math.floor(Date.now() / 1000);
    attrd.set(node, name, encodeState({ state, since: now - sinceAgoS, confirmed: now, every: EVERY, reason: state }));
  };
  const failed = { localWhenAlone: true, cause: 'no-answer' };
  const monitor = (rscTmp: string) => checkFailed(context({ ...attrd.env, HA_RSCTMP: rscTmp }), TOKEN, 'no answer within 10000 ms', failed);

  // Every node's workers held by a locked database: the peers fail too, reported since.
  report('node2', 'failing', 5);
  report('node3', 'failing', 1);
  const shared = await monitor(scratchDir(t, 'evidence-'));
  t.is(shared.code, 190, shared.reason);
  t.regex(shared.reason ?? '', /^token check fails on node1, node2, node3 since \d\d:\d\d:\d\d, shared: no answer within 10000 ms$/);
  t.regex(attrd.values(name).node1 ?? '', /^failing\|/, 'published: the peers in the same state see this node fail too');

  // This node's uwsgi hung: the peers' passes, still current, were confirmed before its failure
  // began (22 s ago), so the first monitor cannot tell; their next pass makes it local.
  const hung = scratchDir(t, 'evidence-');
  report('node2', 'ok', 1000);
  report('node3', 'ok', 1000);
  ahead(22_000);
  const first = await monitor(hung);
  t.is(first.code, 190, `peers current, not reported since: ${first.reason}`);
  ahead(10_000);
  report('node2', 'ok', 1000);
  const second = await monitor(hung);
  t.is(second.code, 1, second.reason);
  t.regex(second.reason ?? '', /^token check fails here since \d\d:\d\d:\d\d, passes on node2 at \d\d:\d\d:\d\d: this node's fault: no answer within 10000 ms$/);
  // A failing state stays current for two intervals plus the action's own time: its next monitor
  // starts an interval after this one ended.
  t.true(decodeState(attrd.values(name).node1 ?? '')!.every > EVERY, attrd.values(name).node1);
  // The API answers again (forgetFailure): the failure ends; a new no-answer is judged from its own
  // start, against which the peers' earlier passes do not count.
  forgetFailure(context({ ...attrd.env, HA_RSCTMP: hung }), TOKEN, 'no-answer');
  ahead(5000);
  t.is((await monitor(hung)).code, 190, 'a new failure: the peers have not reported since it began');
  // A failure last found otherwise (a token refused) is not ended by it.
  await checkFailed(context({ ...attrd.env, HA_RSCTMP: hung }), TOKEN, 'HTTP 500');
  forgetFailure(context({ ...attrd.env, HA_RSCTMP: hung }), TOKEN, 'no-answer');
  ahead(10_000);
  report('node2', 'ok', 1000);
  t.is((await monitor(hung)).code, 1, 'the same failure goes on: the peer\'s pass since counts');

  // Peers gone silent (their states stale): none to come, this node's own.
  ahead(120_000);
  const alone = await monitor(scratchDir(t, 'evidence-'));
  t.deepEqual(alone, { code: 1, reason: 'no answer within 10000 ms' });
  // Without localWhenAlone the same is the safe default, 190.
  t.is((await checkFailed(context({ ...attrd.env, HA_RSCTMP: scratchDir(t, 'evidence-') }), TOKEN, 'HTTP 500')).code, 190);
  // A primitive: 1, nothing asked.
  t.deepEqual(await checkFailed(context({ HA_RSCTMP: scratchDir(t, 'evidence-'), OCF_RESKEY_CRM_meta_on_node: 'node1' }), TOKEN, 'no answer within 10000 ms', failed), { code: 1, reason: 'no answer within 10000 ms' });
});
