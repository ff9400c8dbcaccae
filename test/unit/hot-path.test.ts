// monitor and meta-data run every few seconds on every node: they must not load yargs or execa.
// The module graph is traced under Node (the same sources bun bundles; bun splits lazily imported
// modules into chunks that are only loaded when imported).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { callAgent, freePort, projectRoot, scratchDir } from '../helpers/agent.ts';
import { killAtEnd } from '../helpers/processes.ts';

function trace(agent: string, env: Record<string, string>) {
  const script = join(projectRoot, 'test', 'helpers', 'trace-hot-path.ts');
  const child = spawnSync(process.execPath, [script, agent], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout) as { codes: number[]; resolved: string[] };
}

test('memcached monitor of a running daemon (protocol check) and meta-data load neither yargs, execa nor the XML library', async (t) => {
  const rscTmp = scratchDir(t);
  const port = String(await freePort());
  const options = { instance: 'mc-hot', rscTmp, params: { port, logfile: join(rscTmp, 'memcached.log') } };
  killAtEnd(t, join(rscTmp, 'memcached-mc-hot.pid'));
  t.is((await callAgent('memcached', 'start', options)).code, 0);
  const { codes, resolved } = trace('memcached', {
    OCF_RESOURCE_INSTANCE: 'mc-hot', HA_RSCTMP: rscTmp, OCF_RESKEY_port: port, OCF_RESKEY_CRM_meta_interval: '10000',
  });
  t.deepEqual(codes, [0, 0], 'meta-data and monitor both succeeded');
  t.true(resolved.some((specifier) => specifier.includes('memcached.ts')), 'the trace saw the agent load');
  t.false(resolved.some((specifier) => /(^|\/)(execa|yargs|@xmldom)(\/|$)/.test(specifier)), resolved.join('\n'));
  t.false(resolved.includes('node:child_process'), 'nothing is spawned by a monitor');
  t.is((await callAgent('memcached', 'stop', options)).code, 0);
});

const HEAVY = /^(node:net|node:tty|node:child_process|node:http|node:https)$|(^|\/)(execa|yargs|@xmldom)(\/|$)/;

for (const agent of ['memcached', 'haproxy', 'keystone', 'ceilometer']) {
  test(`${agent}: meta-data and a probe load no heavy module (execa, yargs, the XML library, node:net, node:tty, node:child_process)`, (t) => {
    const rscTmp = scratchDir(t);
    const { codes, resolved } = trace(agent, { OCF_RESOURCE_INSTANCE: `${agent}-hot`, HA_RSCTMP: rscTmp, OCF_RESKEY_CRM_meta_interval: '0' });
    t.is(codes[0], 0, 'meta-data');
    t.is(codes[1], 7, 'a probe of a resource that is not running');
    t.true(resolved.some((specifier) => specifier.includes(`${agent}.ts`)), 'the trace saw the agent load');
    t.deepEqual(resolved.filter((specifier) => HEAVY.test(specifier)), []);
  });
}
