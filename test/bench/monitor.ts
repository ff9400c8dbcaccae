// npm run bench: each agent's monitor against its shell reference, paired in one run.
// Usage: node test/bench/monitor.ts [scenario ...] [--runs N]
import { formatResult, measurePair } from './measure.ts';
import { haproxy } from './haproxy.ts';
import { keystone } from './keystone.ts';
import { memcached } from './memcached.ts';
import { ceilometer } from './ceilometer.ts';
import { evidence } from './evidence.ts';
import type { Scenario } from './scenario.ts';

const scenarios: readonly Scenario[] = [memcached, haproxy, keystone, ceilometer, evidence];

const args = process.argv.slice(2);
const runsFlag = args.indexOf('--runs');
const runs = runsFlag >= 0 ? Number(args[runsFlag + 1]) : 31;
const wanted = args.filter((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--runs');
const chosen = wanted.length ? scenarios.filter((s) => wanted.includes(s.name)) : scenarios;

for (const scenario of chosen) {
  const prepared = await scenario.setUp();
  try {
    for (const pair of prepared.pairs) process.stdout.write(`${formatResult(measurePair(pair, runs), runs)}\n\n`);
  } finally {
    await prepared.tearDown();
  }
}
