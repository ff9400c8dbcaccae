// ceilometer: our monitor at each depth (process, and partitioning: a Redis round trip for the
// group membership of this node's member) against the shell `anything` monitor (kill -0 on the
// pidfile's pid) of the same running ceilometer-polling.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callAgent, freePort } from '../helpers/agent.ts';
import { anythingMonitor, depthPairs, type Scenario } from './scenario.ts';

export const ceilometer: Scenario = {
  name: 'ceilometer',
  async setUp() {
    const rscTmp = mkdtempSync(join(tmpdir(), 'ocf-bench-'));
    chmodSync(rscTmp, 0o755);
    const port = await freePort();
    const redis = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', rscTmp], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const polling = join(rscTmp, 'polling.yaml');
    writeFileSync(polling, '---\nsources: []\n', { mode: 0o644 });
    const config = join(rscTmp, 'ceilometer.conf');
    writeFileSync(config, `[coordination]\nbackend_url = redis://127.0.0.1:${port}\n[polling]\npartitioning_group_prefix = bench\ncfg_file = ${polling}\n`, { mode: 0o644 });
    const options = { instance: 'bench-cm', rscTmp, params: { config }, env: { OCF_RESKEY_CRM_meta_clone_max: '2' }, timeoutMs: 60_000 };
    const started = await callAgent('ceilometer', 'start', options);
    if (started.code !== 0) throw new Error(`ceilometer did not start: ${started.stderr}`);
    const pidfile = join(rscTmp, 'ceilometer-bench-cm.pid');
    const anythingPidfile = join(rscTmp, 'anything.pid');
    writeFileSync(anythingPidfile, readFileSync(pidfile, 'utf8'));
    // The master renames itself; anything's binfile is only used at start, kill -0 is its monitor.
    const reference = anythingMonitor('bench-anything', '/usr/bin/ceilometer-polling', anythingPidfile);
    return {
      pairs: await depthPairs('ceilometer', options, () => ({ command: reference, name: 'ocf:heartbeat:anything monitor' })),
      async tearDown() {
        await callAgent('ceilometer', 'stop', options);
        redis.kill('SIGKILL');
        rmSync(rscTmp, { recursive: true, force: true });
      },
    };
  },
};
