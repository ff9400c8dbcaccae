// `ocf-openstack`, the command for people: list the agents, show meta-data, run an action with
// the OCF environment set up as Pacemaker would. yargs is loaded here and nowhere else.
import { agentNames, isAgentName, loadAgent } from '../../agents/index.ts';
import { OCF, ocfCodeName } from '../ocf/exit-codes.ts';
import { renderMetadata, SUITE_VERSION } from '../ocf/metadata.ts';
import { writeStderr, writeStdout } from '../ocf/output.ts';
import { runAgent } from '../ocf/run.ts';

function parseParams(pairs: readonly string[]): Record<string, string> | string {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) return `--param expects name=value, got "${pair}"`;
    params[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return params;
}

/** Actions that act on no resource: everything else needs one named. */
const RESOURCELESS = new Set(['meta-data', 'validate-all', 'usage', 'help', 'methods']);

export async function runCli(args: readonly string[]): Promise<number> {
  const { default: yargs } = await import('yargs');
  let code: number = OCF.SUCCESS;
  const agentChoice = { type: 'string', choices: agentNames, describe: 'agent name' } as const;
  await yargs([...args])
    .scriptName('ocf-openstack')
    .usage('$0 <command>\n\nOCF resource agents for highly available OpenStack controllers.\nPacemaker runs the agents through their links in /usr/lib/ocf/resource.d/openstack/.')
    .command('list', 'list the agents', {}, () => {
      writeStdout(`${agentNames.join('\n')}\n`);
    })
    .command('meta-data <agent>', "print an agent's OCF meta-data", (y) => y.positional('agent', agentChoice), async (argv) => {
      // yargs reports a bad choice through fail() but may still call the handler
      if (isAgentName(String(argv.agent))) writeStdout(renderMetadata(await loadAgent(argv.agent as (typeof agentNames)[number])));
    })
    .command(
      'run <agent> <action>',
      'run an action with the OCF environment Pacemaker would set',
      (y) => y
        .positional('agent', agentChoice)
        .positional('action', { type: 'string', describe: 'start, stop, monitor, validate-all, reload, meta-data' })
        .option('param', { alias: 'p', type: 'string', array: true, default: [], describe: 'a parameter, name=value (repeatable)' })
        .option('resource', { alias: ['r', 'instance'], type: 'string', describe: 'the resource to act for: its Pacemaker id (OCF_RESOURCE_INSTANCE, e.g. p_memcached); required but for meta-data and validate-all' })
        .option('interval', { type: 'number', default: 0, describe: 'OCF_RESKEY_CRM_meta_interval in ms (0 and monitor: a probe)' })
        .option('timeout', { type: 'number', describe: 'OCF_RESKEY_CRM_meta_timeout in ms' })
        .option('clone-max', { type: 'number', describe: 'run as a clone of this many instances' })
        .option('check-level', { type: 'string', describe: 'OCF_CHECK_LEVEL: the monitor depth (0, 10, 20; default: monitor_check)' })
        .example('$0 run memcached monitor -r p_memcached -p port=11212', 'monitor resource p_memcached, the memcached of port 11212')
        .example('$0 run keystone reload -r p_keystone', 'reload the Keystone of resource p_keystone after editing its configuration')
        .epilog('Passwords given with --param are visible to other users in the process list: prefer a password file.'),
      async (argv) => {
        const params = parseParams(argv.param as string[]);
        if (typeof params === 'string' || !isAgentName(String(argv.agent))) {
          writeStderr(`${typeof params === 'string' ? params : `unknown agent ${argv.agent}`}\n`);
          code = OCF.ERR_ARGS;
          return;
        }
        const agentName = String(argv.agent);
        const action = String(argv.action);
        const resource = typeof argv.resource === 'string' ? argv.resource : undefined;
        // The instance names the pidfile, the log and the marker: a guessed one acts on nothing, or on another.
        if (!RESOURCELESS.has(action) && (resource === undefined || resource.trim() === '')) {
          writeStderr(`ocf-openstack run ${agentName} ${action}: name the resource to act for with --resource NAME (-r NAME), its Pacemaker id (for example p_${agentName}); no default is guessed\n`);
          code = OCF.ERR_ARGS;
          return;
        }
        const env: Record<string, string | undefined> = {
          ...process.env,
          OCF_ROOT: process.env.OCF_ROOT ?? '/usr/lib/ocf',
          OCF_RA_VERSION_MAJOR: '1',
          OCF_RA_VERSION_MINOR: '1',
          OCF_RESOURCE_TYPE: agentName,
          OCF_RESOURCE_PROVIDER: 'openstack',
          OCF_RESOURCE_INSTANCE: resource ?? agentName,
          OCF_RESKEY_CRM_meta_interval: String(argv.interval),
          ...(argv.timeout === undefined ? {} : { OCF_RESKEY_CRM_meta_timeout: String(argv.timeout) }),
          ...(argv['clone-max'] === undefined ? {} : { OCF_RESKEY_CRM_meta_clone_max: String(argv['clone-max']) }),
          ...(argv['check-level'] === undefined ? {} : { OCF_CHECK_LEVEL: argv['check-level'] }),
          ...Object.fromEntries(Object.entries(params).map(([name, value]) => [`OCF_RESKEY_${name}`, value])),
        };
        code = await runAgent(await loadAgent(agentName as (typeof agentNames)[number]), action, env);
        const which = resource === undefined ? agentName : `resource ${resource} (${agentName})`;
        writeStderr(`${which} ${action}: ${code === OCF.NOT_RUNNING ? 'not running, ' : ''}${ocfCodeName(code)} (${code})\n`);
      },
    )
    .demandCommand(1, 'name a command: list, meta-data or run')
    .strict()
    .version(SUITE_VERSION)
    .help()
    .fail((message, error) => {
      writeStderr(`${message ?? error?.message}\nRun "ocf-openstack --help" for usage.\n`);
      code = OCF.ERR_ARGS;
    })
    .parseAsync();
  return code;
}
