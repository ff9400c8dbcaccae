// ocf-openstack, the command for people, driven as a person would.
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentPath, binaryPath, projectRoot, runProgram, scratchDir } from '../helpers/agent.ts';

const cli = (...args: string[]) => runProgram(binaryPath, args, { PATH: process.env.PATH ?? '' });
const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;

test('list names every agent, and each has its link in resource.d/openstack', async (t) => {
  const result = await cli('list');
  t.is(result.code, 0);
  const agents = result.output.trim().split('\n');
  t.true(agents.includes('memcached'));
  for (const agent of agents) {
    const meta = await runProgram(agentPath(agent), ['meta-data']);
    t.is(meta.code, 0, agent);
    t.regex(meta.output, new RegExp(`<resource-agent name="${agent}"`));
  }
});

test('meta-data AGENT prints what the agent itself prints', async (t) => {
  const viaCli = await cli('meta-data', 'memcached');
  const viaLink = await runProgram(agentPath('memcached'), ['meta-data']);
  t.is(viaCli.code, 0);
  t.is(viaCli.output, viaLink.output);
});

test('run sets the OCF environment and reports the exit code by name with the reason', async (t) => {
  const rscTmp = scratchDir(t);
  const result = await runProgram(binaryPath, ['run', 'memcached', 'validate-all', '--param', 'port=eleven'], { PATH: process.env.PATH ?? '', HA_RSCTMP: rscTmp });
  t.is(result.code, 6);
  t.regex(result.output, /ocf-exit-reason:parameter port: "eleven" is not an integer/);
  t.regex(result.output, /OCF_ERR_CONFIGURED \(6\)/);
  const probe = await runProgram(binaryPath, ['run', 'memcached', 'monitor', '-p', 'port=1', '--instance', 'cli-probe'], { PATH: process.env.PATH ?? '', HA_RSCTMP: rscTmp });
  t.is(probe.code, 7);
  t.regex(probe.output, /OCF_NOT_RUNNING \(7\)/);
  const level = await runProgram(binaryPath, ['run', 'memcached', 'monitor', '-r', 'cli-probe', '-p', 'port=1', '--check-level', 'deep'], { PATH: process.env.PATH ?? '', HA_RSCTMP: rscTmp });
  t.is(level.code, 6, 'OCF_CHECK_LEVEL reaches the agent');
  t.regex(level.output, /ocf-exit-reason:OCF_CHECK_LEVEL "deep" is not a number/);
});

test('run names the resource it acts for: none given is refused, never guessed; "not running" is said as such (issue 17, item 7)', async (t) => {
  const rscTmp = scratchDir(t);
  const env = { PATH: process.env.PATH ?? '', HA_RSCTMP: rscTmp };
  const config = join(rscTmp, 'haproxy.cfg');
  writeFileSync(config, 'global\n  log stdout format raw local0\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nfrontend f\n  bind 127.0.0.1:1\n');
  const guessed = await runProgram(binaryPath, ['run', 'haproxy', 'reload', '-p', `config=${config}`], env);
  t.is(guessed.code, 2, guessed.output);
  t.regex(guessed.output, /name the resource to act for with --resource NAME/);
  t.notRegex(guessed.output, /SUCCESS/);
  const named = await runProgram(binaryPath, ['run', 'haproxy', 'reload', '--resource', 'p_haproxy_cli', '-p', `config=${config}`], env);
  t.is(named.code, 7, named.output);
  t.regex(named.output, /ocf-exit-reason:haproxy of resource p_haproxy_cli is not running here: nothing was reloaded/);
  t.regex(named.output, /resource p_haproxy_cli \(haproxy\) reload: not running, OCF_NOT_RUNNING \(7\)/);
  const stop = await runProgram(binaryPath, ['run', 'memcached', 'stop'], env);
  t.is(stop.code, 2, 'stop, like every action on a resource, needs one named');
  const validate = await runProgram(binaryPath, ['run', 'memcached', 'validate-all', '-p', 'port=eleven'], env);
  t.is(validate.code, 6, 'validate-all acts on no resource: it needs none');
});

test('--version, --help, and mistakes', async (t) => {
  const shown = await cli('--version');
  t.is(shown.code, 0);
  t.is(shown.output.trim(), version);
  const help = await cli('--help');
  t.is(help.code, 0);
  for (const command of ['list', 'meta-data', 'run']) t.regex(help.output, new RegExp(`ocf-openstack ${command}`));
  const unknown = await cli('frobnicate');
  t.is(unknown.code, 2);
  t.regex(unknown.output, /Unknown argument|unknown/i);
  const noAgent = await cli('meta-data', 'nosuchagent');
  t.is(noAgent.code, 2);
  const none = await cli();
  t.is(none.code, 2);
  t.regex(none.output, /name a command/);
});

test('an agent link without an action prints usage and exits 2; usage lists the actions', async (t) => {
  const bare = await runProgram(agentPath('memcached'), []);
  t.is(bare.code, 2);
  t.regex(bare.output, /usage: memcached \{start\|stop\|monitor\|validate-all\|meta-data\}/);
  const usage = await runProgram(agentPath('memcached'), ['usage']);
  t.is(usage.code, 0);
});
