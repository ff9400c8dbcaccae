// npm run bench:failover: the three-node failover scenarios for both colocation variants, in one
// run, measured by a client through the VIP. Prints a table, then one machine-readable line per
// scenario and variant: `failover SCENARIO VARIANT outage_ms=N failed=N sent=N`; then, on the
// recommended variant's cluster, issue 19's token scenarios for each of Keystone's cache settings
// (three-layout.ts's CACHE_SETTINGS), ending with one line per scenario and setting:
// `tokens SCENARIO SETTING sent=N failed=N p50_ms=N p99_ms=N max_ms=N`.
// `haproxy|recovery [rounds=N]`: issue 21's paired comparisons (PAIRED below), ending with
// `MODE SCENARIO SETTING outage_ms=N failed=N sent=N` (median outage, counts summed).
// `evidence [EVIDENCE-SCENARIO ...]`: issue 16's local and shared scenarios only (all of them, or
// those named), on the recommended variant unless variants are named, ending with one line each:
// `evidence SCENARIO VARIANT outage_ms=N failed=N sent=N; WHEN THE RIGHT EXIT CODE CAME`.
// Usage: node test/bench/failover.ts [VARIANT ...] [SETTING ...] [tokens] [TOKEN-SCENARIO ...] [haproxy|recovery [rounds=N]] [evidence [EVIDENCE-SCENARIO ...]]
// (run as root, beside no other cluster; `tokens`, `haproxy`, `recovery`: those scenarios only, on the recommended variant)
import { execFileSync } from 'node:child_process';
import { failureLines } from '../helpers/parsers/crm-mon.ts';
import { rmSync } from 'node:fs';
import { prepareKeystone, removeKeystone } from '../helpers/daemons/keystone.ts';
import { ADMIN_PASSWORD, Controllers, packageForNodes, type Figures } from '../e2e/failover.ts';
import { EVIDENCE_SCENARIOS, fileFault, haproxyFrozen, haproxyKilled, keystoneFrozen, keystoneLocalFault, keystoneKilled, nodeLost, partition, reloadEverywhere, SCENARIOS, sharedFault, standby, type FileFault, type KeystoneLocalFault, type Scenario, type SharedFault } from '../e2e/scenarios.ts';
import { CACHE_SETTINGS, HAPROXY_SETTINGS, RECOMMENDED, TOTEM, VARIANTS, type CacheSetting, type HaproxySetting, type Variant } from '../e2e/three-layout.ts';
import { TOKEN_SCENARIOS, tokenScenario, tokensLine, type TokenFigures, type TokenScenario } from '../e2e/tokens.ts';

const args = process.argv.slice(2);
const SETTINGS = Object.keys(CACHE_SETTINGS) as CacheSetting[];
/**
 * Paired comparisons (issue 21), on the recommended variant: each mode's scenarios under each of its
 * settings, the settings one after the other in every round (their order alternating, so that
 * neither always runs on a fresher cluster). `haproxy`: three-layout.ts's HAPROXY_SETTINGS.
 * `recovery`: how a failed HAProxy on the VIP's node is recovered: restarted in place (the VIP,
 * ordered after it, restarted with it), or the clone's instance banned there at its first failure
 * (`migration-threshold=1`, back after `failure-timeout=10s`), so the VIP moves to a node whose
 * HAProxy already runs.
 */
