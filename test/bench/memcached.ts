// memcached: our monitor at each depth (process, protocol round trip) against the shell `anything` monitor
// (kill -0 on the pidfile's pid) of the same running daemon.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callAgent, freePort } from '../helpers/agent.ts';
import { anythingMonitor, depthPairs, type Scenario } from './scenario.ts';

export const memcached: Scenario = {
  name: 'memcached',
  async setUp() {
    const rscTmp = mkdtempSync(join(tmpdir(), 'ocf-bench-'));
    const port = await freePort();
    const options = { instance: 'bench-mc', rscTmp, params: { port: String(port) } };
    const started = await callAgent('memcached', 'start', options);
    if (started.code !== 0) throw new Error(`memcached did not start: ${started.stderr}`);
    const pidfile = join(rscTmp, 'memcached-bench-mc.pid');
    const anythingPidfile = join(rscTmp, 'anything.pid');
    writeFileSync(anythingPidfile, `${(await import('node:fs')).readFileSync(pidfile, 'utf8')}`);
    const reference = anythingMonitor('bench-anything', '/usr/bin/memcached', anythingPidfile);
    return {
      pairs: await depthPairs('memcached', options, () => ({ command: reference, name: 'ocf:heartbeat:anything monitor' })),
      async tearDown() {
        await callAgent('memcached', 'stop', options);
        rmSync(rscTmp, { recursive: true, force: true });
      },
    };
  },
};
