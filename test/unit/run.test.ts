// The one exit point: what it writes and logs for each kind of outcome.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineAgent } from '../../shared/ocf/agent.ts';
import { degraded, failure, success, type Outcome } from '../../shared/ocf/outcome.ts';
import { runAgent } from '../../shared/ocf/run.ts';
import { string } from '../../shared/ocf/parameters.ts';

function agentMonitoring(outcome: Outcome) {
  return defineAgent({
    name: 'probe', shortdesc: 's', longdesc: 'l',
    parameters: { password: string({ shortdesc: 'p', longdesc: 'p', secret: true }) },
    actions: {
      start: { timeout: 5, run: async () => success },
      stop: { timeout: 5, run: async () => success },
      monitor: { depths: [{ name: 'process', level: 0, interval: 10, timeout: 5, checks: 'c' }], defaultDepth: () => 'process', run: async () => outcome },
      'validate-all': { timeout: 5, run: async () => success },
    },
  });
}

async function monitorWith(t: ExecutionContext, outcome: Outcome) {
  const dir = mkdtempSync(join(tmpdir(), 'ocf-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, 'log');
  let stderr = '';
  const code = await runAgent(agentMonitoring(outcome), 'monitor', { HA_LOGFILE: logFile, HA_RSCTMP: dir, OCF_RESKEY_password: 'hunter22' }, {
    stdout: () => undefined, stderr: (text) => (stderr += text),
  });
  return { code, stderr, log: readFileSync(logFile, 'utf8') };
}

test('OCF_DEGRADED (190): the exit reason is written, and logged as a warning, secrets blanked', async (t) => {
  const result = await monitorWith(t, degraded('the database behind it fails (password hunter22)'));
  t.is(result.code, 190);
  t.is(result.stderr, 'ocf-exit-reason:the database behind it fails (password ****)\n');
  t.regex(result.log, /WARNING: monitor: the database behind it fails \(password \*+\)/);
  t.false(result.log.includes('hunter22'));
  t.false(/ERROR/.test(result.log));
});

test('a failure is logged as an error', async (t) => {
  const result = await monitorWith(t, failure(1, 'it broke'));
  t.is(result.code, 1);
  t.is(result.stderr, 'ocf-exit-reason:it broke\n');
  t.regex(result.log, /ERROR: monitor: it broke/);
});