const PAIRED = {
  haproxy: {
    scenarios: ['keystone-killed', 'keystone-frozen', 'reload-agents', 'reload-external'],
    settings: HAPROXY_SETTINGS.map((setting: HaproxySetting) => ({ name: setting, apply: (c: Controllers) => c.useHaproxySetting(setting) })),
    reset: (c: Controllers) => c.useHaproxySetting('recommended'),
  },
  recovery: {
    scenarios: ['haproxy-killed', 'haproxy-frozen'],
    settings: [
      { name: 'restart-in-place', apply: (c: Controllers) => c.setMeta('haproxy-clone', { 'migration-threshold': undefined, 'failure-timeout': undefined }) },
      { name: 'migration-threshold=1', apply: (c: Controllers) => c.setMeta('haproxy-clone', { 'migration-threshold': '1', 'failure-timeout': '10s' }) },
    ],
    reset: (c: Controllers) => c.setMeta('haproxy-clone', { 'migration-threshold': undefined, 'failure-timeout': undefined }),
  },
} satisfies Record<string, { scenarios: readonly Scenario[]; settings: { name: string; apply: (c: Controllers) => Promise<void> }[]; reset: (c: Controllers) => Promise<void> }>;
type PairedMode = keyof typeof PAIRED;
const known = ['tokens', 'evidence', ...Object.keys(PAIRED), ...VARIANTS, ...SETTINGS, ...TOKEN_SCENARIOS, ...EVIDENCE_SCENARIOS] as readonly string[];
const roundsArg = args.find((arg) => /^rounds=\d+$/.test(arg));
const unknown = args.filter((arg) => !known.includes(arg) && arg !== roundsArg);
if (unknown.length) throw new Error(`unknown arguments ${unknown.join(' ')}: give variants (${VARIANTS.join(', ')}), cache settings (${SETTINGS.join(', ')}), tokens, token scenarios (${TOKEN_SCENARIOS.join(', ')}), ${Object.keys(PAIRED).join(' or ')} [rounds=N], evidence [${EVIDENCE_SCENARIOS.join(', ')}]`);
const tokensOnly = args.includes('tokens');
const evidenceOnly = args.includes('evidence') || args.some((arg) => (EVIDENCE_SCENARIOS as readonly string[]).includes(arg));
const wantedEvidence = args.filter((arg): arg is typeof EVIDENCE_SCENARIOS[number] => (EVIDENCE_SCENARIOS as readonly string[]).includes(arg));
const evidenceChosen: readonly typeof EVIDENCE_SCENARIOS[number][] = wantedEvidence.length ? wantedEvidence : EVIDENCE_SCENARIOS;
const pairedMode = (Object.keys(PAIRED) as PairedMode[]).find((mode) => args.includes(mode));
const ROUNDS = roundsArg ? Number(roundsArg.slice('rounds='.length)) : 3;
const pairedResults = new Map<string, (Figures | Error)[]>();
const wanted = args.filter((arg): arg is Variant => (VARIANTS as readonly string[]).includes(arg));
const variants = tokensOnly || pairedMode ? [RECOMMENDED] : wanted.length ? wanted : evidenceOnly ? [RECOMMENDED] : VARIANTS;
const wantedSettings = args.filter((arg): arg is CacheSetting => (SETTINGS as string[]).includes(arg));
const settings = wantedSettings.length ? wantedSettings : SETTINGS;
const wantedTokenScenarios = args.filter((arg): arg is TokenScenario => (TOKEN_SCENARIOS as readonly string[]).includes(arg));
const tokenScenarios = wantedTokenScenarios.length ? wantedTokenScenarios : TOKEN_SCENARIOS;
const tokenResults = new Map<CacheSetting, Map<TokenScenario, TokenFigures | Error>>();
const results = new Map<Variant, Map<Scenario, Figures | Error>>();

const runs: Record<Scenario, (c: Controllers) => Promise<Figures>> = {
  'haproxy-killed': async (c) => (await haproxyKilled(c)).figures,
  'haproxy-frozen': async (c) => (await haproxyFrozen(c)).figures,
  'keystone-killed': async (c) => (await keystoneKilled(c)).figures,
  'keystone-frozen': async (c) => (await keystoneFrozen(c)).figures,
  'reload-agents': async (c) => (await reloadEverywhere(c, 'reload-agents')).figures,
  'reload-external': async (c) => (await reloadEverywhere(c, 'reload-external')).figures,
  standby: async (c) => (await standby(c)).away.figures,
  'node-lost': async (c) => (await nodeLost(c)).lost.figures,
  partition: async (c) => (await partition(c)).figures,
};

