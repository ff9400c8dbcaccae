// Issue 21: stop gives up on a daemon that makes no progress toward exiting (hung, or ignoring its
// stop signal) long before the graceful part of the timeout ends, and keeps waiting on one that
// drains. Real processes that ignore SIGTERM stand in for a hung daemon (memcached, uwsgi and
// HAProxy cannot be told to ignore their stop signals).
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { Deadline } from '../../shared/ocf/deadline.ts';
import { OCF } from '../../shared/ocf/exit-codes.ts';
import { Logger } from '../../shared/ocf/log.ts';
import { isAlive } from '../../shared/process/proc.ts';
import { stopProcesses } from '../../shared/process/supervise.ts';

/** A python process that ignores SIGTERM; resolves once it has said so (its handler is set). */
async function ignoringTerm(t: { teardown: (fn: () => void) => void }): Promise<ChildProcess> {
  const child = spawn('python3', ['-c', 'import signal, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint("ready", flush=True)\ntime.sleep(60)'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => void child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', () => reject(new Error('the stand-in exited before it was ready')));
  });
  return child;
}

function logLines(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sinks = { writeStderr: (line: string) => lines.push(line), appendFile: () => undefined, syslog: async () => undefined };
  return { log: new Logger({ facility: undefined, file: undefined, debugFile: undefined, debug: false, dateFormat: '', tag: 't' }, sinks, false), lines };
}

test('a daemon that makes no progress after its stop signal is killed after its patience, not at the end of the graceful part', async (t) => {
  const child = await ignoringTerm(t);
  const { log, lines } = logLines();
  const started = performance.now();
  // 20 s: the graceful part alone would last 15 s (until 5 s are left).
  const outcome = await stopProcesses({ name: 'stand-in', find: () => ({ pids: isAlive(child.pid!) ? [child.pid!] : [] }), deadline: Deadline.after(20_000), log, patience: { ms: 1000 } });
  const elapsed = performance.now() - started;
  t.is(outcome.code, OCF.SUCCESS);
  t.true(elapsed >= 1000 && elapsed < 3000, `${Math.round(elapsed)} ms`);
  t.true(lines.some((line) => /stand-in \(pid \d+\) made no progress toward exiting in 1000 ms after SIGTERM; killing it with SIGKILL/.test(line)), lines.join('\n'));
});

test('a daemon that drains is waited for until the graceful part ends; without a patience, too', async (t) => {
  for (const patience of [{ ms: 500, draining: () => true }, undefined]) {
    const child = await ignoringTerm(t);
    const { log, lines } = logLines();
    const started = performance.now();
    // 4 s: the graceful part lasts until 1 s is left.
    const outcome = await stopProcesses({ name: 'stand-in', find: () => ({ pids: isAlive(child.pid!) ? [child.pid!] : [] }), deadline: Deadline.after(4000), log, ...(patience ? { patience } : {}) });
    const elapsed = performance.now() - started;
    t.is(outcome.code, OCF.SUCCESS);
    t.true(elapsed >= 2900, `${patience ? 'draining' : 'no patience'}: ${Math.round(elapsed)} ms`);
    t.true(lines.some((line) => /stand-in \(pid \d+\) ignored SIGTERM; killing it with SIGKILL/.test(line)), lines.join('\n'));
  }
});

test('a process of the daemon exiting is progress: the patience counts again from there', async (t) => {
  // Two processes that ignore SIGTERM; the first exits 800 ms after the signal, as a worker ending does.
  const first = await ignoringTerm(t);
  const second = await ignoringTerm(t);
  const { log, lines } = logLines();
  const started = performance.now();
  setTimeout(() => first.kill('SIGKILL'), 800);
  const outcome = await stopProcesses({ name: 'stand-in', find: () => ({ pids: [first.pid!, second.pid!].filter(isAlive) }), deadline: Deadline.after(20_000), log, patience: { ms: 1000 } });
  const elapsed = performance.now() - started;
  t.is(outcome.code, OCF.SUCCESS);
  t.true(elapsed >= 1700 && elapsed < 4000, `${Math.round(elapsed)} ms`);
  t.true(lines.some((line) => /made no progress toward exiting in 1000 ms/.test(line)), lines.join('\n'));
});
