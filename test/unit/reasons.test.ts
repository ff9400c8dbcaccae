// Issue 17, items 3 and 5: what leaves an agent as an exit reason is redacted before anything is
// cut, and bounded (256 bytes) by the one exit point, whatever the reason path.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentNames, loadAgent } from '../../agents/index.ts';
import { readOsloConfig } from '../../shared/config/oslo-ini.ts';
import { defineAgent } from '../../shared/ocf/agent.ts';
import { failure, quoted, REASON_MAX_BYTES, success, type Outcome } from '../../shared/ocf/outcome.ts';
import { exitReason, runAgent } from '../../shared/ocf/run.ts';
import { string } from '../../shared/ocf/parameters.ts';
import type { ActionContext } from '../../shared/ocf/agent.ts';

function scratch(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocf-reasons-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const parameters = {
  os_auth_url: string({ shortdesc: 'u', longdesc: 'u' }),
  config: string({ shortdesc: 'c', longdesc: 'c' }),
};

function agentMonitoring(run: (context: ActionContext<typeof parameters>) => Promise<Outcome>) {
  return defineAgent({
    name: 'probe', shortdesc: 's', longdesc: 'l', parameters,
    actions: {
      start: { timeout: 5, run: async () => success },
      stop: { timeout: 5, run: async () => success },
      monitor: { depths: [{ name: 'process', level: 0, interval: 10, timeout: 5, checks: 'c' }], defaultDepth: () => 'process', run },
      'validate-all': { timeout: 5, run: async () => success },
    },
  });
}

async function monitor(t: ExecutionContext, run: Parameters<typeof agentMonitoring>[0], params: Record<string, string> = {}) {
  const dir = scratch(t);
  const logFile = join(dir, 'log');
  let stderr = '';
  const variables = Object.fromEntries([['HA_LOGFILE', logFile], ['HA_RSCTMP', dir], ...Object.entries(params).map(([name, value]) => [`OCF_RESKEY_${name}`, value])]);
  const code = await runAgent(agentMonitoring(run), 'monitor', variables, { stdout: () => undefined, stderr: (text) => (stderr += text) });
  return { code, reason: /^ocf-exit-reason:(.*)$/m.exec(stderr)?.[1] ?? '', log: readFileSync(logFile, 'utf8') };
}

/** No run of `minimum` characters of `secret` appears in `text`. */
function leaksOf(secret: string, text: string, minimum = 4): string[] {
  const leaks: string[] = [];
  for (let i = 0; i + minimum <= secret.length; i++) if (text.includes(secret.slice(i, i + minimum))) leaks.push(secret.slice(i, i + minimum));
  return leaks;
}

test('a password in a quoted URL is blanked before the value is cut (cut-then-redact left 27 of 30 characters)', async (t) => {
  const password = 'Zq8vK2mWx7LpR4nT9bYc3HdF6gJs1A'; // 30 characters
  const url = `http://admin:${password}@192.0.2.11:5000/v3 with a space`;
  const result = await monitor(t, async ({ params }) => failure(6, `parameter os_auth_url: ${quoted(params.os_auth_url)} is not a URL`), { os_auth_url: url });
  t.is(result.code, 6);
  t.deepEqual(leaksOf(password, result.reason), [], result.reason);
  t.deepEqual(leaksOf(password, result.log), [], result.log);
  t.regex(result.reason, /^parameter os_auth_url: "http:\/\/admin:\*\*\*\*@192\.0\.2\.11:5000\/v3 wit\.\.\." \(49 characters\) is not a URL$/);
});

test('a malformed configuration line is quoted only after its file\'s credentials are registered', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'ceilometer.conf');
  const password = 'S3cretOfTheBackend';
  writeFileSync(file, `[coordination]\nbackend_url = redis://:${password}@127.0.0.1:6379\n[service_credentials]\npassword ${password}\n`);
  const result = await monitor(t, async ({ log }) => {
    try {
      readOsloConfig([{ file }], (secret) => log.addSecret(secret));
      return success;
    } catch (error) {
      return failure(6, (error as Error).message);
    }
  });
  t.is(result.code, 6);
  t.regex(result.reason, /line 4: expected "option = value", found "password \*\*\*\*"/);
  t.deepEqual(leaksOf(password, result.reason), []);
  t.deepEqual(leaksOf(password, result.log), []);
  // A malformed line alone, no valid option naming the password anywhere else in the file.
  writeFileSync(file, `[service_credentials]\npassword ${password}\n`);
  const alone = await monitor(t, async ({ log }) => {
    try {
      readOsloConfig([{ file }], (secret) => log.addSecret(secret));
      return success;
    } catch (error) {
      return failure(6, (error as Error).message);
    }
  });
  t.deepEqual(leaksOf(password, alone.reason), [], alone.reason);
});