type EvidenceScenario = typeof EVIDENCE_SCENARIOS[number];
/** The issue-16 scenarios: the outage through the VIP, and the time from the fault to the right exit code on each node. */
interface EvidenceFigures {
  readonly figures: Figures;
  readonly rightCode: string;
}
const evidenceResults = new Map<Variant, Map<EvidenceScenario, EvidenceFigures | Error>>();
const evidenceRuns: Record<EvidenceScenario, (c: Controllers) => Promise<EvidenceFigures>> = {
  'keys-lost': (c) => keystoneRun(c, 'keys-lost'),
  'database-path-wrong': (c) => keystoneRun(c, 'database-path-wrong'),
  'haproxy-certificate': (c) => fileRun(c, 'haproxy-certificate'),
  'ceilometer-typo': (c) => fileRun(c, 'ceilometer-typo'),
  'database-down': (c) => sharedRun(c, 'database'),
  'redis-down': (c) => sharedRun(c, 'redis'),
  'password-changed': (c) => sharedRun(c, 'password'),
  'bus-down': (c) => sharedRun(c, 'bus'),
};

async function keystoneRun(c: Controllers, fault: KeystoneLocalFault): Promise<EvidenceFigures> {
  const o = await keystoneLocalFault(c, fault);
  return { figures: o.figures, rightCode: `${o.victim}: ${o.code} after ${o.rightCodeMs} ms, banned after ${o.bannedMs} ms; tokens failed ${o.tokens.failed}/${o.tokens.sent}, the last ${o.tokensFailUntilMs} ms after the fault` };
}

async function fileRun(c: Controllers, fault: FileFault): Promise<EvidenceFigures> {
  const o = await fileFault(c, fault);
  return { figures: o.figures, rightCode: `${o.victim}: start ${o.code} and banned after ${o.bannedMs} ms; others restarted: ${o.othersRestarted.join(', ') || 'none'}; VIP ${o.vipBefore} -> ${o.vipAfter ?? 'nowhere'}` };
}

async function sharedRun(c: Controllers, fault: SharedFault): Promise<EvidenceFigures> {
  let outcome!: Awaited<ReturnType<typeof sharedFault>>;
  const figures = await c.measure(async () => void (outcome = await sharedFault(c, fault)));
  const per = Object.entries(outcome.degradedMs).sort().map(([node, ms]) => `${node} ${ms} ms`).join(', ');
  return { figures, rightCode: `190 on ${per}; every node named after ${outcome.namedMs ?? 'never'} ms; restarted: ${outcome.restartedOn.join(', ') || 'none'}` };
}

/** Every failure cleared (a re-probe, nothing restarted), then the layout settled again. */
async function cleanUp(c: Controllers): Promise<void> {
  await c.cluster.live().exec('crm_resource', ['--cleanup'], undefined, 60_000);
  await c.waitSettled(180_000).catch(() => undefined);
}

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

