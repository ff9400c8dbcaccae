// Every agent's meta-data is valid against resource-agents' ra-api-1.dtd and OCF 1.1's metadata.rng.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { agentNames, loadAgent } from '../../agents/index.ts';
import { renderMetadata } from '../../shared/ocf/metadata.ts';

const DTD = '/usr/share/resource-agents/ra-api-1.dtd';
const RNG = '/usr/share/resource-agents/metadata.rng';

function xmllint(args: string[], xml: string) {
  return spawnSync('xmllint', [...args, '-'], { input: xml, encoding: 'utf8' });
}

for (const name of agentNames) {
  test(`${name}: meta-data is valid against ra-api-1.dtd and metadata.rng`, async (t) => {
    const xml = renderMetadata(await loadAgent(name));
    const dtd = xmllint(['--noout', '--dtdvalid', DTD], xml);
    t.is(dtd.status, 0, dtd.stderr);
    const rng = xmllint(['--noout', '--relaxng', RNG], xml);
    t.is(rng.status, 0, rng.stderr);
  });

  test(`${name}: meta-data recommends timeouts for every action and an interval for monitor`, async (t) => {
    const agent = await loadAgent(name);
    const xml = renderMetadata(agent);
    for (const action of ['start', 'stop', 'monitor', 'validate-all', 'meta-data']) {
      t.regex(xml, new RegExp(`<action name="${action}" timeout="\\d+s"`), action);
    }
    for (const parameter of Object.keys(agent.parameters)) t.true(xml.includes(`<parameter name="${parameter}"`), parameter);
  });

  test(`${name}: meta-data lists one monitor per depth, levels 0 first, with distinct intervals`, async (t) => {
    const xml = renderMetadata(await loadAgent(name));
    const monitors = [...xml.matchAll(/<action name="monitor" timeout="(\d+)s" interval="(\d+)s" depth="(\d+)" \/>/g)];
    t.true(monitors.length >= 2, 'several depths');
    t.is(monitors.length, (xml.match(/<action name="monitor"/g) ?? []).length, 'every monitor action carries interval and depth');
    const levels = monitors.map((m) => Number(m[3]));
    t.is(levels[0], 0);
    t.deepEqual(levels, [...levels].sort((a, b) => a - b));
    t.is(new Set(levels).size, levels.length, 'one action per level');
    // pcs makes one operation per action and crmsh warns on duplicate intervals.
    const intervals = monitors.map((m) => m[2]);
    t.is(new Set(intervals).size, intervals.length, `distinct intervals: ${intervals.join(', ')}`);
  });
}

test('every agent claims OCF 1.1 and offers no reload-agent: Pacemaker restarts on a parameter change', async (t) => {
  // Pacemaker calls `reload` for parameter changes only for agents that do not claim OCF 1.1 (the
  // legacy use). Our reload re-reads the service's configuration; it could not apply new parameters.
  for (const name of agentNames) {
    const xml = renderMetadata(await loadAgent(name));
    t.regex(xml, /<version>1\.1<\/version>/, name);
    t.false(xml.includes('reload-agent'), name);
  }
});

test('special characters in descriptions are escaped', async (t) => {
  const xml = renderMetadata({
    name: 'x', shortdesc: 'a < b & "c"', longdesc: '<script>', parameters: {},
    actions: (await loadAgent('memcached')).actions,
  });
  t.true(xml.includes('a &lt; b &amp; &quot;c&quot;'));
  t.is(xmllint(['--noout', '--dtdvalid', DTD], xml).status, 0);
});
