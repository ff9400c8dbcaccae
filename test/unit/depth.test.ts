// Which monitor depth a call runs: OCF_CHECK_LEVEL (OCF 1.1 check levels) or monitor_check.
import test from 'ava';
import { loadAgent } from '../../agents/index.ts';
import type { MonitorDeclaration } from '../../shared/ocf/agent.ts';
import { resolveDepth } from '../../shared/ocf/depth.ts';
import { readEnvironment } from '../../shared/ocf/environment.ts';
import { OcfError } from '../../shared/ocf/outcome.ts';
import { readParameters, type ParameterSpecs } from '../../shared/ocf/parameters.ts';
import { runAgent } from '../../shared/ocf/run.ts';

async function depthOf(agentName: 'keystone' | 'memcached' | 'haproxy' | 'ceilometer', variables: Record<string, string>): Promise<string> {
  const agent = await loadAgent(agentName);
  const env = readEnvironment(agentName, 'monitor', variables);
  const monitor = agent.actions.monitor as MonitorDeclaration<ParameterSpecs>;
  return resolveDepth(monitor, env.checkLevel, { env, params: readParameters(agent.parameters, env) }).name;
}

const credentials = { OCF_RESKEY_os_username: 'admin', OCF_RESKEY_os_password: 'pw' };

test('without OCF_CHECK_LEVEL, monitor_check keeps its meaning (and its computed default)', async (t) => {
  t.is(await depthOf('keystone', credentials), 'token');
  t.is(await depthOf('keystone', { OCF_RESKEY_os_auth_url: 'http://127.0.0.1:5000/v3' }), 'api');
  t.is(await depthOf('keystone', {}), 'process');
  t.is(await depthOf('keystone', { ...credentials, OCF_RESKEY_monitor_check: 'process' }), 'process');
  t.is(await depthOf('memcached', {}), 'protocol');
  t.is(await depthOf('memcached', { OCF_RESKEY_monitor_check: 'process' }), 'process');
  t.is(await depthOf('haproxy', {}), 'process');
  t.is(await depthOf('haproxy', { OCF_RESKEY_stats_socket: '/run/haproxy/admin.sock' }), 'socket');
  t.is(await depthOf('ceilometer', {}), 'partitioning');
  t.is(await depthOf('keystone', { ...credentials, OCF_CHECK_LEVEL: '' }), 'token', 'an empty level is no level');
});

test('OCF_CHECK_LEVEL selects the depth, whatever monitor_check says', async (t) => {
  t.is(await depthOf('keystone', { ...credentials, OCF_CHECK_LEVEL: '0' }), 'process');
  t.is(await depthOf('keystone', { ...credentials, OCF_CHECK_LEVEL: '10' }), 'api');
  t.is(await depthOf('keystone', { OCF_RESKEY_monitor_check: 'process', ...credentials, OCF_CHECK_LEVEL: '20' }), 'token');
  t.is(await depthOf('memcached', { OCF_RESKEY_monitor_check: 'process', OCF_CHECK_LEVEL: '10' }), 'protocol');
  t.is(await depthOf('haproxy', { OCF_RESKEY_stats_socket: '/s', OCF_CHECK_LEVEL: '20' }), 'frontends');
  t.is(await depthOf('ceilometer', { OCF_CHECK_LEVEL: '0' }), 'process');
});

test('a level the agent does not implement runs the next lower one it does', async (t) => {
  t.is(await depthOf('keystone', { ...credentials, OCF_CHECK_LEVEL: '15' }), 'api');
  t.is(await depthOf('keystone', { ...credentials, OCF_CHECK_LEVEL: '99' }), 'token');
  t.is(await depthOf('keystone', { ...credentials, OCF_CHECK_LEVEL: '5' }), 'process');
  t.is(await depthOf('memcached', { OCF_CHECK_LEVEL: '20' }), 'protocol');
  t.is(await depthOf('ceilometer', { OCF_CHECK_LEVEL: '20' }), 'partitioning');
});

test('a level that cannot run with these parameters runs the next lower one', async (t) => {
  // pcs gives every resource the level-20 operation; without credentials there is no token to ask for.
  t.is(await depthOf('keystone', { OCF_CHECK_LEVEL: '20' }), 'api');
  t.is(await depthOf('keystone', { OCF_RESKEY_os_username: 'admin', OCF_CHECK_LEVEL: '20' }), 'api');
  t.is(await depthOf('keystone', { OCF_RESKEY_os_username: 'admin', OCF_RESKEY_os_password_file: '/p', OCF_CHECK_LEVEL: '20' }), 'token');
  t.is(await depthOf('haproxy', { OCF_CHECK_LEVEL: '10' }), 'process', 'no stats_socket: level 10 runs level 0');
  t.is(await depthOf('haproxy', { OCF_CHECK_LEVEL: '20' }), 'frontends');
});

test('a level that is not a number is OCF_ERR_CONFIGURED naming it', async (t) => {
  for (const level of ['deep', '-10', '1.5', '10x']) {
    const error = await t.throwsAsync(depthOf('memcached', { OCF_CHECK_LEVEL: level }), { instanceOf: OcfError });
    t.is(error?.outcome.code, 6);
    t.regex(error?.outcome.reason ?? '', new RegExp(`OCF_CHECK_LEVEL "${level.replace('.', '\\.')}" is not a number`));
  }
});

test('the runner turns a bad level into exit 6 with its reason, before the handler runs', async (t) => {
  let stderr = '';
  const code = await runAgent(await loadAgent('memcached'), 'monitor', { OCF_CHECK_LEVEL: 'high', HA_RSCTMP: '/nonexistent' }, {
    stdout: () => undefined, stderr: (text) => (stderr += text),
  });
  t.is(code, 6);
  t.regex(stderr, /^ocf-exit-reason:OCF_CHECK_LEVEL "high" is not a number \(levels: 0, 10\)$/m);
});