const [built, keystone] = await Promise.all([packageForNodes(), prepareKeystone(ADMIN_PASSWORD)]);
try {
  for (const variant of variants) {
    const figures = new Map<Scenario, Figures | Error>();
    results.set(variant, figures);
    log(`${variant}: bringing up three nodes`);
    const controllers = await Controllers.start(variant, keystone, built.deb);
    try {
      await controllers.configure();
      await controllers.waitSettled(240_000);
      const evidence = new Map<EvidenceScenario, EvidenceFigures | Error>();
      evidenceResults.set(variant, evidence);
      /** One scenario: its result, or its error logged and the cluster left to settle for the next. */
      const attempt = async <S extends string, R>(scenario: S, run: (c: Controllers) => Promise<R>, into: Map<S, R | Error>) => {
        log(`${variant}: ${scenario}`);
        try {
          into.set(scenario, await run(controllers));
        } catch (error) {
          into.set(scenario, error as Error);
          const failures = await controllers.cluster.status().then(failureLines, (e: Error) => e.message);
          log(`${variant}: ${scenario} failed: ${(error as Error).message.slice(0, 2000)}\nfailures in crm_mon now:\n${failures}\nlogs: ${controllers.cluster.logPlaces()}`);
          await controllers.waitSettled(180_000).catch(() => undefined);
        }
      };
      if (pairedMode) {
        const mode = PAIRED[pairedMode];
        for (let round = 0; round < ROUNDS; round++) {
          for (const scenario of mode.scenarios) {
            const order = round % 2 ? [...mode.settings].reverse() : mode.settings;
            for (const setting of order) {
              const key = `${scenario} ${setting.name}`;
              const into = new Map<string, Figures | Error>();
              await attempt(`${key} (round ${round + 1})`, async (c) => {
                await setting.apply(c);
                const f = await runs[scenario](c);
                log(`${pairedMode} ${key} outage_ms=${f.outageMs} failed=${f.failed} sent=${f.sent} (errors: ${JSON.stringify(f.counts.errors)}, answers: ${JSON.stringify(f.counts.answers)})`);
                return f;
              }, into);
              pairedResults.set(key, [...(pairedResults.get(key) ?? []), ...into.values()]);
              // A failed HAProxy's failure (and, with migration-threshold, its ban) cleared for the next run.
              await cleanUp(controllers);
            }
          }
        }
        await mode.reset(controllers);
      }
      if (!tokensOnly && !pairedMode) {
        // The failover scenarios first, in the e2e suite's order.
        if (!evidenceOnly) for (const scenario of SCENARIOS) await attempt(scenario, runs[scenario], figures);
        // haproxy-certificate bans the VIP's node's HAProxy and wants the others' running: only the
        // layout that runs HAProxy on every node has them (haproxy-follows-vip runs one, with the VIP).
        const evidenceScenarios = evidenceChosen.filter((scenario) => scenario !== 'haproxy-certificate' || variant === 'vip-follows-haproxy');
        for (const scenario of evidenceScenarios) await attempt(scenario, evidenceRuns[scenario], evidence);
      }
      // The cache does not depend on the colocation variant: measured on the recommended one.
      if (variant === RECOMMENDED && !pairedMode && !evidenceOnly) {
        for (const setting of settings) {
          const tokens = new Map<TokenScenario, TokenFigures | Error>();
          tokenResults.set(setting, tokens);
          log(`${variant}: Keystone's cache setting ${setting}`);
          try {
            await controllers.useCacheSetting(setting);
          } catch (error) {
            // Its scenarios are not run (printed FAILED); the next setting tries again.
            log(`${variant}: Keystone did not restart with ${setting}: ${(error as Error).message.slice(0, 2000)}`);
            for (const scenario of tokenScenarios) tokens.set(scenario, error as Error);
            continue;
          }
          for (const scenario of tokenScenarios) {
            await attempt(scenario, async (c) => {
              const outcome = await tokenScenario(c, scenario);
              log(`${tokensLine(scenario, setting, outcome.figures)} (failures by status: ${JSON.stringify(outcome.figures.errors)}; victim ${outcome.victim}; Keystone restarted on: ${outcome.keystoneRestartedOn.join(', ') || 'none'}; new Keystone failures: ${outcome.keystoneFailures.join(' | ') || 'none'})`);
              return outcome.figures;
            }, tokens);
          }
        }
      }
    } finally {
      await controllers.stop();
    }
  }
} finally {
  removeKeystone(keystone);
  rmSync(built.dir, { recursive: true, force: true });
}