test('every reason is at most 256 bytes after redaction, its start kept: long pid lists, daemon output, multibyte text', async (t) => {
  const pids = Array.from({ length: 600 }, (_, i) => 10_000 + i);
  const reasons = [
    `memcached (pid ${pids.join(', ')}) is still running after SIGKILL`,
    `memcached exited during start (exit code 1): ${'x'.repeat(4096)}`,
    `é€😀`.repeat(200),
    `keystone is already running but ${'y'.repeat(300)} ${quoted('z'.repeat(10_000))}`,
  ];
  for (const reason of reasons) {
    const result = await monitor(t, async () => failure(1, reason));
    t.true(Buffer.byteLength(result.reason) <= REASON_MAX_BYTES, `${Buffer.byteLength(result.reason)} bytes`);
    t.true(result.reason.startsWith(reason.slice(0, 20)), 'the useful part, the start, is kept');
    t.true(result.reason.endsWith('...'));
    t.false(result.reason.includes('\uFFFD'), 'cut at a character, never inside one');
  }
  t.is(exitReason('short\n  and simple', { redact: (text) => text }), 'short and simple');
});

test('every agent\'s reason paths stay within 256 bytes with huge and hostile parameter values', async (t) => {
  // Each agent, each action that acts without launching a daemon, each parameter 20 kB long (with
  // newlines and a URL carrying a password), then every parameter at once.
  const dir = scratch(t);
  const secret = 'P4ssw0rdThatMustNotShow';
  const huge = `http://u:${secret}@h/${'a'.repeat(20_000)}\n${'é'.repeat(5000)}`;
  let checked = 0;
  for (const name of agentNames) {
    const agent = await loadAgent(name);
    const names = Object.keys(agent.parameters);
    const cases = [...names.map((parameter) => [parameter]), names];
    for (const action of ['monitor', 'validate-all', 'stop', 'reload', 'no-such-action']) {
      for (const given of cases) {
        let stderr = '';
        const variables: Record<string, string> = {
          HA_RSCTMP: dir, HA_LOGFILE: join(dir, 'log'), OCF_RESOURCE_INSTANCE: `r-${'i'.repeat(300)}`, OCF_RESKEY_CRM_meta_interval: '0', OCF_RESKEY_CRM_meta_timeout: '5000',
          ...Object.fromEntries(given.map((parameter) => [`OCF_RESKEY_${parameter}`, huge])),
        };
        await runAgent(agent, action, variables, { stdout: () => undefined, stderr: (text) => (stderr += text) });
        const reason = /^ocf-exit-reason:(.*)$/m.exec(stderr)?.[1];
        if (reason === undefined) continue;
        checked++;
        t.true(Buffer.byteLength(reason) <= REASON_MAX_BYTES, `${name} ${action} ${given.length > 1 ? 'all' : given[0]}: ${Buffer.byteLength(reason)} bytes`);
        t.false(reason.includes(secret.slice(0, 8)), `${name} ${action}: ${reason}`);
      }
    }
  }
  t.true(checked > 50, `${checked} reasons checked`);
});
