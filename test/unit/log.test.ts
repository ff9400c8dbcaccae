import test from 'ava';
import type { LogSettings } from '../../shared/ocf/environment.ts';
import { formatDate, Logger, type LogSinks } from '../../shared/ocf/log.ts';

function recorder() {
  const lines: { sink: string; target?: string; line: string }[] = [];
  const sinks: LogSinks = {
    writeStderr: (line) => lines.push({ sink: 'stderr', line }),
    appendFile: (target, line) => lines.push({ sink: 'file', target, line }),
    syslog: async (tag, priority, message) => void lines.push({ sink: 'syslog', target: `${tag} ${priority}`, line: message }),
  };
  return { lines, sinks };
}

const base: LogSettings = { facility: undefined, file: undefined, debugFile: undefined, debug: false, dateFormat: '', tag: 'memcached(mc1)[42]' };

test('without facility or file, lines go to stderr; debug only with HA_debug', (t) => {
  const { lines, sinks } = recorder();
  const log = new Logger(base, sinks, false);
  log.info('hello');
  log.debug('hidden');
  t.deepEqual(lines, [{ sink: 'stderr', line: 'INFO: hello' }]);
});

test('HA_LOGFACILITY goes through logger with the tag and facility.level; HA_LOGFILE is appended', async (t) => {
  const { lines, sinks } = recorder();
  const log = new Logger({ ...base, facility: 'daemon', file: '/var/log/x' }, sinks, false);
  log.error('broken');
  await log.flush(1000);
  t.deepEqual(lines, [
    { sink: 'syslog', target: 'memcached(mc1)[42] daemon.err', line: 'ERROR: broken' },
    { sink: 'file', target: '/var/log/x', line: ' memcached(mc1)[42]:    ERROR: broken' },
  ]);
});

test('debug lines go to HA_DEBUGLOG when HA_debug is set', (t) => {
  const { lines, sinks } = recorder();
  const log = new Logger({ ...base, debug: true, debugFile: '/tmp/debug' }, sinks, false);
  log.debug('detail');
  t.deepEqual(lines, [{ sink: 'file', target: '/tmp/debug', line: 'memcached(mc1)[42]:\tDEBUG: detail' }]);
});

test('a terminal gets tagged lines on stderr only', (t) => {
  const { lines, sinks } = recorder();
  const log = new Logger({ ...base, facility: 'daemon' }, sinks, true);
  log.warn('careful');
  t.deepEqual(lines, [{ sink: 'stderr', line: 'memcached(mc1)[42]: WARNING: careful' }]);
});

test('secrets are blanked out of every line', (t) => {
  const { lines, sinks } = recorder();
  const log = new Logger(base, sinks, false);
  log.addSecret('hunter2');
  log.error('login with hunter2 failed; hunter2!');
  t.is(lines[0]?.line, 'ERROR: login with **** failed; ****!');
  t.false(JSON.stringify(lines).includes('hunter2'));
});

test('HA_DATEFMT conversions', (t) => {
  const date = new Date(2026, 10, 2, 3, 4, 5);
  t.is(formatDate('%b %d %T ', date), 'Nov 02 03:04:05 ');
  t.is(formatDate('%Y/%m/%d_%H:%M:%S %%', date), '2026/11/02_03:04:05 %');
});

test('a secret that contains another is blanked whole', (t) => {
  const { lines, sinks } = recorder();
  const log = new Logger(base, sinks, false);
  log.addSecret('ab');
  log.addSecret('xxab@yy');
  log.addSecret('ab');
  log.error('pw xxab@yy and ab');
  t.is(lines[0]?.line, 'ERROR: pw **** and ****');
});

test('the wait for syslog at exit is bounded', async (t) => {
  const sinks: LogSinks = { writeStderr: () => undefined, appendFile: () => undefined, syslog: () => new Promise(() => undefined) };
  const log = new Logger({ ...base, facility: 'daemon' }, sinks, false);
  log.error('logger hangs');
  const started = Date.now();
  await log.flush(150);
  const waited = Date.now() - started;
  t.true(waited >= 140 && waited < 1000, `waited ${waited} ms`);
});
