// keystone: our monitor at each depth against the same checks done the old way (level 0: the
// shell `anything` monitor of the uwsgi master),
// on one running Keystone (Debian's, uwsgi + sqlite):
// - api: `curl -sf URL/v3`, the least a shell agent could do to GET the version document (our
//   monitor also checks that the uwsgi master is this resource's);
// - token: `openstack token issue` with OS_* variables (the password in the environment, not argv),
//   what the old agent's client call became once the keystone client lost its CLI.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callAgent, freePort } from '../helpers/agent.ts';
import { prepareKeystone, removeKeystone } from '../helpers/daemons/keystone.ts';
import { anythingMonitor, depthPairs, type Scenario } from './scenario.ts';

const PASSWORD = 'bench-secret';
const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export const keystone: Scenario = {
  name: 'keystone',
  async setUp() {
    const fixture = await prepareKeystone(PASSWORD);
    const rscTmp = mkdtempSync(join(tmpdir(), 'ocf-bench-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/v3`;
    const params = {
      config: fixture.config, listen: '127.0.0.1', port: String(port), processes: '1', threads: '1', logfile: join(rscTmp, 'keystone.log'),
      os_auth_url: url, os_username: 'admin', os_password: PASSWORD, os_project_name: 'admin',
    };
    const options = { instance: 'bench-keystone', rscTmp, timeoutMs: 60_000, params };
    const started = await callAgent('keystone', 'start', options);
    if (started.code !== 0) {
      removeKeystone(fixture);
      throw new Error(`keystone did not start: ${started.stderr}`);
    }
    const anythingPidfile = join(rscTmp, 'anything.pid');
    writeFileSync(anythingPidfile, readFileSync(join(rscTmp, 'keystone-bench-keystone.pid'), 'utf8'));
    const anything = anythingMonitor('bench-anything', '/usr/bin/uwsgi', anythingPidfile);
    const curl = { argv: ['/usr/bin/curl', '-sf', '-o', '/dev/null', '--max-time', '10', url], env: { PATH: SYSTEM_PATH } };
    const openstack = {
      argv: ['/usr/bin/openstack', 'token', 'issue', '-f', 'value', '-c', 'id'],
      env: {
        PATH: SYSTEM_PATH, HOME: rscTmp, OS_AUTH_URL: url, OS_IDENTITY_API_VERSION: '3', OS_USERNAME: 'admin', OS_PASSWORD: PASSWORD,
        OS_PROJECT_NAME: 'admin', OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default',
      },
    };
    return {
      pairs: await depthPairs('keystone', { ...options, timeoutMs: 30_000 }, (depth) => ({
        process: { command: anything, name: 'ocf:heartbeat:anything monitor' },
        api: { command: curl, name: 'curl -sf URL/v3' },
        token: { command: openstack, name: 'openstack token issue' },
      })[depth.name]!),
      async tearDown() {
        await callAgent('keystone', 'stop', options);
        rmSync(rscTmp, { recursive: true, force: true });
        removeKeystone(fixture);
      },
    };
  },
};
