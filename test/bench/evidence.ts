// The cost of the cluster's evidence (shared/cluster/evidence.ts) on a healthy monitor: keystone's
// API check (level 10) as a clone run by Pacemaker (evidence on) against the same check as a
// primitive (evidence off), on one running Keystone.
// - "publish due": every run publishes the passing state (the first monitor of each interval):
//   one attrd_updater spawned. The kept state is removed before each run by `sh -c 'rm -f ...'`,
//   and the reference runs through the same shell, so both pay for it.
// - "publish not due": the other monitors of an interval: the kept state is read, nothing spawned.
// Here no attrd runs (no cluster on the bench machine): attrd_updater starts, finds no daemon and
// exits, which is the cost of a spawn plus a failed IPC connect; a real publish adds one IPC round trip.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentPath, callAgent, freePort, ocfEnvironment } from '../helpers/agent.ts';
import { prepareKeystone, removeKeystone } from '../helpers/daemons/keystone.ts';
import { attributeName } from '../../shared/cluster/evidence.ts';
import type { Scenario } from './scenario.ts';

export const evidence: Scenario = {
  name: 'evidence',
  async setUp() {
    const fixture = await prepareKeystone('bench-secret');
    const rscTmp = mkdtempSync(join(tmpdir(), 'ocf-bench-'));
    const port = await freePort();
    const params = { config: fixture.config, listen: '127.0.0.1', port: String(port), processes: '1', threads: '1', logfile: join(rscTmp, 'keystone.log'), os_auth_url: `http://127.0.0.1:${port}/v3` };
    const options = { instance: 'bench-ev', rscTmp, timeoutMs: 60_000, params };
    const started = await callAgent('keystone', 'start', options);
    if (started.code !== 0) {
      removeKeystone(fixture);
      throw new Error(`keystone did not start: ${started.stderr}`);
    }
    const level10 = { OCF_CHECK_LEVEL: '10' };
    const primitive = ocfEnvironment('keystone', { ...options, timeoutMs: 20_000, env: level10 });
    const clone = ocfEnvironment('keystone', { ...options, timeoutMs: 20_000, env: { ...level10, OCF_RESKEY_CRM_meta_clone_max: '3', OCF_RESKEY_CRM_meta_on_node: 'node1' } });
    const kept = join(rscTmp, `${attributeName('bench-ev', 'api')}.evidence`);
    const agent = agentPath('keystone');
    const viaShell = (env: Record<string, string>) => ({ argv: ['/bin/sh', '-c', `rm -f '${kept}'; exec '${agent}' monitor`], env });
    return {
      pairs: [
        { name: 'keystone monitor level 10, clone with evidence, publish due (one attrd_updater)', ours: viaShell(clone), reference: viaShell(primitive), referenceName: 'the same as a primitive (no evidence)' },
        {
          name: 'keystone monitor level 10, clone with evidence, publish not due (nothing spawned)',
          ours: { argv: [agent, 'monitor'], env: { ...clone, OCF_RESKEY_CRM_meta_interval: '3600000' } },
          reference: { argv: [agent, 'monitor'], env: primitive }, referenceName: 'the same as a primitive (no evidence)',
        },
      ],
      async tearDown() {
        await callAgent('keystone', 'stop', options);
        rmSync(rscTmp, { recursive: true, force: true });
        removeKeystone(fixture);
      },
    };
  },
};
