import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidStatus, readPid, readPidfile, recordOf, writePidfile } from '../../shared/process/pidfile.ts';
import { bootId, startTime } from '../../shared/process/proc.ts';

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocf-pidfile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('writePidfile replaces a planted symlink instead of writing through it', (t) => {
  const dir = scratch(t);
  const victim = join(dir, 'victim');
  const pidfile = join(dir, 'run', 'daemon.pid');
  writeFileSync(victim, 'precious\n');
  writePidfile(join(dir, 'run', 'other.pid'), 1); // creates the directory
  symlinkSync(victim, pidfile);
  writePidfile(pidfile, 4242);
  t.is(readFileSync(victim, 'utf8'), 'precious\n');
  t.false(lstatSync(pidfile).isSymbolicLink());
  t.is(readPid(pidfile), 4242);
});

test('readPid takes a lone number on the first line and nothing else', (t) => {
  const dir = scratch(t);
  const file = join(dir, 'p');
  for (const [text, pid] of [
    ['123\n', 123], ['  77  ', 77], ['', undefined], ['12ab', undefined], ['-5', undefined], ['\n42\n', undefined], ['42\nstart=9\n', 42],
  ] as const) {
    writeFileSync(file, text);
    t.is(readPid(file), pid, JSON.stringify(text));
  }
  t.is(readPid(join(dir, 'absent')), undefined);
});

/** A live process that is nobody's daemon (no marker, not the program asked for). */
function sleeper(t: ExecutionContext): number {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  return child.pid!;
}

const identity = { binary: '/usr/bin/memcached', marker: 'memcached:mine' };

test('a pidfile keeps the pid on its first line, then the start time, the boot and the resource', (t) => {
  const file = join(scratch(t), 'p');
  const pid = sleeper(t);
  writePidfile(file, recordOf(pid, 'memcached:mine')!);
  const [first, ...rest] = readFileSync(file, 'utf8').trimEnd().split('\n');
  t.is(first, String(pid), 'tools that read the first line still find the pid');
  t.deepEqual(rest.map((line) => line.split('=')[0]), ['start', 'boot', 'resource']);
  t.deepEqual(readPidfile(file), { pid, start: startTime(pid), boot: bootId(), resource: 'memcached:mine' });
});

test('the start time names the process whatever its argv and environment say', (t) => {
  const file = join(scratch(t), 'p');
  const pid = sleeper(t); // argv "sleep 300", no marker: nothing else would call it our memcached
  writePidfile(file, recordOf(pid, 'memcached:mine')!);
  t.deepEqual(pidStatus(file, identity), { state: 'running', pid });
  writeFileSync(file, `${pid}\n`);
  t.deepEqual(pidStatus(file, identity), { state: 'foreign', pid }, 'without a start time, argv and marker decide');
});

test('a recorded start time that does not match is a reused pid: stale', (t) => {
  const file = join(scratch(t), 'p');
  const pid = sleeper(t);
  writePidfile(file, { pid, start: String(Number(startTime(pid)) - 1), boot: bootId(), resource: 'memcached:mine' });
  t.deepEqual(pidStatus(file, identity), { state: 'stale', pid });
  writePidfile(file, { pid, start: startTime(pid)!, boot: 'another-boot', resource: 'memcached:mine' });
  t.deepEqual(pidStatus(file, identity), { state: 'stale', pid }, 'start times count from boot');
});

test("another resource's live process is foreign, with its owner named", (t) => {
  const file = join(scratch(t), 'p');
  const pid = sleeper(t);
  writePidfile(file, recordOf(pid, 'memcached:other')!);
  t.deepEqual(pidStatus(file, identity), { state: 'foreign', pid, owner: 'memcached:other' });
});
