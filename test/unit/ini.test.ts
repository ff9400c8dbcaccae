// oslo.config reading: sections, comments, continuation, quotes, last value wins, --config-dir order.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSourcesIn, isOsloTrue, parseOsloIni, readOsloConfig } from '../../shared/config/oslo-ini.ts';

test('sections, comments, quotes and the last value winning', (t) => {
  const sections = parseOsloIni('# c\n[coordination]\n; other\nbackend_url = redis://a:1\n[polling]\nx = "quoted"\n[coordination]\nbackend_url=redis://b:2\n');
  t.is(sections.get('coordination')?.get('backend_url'), 'redis://b:2');
  t.is(sections.get('polling')?.get('x'), 'quoted');
});

test('continuation lines extend a value; a line outside any section is an error naming the line', (t) => {
  t.is(parseOsloIni('[a]\nk = one\n  two\n').get('a')?.get('k'), 'one\ntwo');
  t.throws(() => parseOsloIni('k = v\n', new Map(), 'f.conf'), { message: /f\.conf line 1: option outside of any section/ });
  t.throws(() => parseOsloIni('[a\n'), { message: /invalid section header/ });
});

test('files and directories in order; later files win; a missing file is an error', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ini-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'main.conf'), '[coordination]\nbackend_url = redis://main\n[polling]\npartitioning_group_prefix = p\n');
  mkdirSync(join(dir, 'd'));
  writeFileSync(join(dir, 'd', '20-b.conf'), '[coordination]\nbackend_url = redis://b\n');
  writeFileSync(join(dir, 'd', '10-a.conf'), '[coordination]\nbackend_url = redis://a\n');
  writeFileSync(join(dir, 'd', 'ignored.txt'), '[coordination]\nbackend_url = redis://ignored\n');
  const config = readOsloConfig([{ file: join(dir, 'main.conf') }, ...configSourcesIn(['--config-dir', join(dir, 'd')])], () => undefined);
  t.is(config.get('coordination', 'backend_url'), 'redis://b');
  t.is(config.get('polling', 'partitioning_group_prefix'), 'p');
  t.is(config.files.length, 3);
  t.throws(() => readOsloConfig([{ file: join(dir, 'absent.conf') }], () => undefined), { message: /no such file/ });
});

test('config options among arguments, both spellings; oslo booleans', (t) => {
  t.deepEqual(configSourcesIn(['--debug', '--config-file=/a', '--config-dir', '/d', '--config-file', '/b']), [{ file: '/a' }, { dir: '/d' }, { file: '/b' }]);
  t.true(isOsloTrue('True'));
  t.false(isOsloTrue('false'));
  t.false(isOsloTrue(undefined));
});
