import test from 'ava';
import { Deadline, processAgeMs } from '../../shared/ocf/deadline.ts';

test('an action\'s deadline counts from the start of the process, as Pacemaker\'s timer does, and keeps its margin', (t) => {
  // This process was exec'd processAgeMs() ago, before its runtime came up (performance.now());
  // an action keeps a tenth of its timeout (at most 2 s) as margin.
  // The timeouts are taken beyond what this process has lived already (AVA's process may be tens
  // of seconds old when this file runs): a tenth of 10 s more than that, at most 2 s, is the margin.
  // At least the runtime's own age when asked (compared with a reading taken before the call: one
  // taken after it grows while a loaded machine delays this process, as 4 ms did in a CI run).
  // processAgeMs falls back to its own runtime reading when /proc's clock says less, so this holds
  // by construction; what it guards is that fallback. The bounds below test the deadline itself.
  const runtimeBefore = performance.now();
  const spent = processAgeMs();
  t.true(spent >= runtimeBefore, `${spent} ms since exec, ${runtimeBefore} ms since the runtime before the call`);
  const timeout = Math.ceil(spent) + 10_000;
  const margin = Math.min(2000, timeout / 10);
  const remaining = Deadline.forAction(timeout).remaining();
  t.true(remaining <= timeout - margin - spent + 25, `remaining ${remaining} ms of ${timeout} after ${spent} ms since the start`);
  t.true(remaining >= timeout - margin - processAgeMs() - 25, `remaining ${remaining} ms`);
  t.true(remaining > 0, 'some of the action is left');
  // The margin is at most 2 s.
  const long = Math.ceil(spent) + 60_000;
  t.true(Deadline.forAction(long).remaining() <= long - 2000 - spent + 25);
});

test('what remains is whole milliseconds (child_process and execa refuse a fractional timeout)', (t) => {
  const deadline = Deadline.forAction(17_777);
  for (const ms of [deadline.remaining(), deadline.bound(60_000), deadline.leaving(deadline.remaining() / 7).remaining(), Deadline.after(1000.5).remaining()]) {
    t.true(Number.isInteger(ms), String(ms));
  }
});