const cell = (f: Figures | Error | undefined) => (!f ? 'not run' : f instanceof Error ? 'FAILED' : `${f.outageMs} ms, ${f.failed}/${f.sent} failed`);
// The release and versions measured, so that a table from one release is never mistaken for another's.
process.stdout.write(`\nOn ${execFileSync('build/versions.sh', { encoding: 'utf8' }).trim()}; ${new Date().toISOString().slice(0, 10)}\n`);
let failedRuns = 0;
if (pairedMode) {
  const mode = PAIRED[pairedMode];
  const names = mode.settings.map((setting) => setting.name);
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
  process.stdout.write(`\n${pairedMode} settings, paired (${ROUNDS} rounds, ${RECOMMENDED}; client: GET /v3, 1 s timeout; median outage, failed/sent summed; FAILED: a round that did not finish)\n\n`);
  process.stdout.write(`| scenario | ${names.join(' | ')} |\n|---|${names.map(() => '---').join('|')}|\n`);
  const summary = (key: string) => {
    const all = pairedResults.get(key) ?? [];
    const done = all.filter((f): f is Figures => !(f instanceof Error));
    failedRuns += all.length - done.length;
    if (!done.length) return undefined;
    return { outage: median(done.map((f) => f.outageMs)), failed: done.reduce((n, f) => n + f.failed, 0), sent: done.reduce((n, f) => n + f.sent, 0), missing: all.length - done.length };
  };
  const lines: string[] = [];
  for (const scenario of mode.scenarios) {
    const cells = names.map((setting) => {
      const f = summary(`${scenario} ${setting}`);
      if (f) lines.push(`${pairedMode} ${scenario} ${setting} outage_ms=${f.outage} failed=${f.failed} sent=${f.sent}`);
      return f ? `${f.outage} ms, ${f.failed}/${f.sent}${f.missing ? ` (${f.missing} FAILED)` : ''}` : 'FAILED';
    });
    process.stdout.write(`| ${scenario} | ${cells.join(' | ')} |\n`);
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
}
if (!tokensOnly && !pairedMode && !evidenceOnly) {
  process.stdout.write(`\nFailover through the VIP (corosync token ${TOTEM.token} ms, consensus ${TOTEM.consensus} ms; client: GET /v3, new connection each, 1 s timeout, 20 ms pause)\n\n`);
  process.stdout.write(`| scenario | ${variants.join(' | ')} |\n|---|${variants.map(() => '---').join('|')}|\n`);
  for (const scenario of SCENARIOS) process.stdout.write(`| ${scenario} | ${variants.map((v) => cell(results.get(v)?.get(scenario))).join(' | ')} |\n`);
  process.stdout.write('\n');
  for (const scenario of SCENARIOS) {
    for (const variant of variants) {
      const f = results.get(variant)?.get(scenario);
      if (f && !(f instanceof Error)) process.stdout.write(`failover ${scenario} ${variant} outage_ms=${f.outageMs} failed=${f.failed} sent=${f.sent}\n`);
      else failedRuns++;
    }
  }
}
if (!tokensOnly && !pairedMode) {
  process.stdout.write('\nLocal or shared, by the cluster\'s evidence (client: GET /v3 through the VIP; keys-lost also: token requests through the VIP)\n\n');
  for (const variant of variants) {
    for (const scenario of evidenceChosen) {
      const e = evidenceResults.get(variant)?.get(scenario);
      if (!e && scenario === 'haproxy-certificate' && variant !== 'vip-follows-haproxy') {
        process.stdout.write(`evidence ${scenario} ${variant} not run (HAProxy runs on the VIP's node only)\n`);
        continue;
      }
      if (!e || e instanceof Error) {
        failedRuns++;
        process.stdout.write(`evidence ${scenario} ${variant} FAILED\n`);
        continue;
      }
      process.stdout.write(`evidence ${scenario} ${variant} outage_ms=${e.figures.outageMs} failed=${e.figures.failed} sent=${e.figures.sent}; ${e.rightCode}\n`);
    }
  }
}
if (tokenResults.size) {
  const tokenCell = (f: TokenFigures | Error | undefined) => (!f ? 'not run' : f instanceof Error ? 'FAILED' : `${f.failed}/${f.sent} failed; ${f.p50Ms}/${f.p99Ms}/${f.maxMs} ms`);
  process.stdout.write(`\nToken requests through the VIP while one node's memcached is lost (${RECOMMENDED}; issue, then validate, one after the other; 10 s timeout; failed/sent; p50/p99/longest)\n\n`);
  process.stdout.write(`| scenario | ${[...tokenResults.keys()].join(' | ')} |\n|---|${[...tokenResults.keys()].map(() => '---').join('|')}|\n`);
  for (const scenario of tokenScenarios) process.stdout.write(`| ${scenario} | ${[...tokenResults.values()].map((r) => tokenCell(r.get(scenario))).join(' | ')} |\n`);
  process.stdout.write('\n');
  for (const scenario of tokenScenarios) {
    for (const [setting, results] of tokenResults) {
      const f = results.get(scenario);
      if (f && !(f instanceof Error)) process.stdout.write(`${tokensLine(scenario, setting, f)}\n`);
      else {
        failedRuns++;
        process.stdout.write(`tokens ${scenario} ${setting} FAILED\n`);
      }
    }
  }
}
process.exitCode = failedRuns ? 1 : 0;
