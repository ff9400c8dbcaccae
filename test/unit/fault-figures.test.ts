// Issue 20's figures: what a fault run reads from the client's requests and from crm_mon, and the
// stock layout as an operator writes it.
import test from 'ava';
import { faultsLine, figuresOf, longestGap, shownBy, statusEvents, type FaultRun } from '../e2e/faults.ts';
import { crmCommandsOf } from '../e2e/three-layout.ts';
import { keystoneInitDaemon, stockLayout, stockPidfileLinks, stockUwsgiIni } from '../e2e/stock-layout.ts';
import type { ClusterStatus } from '../helpers/parsers/crm-mon.ts';

const NODES = ['node1', 'node2', 'node3'];

function status(started: Record<string, readonly string[]>, options: { failures?: ClusterStatus['failures']; offline?: readonly string[] } = {}): ClusterStatus {
  return {
    xml: '', online: true, quorum: true, dc: true,
    nodes: NODES.map((name) => ({ name, online: !options.offline?.includes(name), standby: false, unclean: false })),
    resources: Object.entries(started).flatMap(([id, nodes]) => nodes.map((node, i) => ({ id: id === 'vip' ? id : `${id}:${i}`, role: 'Started', active: true, failed: false, nodes: [node] }))),
    failures: [...(options.failures ?? [])],
  };
}
const everywhere = { haproxy: NODES, p_memcached: NODES, p_keystone: NODES, p_ceilometer: NODES };

test('longestGap: between two answers (each counted when its answer came), and from the last answer to the end', (t) => {
  const marks = [{ at: -100, ms: 5, ok: true }, { at: 0, ms: 1000, ok: false }, { at: 1000, ms: 10, ok: true }, { at: 1100, ms: 5, ok: true }];
  t.is(longestGap(marks, 1200), 1010 - (-95));
  t.is(longestGap(marks, 5000), 5000 - 1105);
  t.is(longestGap([{ at: 0, ms: 1000, ok: false }], 30_000), 30_000, 'never answered: the whole span');
  t.is(longestGap([{ at: -50, ms: 10, ok: true }, { at: 29_990, ms: 30, ok: true }], 30_000), 30_040, 'an answer after the end is not counted');
});

test('statusEvents: a new failure, an instance stopped and started, the VIP moved, a node lost; nothing when nothing changed', (t) => {
  const before = status({ vip: ['node1'], ...everywhere });
  t.deepEqual(statusEvents(before, before, 500), []);
  const failure = { id: 'haproxy', node: 'node1', task: 'monitor', exitstatus: 'error', exitcode: 1, exitreason: 'frozen' };
  const after = status({ vip: ['node2'], ...everywhere, haproxy: ['node2', 'node3'] }, { failures: [failure] });
  t.deepEqual(statusEvents(before, after, 700).map((e) => `${e.at} ${e.kind} ${e.text}`), [
    '700 failed haproxy monitor on node1: error (1) frozen',
    '700 stop haproxy stopped on node1',
    '700 vip VIP on node2',
  ]);
  t.deepEqual(statusEvents(after, before, 900).map((e) => e.kind), ['start', 'vip'], 'a failure that stays is not new');
  const lost = status({ vip: ['node2'], haproxy: ['node2', 'node3'], p_memcached: ['node2', 'node3'], p_keystone: ['node2', 'node3'], p_ceilometer: ['node2', 'node3'] }, { offline: ['node1'] });
  t.true(statusEvents(after, lost, 1000).some((e) => e.kind === 'node' && e.text === 'node1 offline'));
});

test('shownBy: failures, instances not started, offline nodes and the VIP, in one line; a healthy cluster shows the VIP only', (t) => {
  t.is(shownBy(status({ vip: ['node1'], ...everywhere }), NODES), 'VIP on node1');
  const shown = shownBy(status({ vip: ['node1'], ...everywhere, p_keystone: ['node1', 'node3'] },
    { failures: [{ id: 'p_keystone', node: 'node2', task: 'monitor', exitstatus: 'OCF_DEGRADED', exitcode: 190, exitreason: 'token check fails' }] }), NODES);
  t.is(shown, 'failed: p_keystone monitor on node2: OCF_DEGRADED (190) token check fails; not started: p_keystone@node2; VIP on node1');
});

