import test from 'ava';
import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPid, writePidfile } from '../../shared/pidfile.ts';

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

test('readPid takes a lone number and nothing else', (t) => {
  const dir = scratch(t);
  const file = join(dir, 'p');
  for (const [text, pid] of [['123\n', 123], ['  77  ', 77], ['', undefined], ['12ab', undefined], ['-5', undefined]] as const) {
    writeFileSync(file, text);
    t.is(readPid(file), pid, JSON.stringify(text));
  }
  t.is(readPid(join(dir, 'absent')), undefined);
});
