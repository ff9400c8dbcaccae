// Issue 19's figures and Keystone's cache section as the three-node layout writes them.
import test from 'ava';
import { parseOsloIni } from '../../shared/config/oslo-ini.ts';
import { CACHE_SETTINGS, keystoneCacheSection, MEMCACHED_PORT, type CacheSetting } from '../e2e/three-layout.ts';
import { percentile, tokensLine } from '../e2e/tokens.ts';
import { NODES } from '../helpers/clusters/three-nodes.ts';

test('percentile: nearest rank, the median of an odd count its middle, p100 the largest, 0 for none', (t) => {
  const values = [120, 5, 40, 3000, 60];
  t.is(percentile(values, 50), 60);
  t.is(percentile(values, 99), 3000);
  t.is(percentile(values, 100), 3000);
  t.is(percentile([7], 1), 7);
  t.is(percentile([], 50), 0);
  t.is(percentile(Array.from({ length: 200 }, (_, i) => i + 1), 99), 198);
});

test('tokensLine: the machine-readable line issue 19 names', (t) => {
  t.is(tokensLine('node-lost', 'recommended', { sent: 412, failed: 0, errors: {}, p50Ms: 31, p99Ms: 540, maxMs: 1210, truncated: false }),
    'tokens node-lost recommended sent=412 failed=0 p50_ms=31 p99_ms=540 max_ms=1210');
});

test('every cache setting: caching on, the three nodes\' memcached servers, its backend; tokens and the catalog cached', (t) => {
  for (const setting of Object.keys(CACHE_SETTINGS) as CacheSetting[]) {
    const conf = parseOsloIni(keystoneCacheSection(setting));
    t.is(conf.get('cache')?.get('enabled'), 'true', setting);
    t.deepEqual(conf.get('cache')?.get('memcache_servers')?.split(','), NODES.map((n) => `${n.address}:${MEMCACHED_PORT}`), setting);
    t.regex(conf.get('cache')?.get('backend') ?? '', /^(oslo_cache\.memcache_pool|dogpile\.cache\.(memcached|pymemcache))$/, setting);
    t.is(conf.get('token')?.get('caching'), 'true', setting);
    t.is(conf.get('catalog')?.get('caching'), 'true', setting);
  }
});
