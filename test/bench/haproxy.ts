// haproxy: our monitor at each depth (master and worker; "show info" on the stats socket; every bind address)
// against the shell `anything` monitor (kill -0 on the pidfile's pid) of the same running HAProxy.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callAgent, freePort } from '../helpers/agent.ts';
import { anythingMonitor, depthPairs, type Scenario } from './scenario.ts';

export const haproxy: Scenario = {
  name: 'haproxy',
  async setUp() {
    const rscTmp = mkdtempSync(join(tmpdir(), 'ocf-bench-'));
    const [port, backendPort] = [await freePort(), await freePort()];
    const socket = join(rscTmp, 'admin.sock');
    const config = join(rscTmp, 'haproxy.cfg');
    writeFileSync(config, [
      'global',
      `    stats socket ${socket} mode 600 level admin`,
      'defaults',
      '    mode http',
      '    timeout connect 2s',
      '    timeout client 5s',
      '    timeout server 5s',
      'frontend api',
      `    bind 127.0.0.1:${port}`,
      '    default_backend app',
      'backend app',
      `    server app1 127.0.0.1:${backendPort}`,
      'listen answer',
      `    bind 127.0.0.1:${backendPort}`,
      '    http-request return status 200 content-type text/plain string ok',
      '',
    ].join('\n'));
    const options = { instance: 'bench-hap', rscTmp, params: { config, stats_socket: socket } };
    const started = await callAgent('haproxy', 'start', options);
    if (started.code !== 0) throw new Error(`haproxy did not start: ${started.stderr}`);
    const anythingPidfile = join(rscTmp, 'anything.pid');
    writeFileSync(anythingPidfile, readFileSync(join(rscTmp, 'haproxy-bench-hap.pid'), 'utf8'));
    const reference = anythingMonitor('bench-anything', '/usr/sbin/haproxy', anythingPidfile);
    return {
      pairs: await depthPairs('haproxy', options, () => ({ command: reference, name: 'ocf:heartbeat:anything monitor' })),
      async tearDown() {
        await callAgent('haproxy', 'stop', options);
        rmSync(rscTmp, { recursive: true, force: true });
      },
    };
  },
};