test('faultsLine: the machine-readable line issue 20 names, "never" for a cluster that did not act', (t) => {
  const run = { fault: 'haproxy-frozen', layout: 'stock', outageMs: 20_000, failed: 20, sent: 40, actedMs: undefined } as unknown as FaultRun;
  t.is(faultsLine(run), 'faults haproxy-frozen stock outage_ms=20000 failed=20 sent=40 acted_ms=never');
  t.is(faultsLine({ ...run, layout: 'ours', actedMs: 557 }), 'faults haproxy-frozen ours outage_ms=20000 failed=20 sent=40 acted_ms=557');
});

test('the stock layout: lsb: classes for the four services, the VIP with HAProxy as ours; crmsh lines in maintenance mode', (t) => {
  const lines = crmCommandsOf(stockLayout()).map((line) => line.join(' '));
  t.is(lines[0], 'property maintenance-mode=true');
  t.is(lines.at(-1), 'property maintenance-mode=false');
  for (const agent of ['lsb:haproxy', 'lsb:keystone', 'lsb:memcached', 'lsb:ceilometer-agent-central']) t.true(lines.some((line) => line.includes(` ${agent} `)), agent);
  t.true(lines.includes('colocation vip-with-haproxy inf: vip haproxy-clone'));
  t.true(lines.includes('order vip-after-haproxy Mandatory: haproxy-clone vip'));
});

test('stockUwsgiIni: the package\'s ini with one process of one thread; an ini without them is refused', (t) => {
  const ini = stockUwsgiIni('[uwsgi]\nmaster = true\nprocesses = 8\nthreads = 32\nlisten = 100\n');
  t.is(ini, '[uwsgi]\nmaster = true\nprocesses = 1\nthreads = 1\nlisten = 100\n');
  t.throws(() => stockUwsgiIni('[uwsgi]\nprocesses = 8\n'), { message: /sets no threads/ });
});

test('the stock scripts\' status pointed at their own pidfiles: the uwsgi the keystone script picks (the last of its loop), ceilometer-polling\'s', (t) => {
  t.is(keystoneInitDaemon(['uwsgi_python3', 'uwsgi_python311', 'uwsgi', 'uwsgi_python39']), '/usr/bin/uwsgi_python311');
  t.is(keystoneInitDaemon(['uwsgi_python3']), '/usr/bin/uwsgi_python3');
  t.throws(() => keystoneInitDaemon(['uwsgi']), { message: /no \/usr\/bin\/uwsgi_python3/ });
  t.deepEqual(stockPidfileLinks('/usr/bin/uwsgi_python313'), {
    '/run/uwsgi_python313.pid': '/run/keystone/keystone.pid',
    '/run/ceilometer-polling.pid': '/run/ceilometer/ceilometer-agent-central.pid',
  });
});

test('figuresOf: within the bound, a request answered after it failed; the outage from the fault on; acted, crm_mon\'s first event', (t) => {
  const run = figuresOf({
    fault: 'haproxy-frozen', layout: 'stock', boundMs: 10_000, victim: 'node1', shown: 'VIP on node1',
    requests: [{ at: -900, ms: 600, ok: true }, { at: -200, ms: 10, ok: true }, { at: 100, ms: 1000, ok: false }, { at: 9_500, ms: 900, ok: true }],
    events: [{ at: 0, kind: 'fault', text: 'haproxy-frozen on node1' }, { at: 10_300, kind: 'repair', text: 'repaired' }],
  });
  t.is(run.sent, 2);
  t.is(run.failed, 2, 'the answer that came after the bound is no answer within it');
  t.is(run.outageMs, 10_000 - (-190), 'from the last answer before the fault to the bound; the earlier gap before the fault not counted');
  t.is(run.actedMs, undefined);
  t.is(figuresOf({ ...run, events: [...run.events, { at: 600, kind: 'failed', text: 'haproxy monitor on node1: error (1)' }] }).actedMs, 600);
});
