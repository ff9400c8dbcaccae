import test from 'ava';
import { Deadline, processAgeMs } from '../../shared/ocf/deadline.ts';

test('an action\'s deadline counts from the start of the process, as Pacemaker\'s timer does, and keeps its margin', (t) => {
  // This process was exec'd processAgeMs() ago, before its runtime came up (performance.now());
  // a 10 s action keeps 1 s of margin.
  const spent = processAgeMs();
  t.true(spent >= performance.now() - 1, `${spent} ms since exec, ${performance.now()} ms since the runtime`);
  const remaining = Deadline.forAction(10_000).remaining();
  t.true(remaining <= 9000 - spent + 25, `remaining ${remaining} ms after ${spent} ms since the start`);
  t.true(remaining >= 9000 - processAgeMs() - 25, `remaining ${remaining} ms`);
  // The margin is at most 2 s.
  t.true(Deadline.forAction(60_000).remaining() <= 58_000 - spent + 25);
});

test('what remains is whole milliseconds (child_process and execa refuse a fractional timeout)', (t) => {
  const deadline = Deadline.forAction(17_777);
  for (const ms of [deadline.remaining(), deadline.bound(60_000), deadline.leaving(deadline.remaining() / 7).remaining(), Deadline.after(1000.5).remaining()]) {
    t.true(Number.isInteger(ms), String(ms));
  }
});
