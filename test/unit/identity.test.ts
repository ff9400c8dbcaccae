// Issue 17, item 6: the marker search narrows before it reads an environment, and a read that
// does not answer (a process in D state holding its mm lock) cannot hold the agent past its bound.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deadline } from '../../shared/ocf/deadline.ts';
import { OCF } from '../../shared/ocf/exit-codes.ts';
import { Logger } from '../../shared/ocf/log.ts';
import { expectedProcess, interpreterOf, markedProcesses, readMarkers } from '../../shared/process/identity.ts';
import { stopProcesses } from '../../shared/process/supervise.ts';

test('a read that never answers is abandoned at its bound, the others are answered', async (t) => {
  // The stand-in for /proc/PID/environ of a process in D state: a FIFO nobody writes, read off the
  // event loop exactly as environ is (fs/promises readFile). What this proves: the bound and the
  // abandonment. It does not put a real process in D state.
  const dir = mkdtempSync(join(tmpdir(), 'ocf-identity-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'environ');
  spawnSync('mkfifo', [fifo]);
  const started = Date.now();
  const answers = await readMarkers([1111, 2222], 300, async (pid) => (pid === 1111 ? readFile(fifo, 'latin1') : 'A=1\0OCF_OPENSTACK_RESOURCE=memcached:x\0'));
  const elapsed = Date.now() - started;
  t.true(elapsed < 1000, `${elapsed} ms`);
  t.deepEqual(answers.get(1111), { unanswered: true });
  t.deepEqual(answers.get(2222), { marker: 'memcached:x' });
  // Release the abandoned read (in the agent, the process exits with it still blocked).
  closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
});

test('a script\'s program is its #! interpreter, resolved', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ocf-identity-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 's');
  spawnSync('sh', ['-c', `printf '#!/usr/bin/env python3\\n' > ${script}`]);
  t.is(interpreterOf(script), realpathSync('/usr/bin/python3'));
  t.is(interpreterOf('/usr/bin/memcached'), undefined);
});

test('a marked process whose program or owner differs is no candidate, nor one leading no session without a launch record', async (t) => {
  // A process carrying the marker, but not the program (or not the owner): never a candidate.
  const child = spawn('sleep', ['300'], { stdio: 'ignore', env: { OCF_OPENSTACK_RESOURCE: 'memcached:narrow' } });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.true(readFileSync(`/proc/${child.pid}/environ`, 'latin1').includes('memcached:narrow'));
  const memcached = expectedProcess('memcached', '/usr/bin/memcached', process.getuid!(), 'memcached:narrow');
  const found = await markedProcesses(memcached, undefined, { state: 'absent' }, Deadline.after(5000));
  t.deepEqual(found, { pids: [], unanswered: [], complete: true });
  const otherOwner = expectedProcess('sleep', realpathSync('/usr/bin/sleep'), process.getuid!() + 1, 'memcached:narrow');
  t.deepEqual(await markedProcesses(otherOwner, undefined, { state: 'absent' }, Deadline.after(5000)), { pids: [], unanswered: [], complete: true });
  // Program and owner agree, and it leads no session of its own: without a launch record, not ours either.
  const sleep = expectedProcess('sleep', realpathSync('/usr/bin/sleep'), process.getuid!(), 'memcached:narrow');
  t.deepEqual((await markedProcesses(sleep, undefined, { state: 'absent' }, Deadline.after(5000))).pids, []);
});

test('a walk through /proc cut short by its deadline says it is incomplete', async (t) => {
  const memcached = expectedProcess('memcached', '/usr/bin/memcached', process.getuid!(), 'memcached:cut');
  const found = await markedProcesses(memcached, undefined, { state: 'absent' }, Deadline.after(0));
  t.false(found.complete);
});

test('stop never calls a resource stopped while its last look was not conclusive', async (t) => {
  const lines: string[] = [];
  const sinks = { writeStderr: (line: string) => lines.push(line), appendFile: () => undefined, syslog: async () => undefined };
  const log = new Logger({ facility: undefined, file: undefined, debugFile: undefined, debug: false, dateFormat: '', tag: 't' }, sinks, false);
  const started = Date.now();
  const outcome = await stopProcesses({ name: 'memcached', find: () => ({ pids: [], undecided: 'the environment of pid 4242 could not be read in time' }), deadline: Deadline.after(600), log });
  t.is(outcome.code, OCF.ERR_GENERIC);
  t.is(outcome.reason, 'memcached may still be running: the environment of pid 4242 could not be read in time');
  t.true(Date.now() - started < 1000, 'bounded by its deadline');
  t.is((await stopProcesses({ name: 'memcached', find: () => ({ pids: [] }), deadline: Deadline.after(600), log })).code, OCF.SUCCESS, 'a conclusive look that finds nothing is stopped');
});
