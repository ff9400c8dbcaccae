// ocf:openstack:memcached: the cache OpenStack services keep tokens in. Every controller runs its
// own; services are given the full list of them (HA guide: "Memcached").
import { defineAgent, type ActionContext } from '../shared/ocf/agent.ts';
import { addressFamily, isAddressOrHostname } from '../shared/net/address.ts';
import { interfaceAddress, interfaceNameProblem, namedInterface } from '../shared/net/interfaces.ts';
import { requireBinary } from '../shared/process/binary.ts';
import { daemonFrozenProblem, daemonStatus, logfileParameter, notRunningOutcome, startDaemon, stopDaemon, type Daemon } from '../shared/process/daemon.ts';
import { splitArguments } from '../shared/ocf/exec.ts';
import { OCF, type OcfCode } from '../shared/ocf/exit-codes.ts';
import { connectAddress, isListening, tcpExchange } from '../shared/net/socket.ts';
import { fail, failure, quoted, success } from '../shared/ocf/outcome.ts';
import { choice, integer, string } from '../shared/ocf/parameters.ts';
import { readState, removeState, writeState } from '../shared/process/state-file.ts';
import { firstExistingUser, lookupUser } from '../shared/process/users.ts';

const parameters = {
  binary: string({
    shortdesc: 'memcached binary',
    longdesc: 'The memcached program, by name (searched in PATH) or by full path.',
    default: 'memcached',
  }),
  user: string({
    shortdesc: 'User memcached runs as',
    longdesc: 'The user memcached runs as. Default: the distribution\'s memcached user, "memcache" on Debian and Ubuntu, "memcached" on RHEL and SUSE.',
    default: () => firstExistingUser(['memcache', 'memcached']),
  }),
  listen: string({
    shortdesc: 'Address to listen on',
    longdesc: 'The address memcached listens on (memcached -l), or "interface:NAME": this node\'s address on interface NAME (its first IPv4 address, the primary, else its first IPv6 address that is not link-local), so that one clone definition listens on each controller\'s own management address. Use the controller\'s management address; 0.0.0.0 listens everywhere, which memcached, having no authentication, should not.',
    default: '127.0.0.1',
  }),
  port: integer({
    shortdesc: 'TCP port',
    longdesc: 'The TCP port memcached listens on (memcached -p).',
    default: 11211, min: 1, max: 65535, unique: true,
  }),
  memory: integer({
    shortdesc: 'Cache size in MB',
    longdesc: 'The memory memcached may use for items, in megabytes (memcached -m).',
    default: 64, min: 1,
  }),
  max_connections: integer({
    shortdesc: 'Maximum simultaneous connections',
    longdesc: 'The maximum number of simultaneous client connections (memcached -c).',
    default: 1024, min: 1,
  }),
  pid: string({
    shortdesc: 'Pidfile',
    longdesc: 'The pidfile this agent keeps for the daemon. Default: $HA_RSCTMP/memcached-RESOURCE_ID.pid.',
    default: (env) => `${env.rscTmp}/memcached-${env.instance}.pid`,
    unique: true,
  }),
  logfile: logfileParameter('memcached'),
  additional_parameters: string({
    shortdesc: 'Additional memcached options',
    longdesc: 'More options for memcached, split into words like a shell would (quotes honoured) but never evaluated by one.',
  }),
  monitor_check: choice(['protocol', 'process'], {
    shortdesc: 'How deep monitor looks',
    longdesc: 'The depth of a monitor operation without OCF_CHECK_LEVEL (an operation with OCF_CHECK_LEVEL runs that level: 0 process, 10 protocol). "protocol": the daemon is alive and answers a memcached "version" request on its address within a bounded time. "process": the daemon is alive.',
    default: 'protocol',
  }),
};

type Context = ActionContext<typeof parameters>;

function daemonOf({ params }: Context): Daemon {
  // memcached exits at once on SIGTERM: 2 s with none of its processes gone is a hung memcached.
  return { name: 'memcached', binary: params.binary, pidfile: params.pid, logFile: params.logfile, user: params.user, stopPatience: { ms: 2000 } };
}

/**
 * The address memcached listens on here: parameter listen, or this node's address on the interface
 * it names. `problem` (with the exit code it deserves) when this node has none.
 */
function listenAddress({ params }: Context): { address: string; problem?: undefined } | { problem: string; code: OcfCode } {
  const name = namedInterface(params.listen);
  if (name === undefined) return { address: params.listen };
  const found = interfaceAddress(name);
  if ('address' in found) return { address: found.address };
  // No such interface: this node is not built for the resource (5, banned here, the others go on).
  // An interface without an address may get one (DHCP, an operator's ip addr add): 1, tried again.
  return found.missing === 'interface'
    ? { problem: `parameter listen: this node has no interface ${quoted(name)}`, code: OCF.ERR_INSTALLED }
    : { problem: `parameter listen: interface ${quoted(name)} has no IPv4 or global IPv6 address on this node`, code: OCF.ERR_GENERIC };
}

/** The address memcached was started on, kept beside the pidfile (as haproxy keeps its binds). */
function listenFile({ params }: Context): string {
  return `${params.pid}.listen`;
}

/**
 * The address the running memcached listens on: the one kept at its start, so that monitor checks
 * what memcached bound even when the interface's addresses changed or its link went down since;
 * for a daemon started before it was kept, listenAddress as it is now.
 */
function runningListenAddress(context: Context): ReturnType<typeof listenAddress> {
  if (namedInterface(context.params.listen) === undefined) return listenAddress(context);
  // The file is beside the pidfile, which may be in a directory the service user can write: only
  // an address literal is taken from it (what start writes), never a name to resolve or a text to print.
  const kept = readState(listenFile(context));
  return typeof kept === 'string' && /^[0-9a-f:.]{2,45}$/i.test(kept) && addressFamily(kept) !== undefined ? { address: kept } : listenAddress(context);
}

/** listenAddress, or the action fails with its code and reason. */
function requireListenAddress(context: Context): string {
  const listen = listenAddress(context);
  if (listen.problem !== undefined) fail(listen.code, listen.problem);
  return listen.address;
}

/** A memcached "version" round trip on `address`; undefined when it answers, otherwise why not. */
async function versionProblem({ params, deadline }: Context, address: string): Promise<string | undefined> {
  const host = connectAddress(address);
  try {
    const answer = await tcpExchange({
      host, port: params.port, request: 'version\r\n', complete: (text) => text.includes('\r\n'), timeoutMs: deadline.bound(5000),
    });
    return answer.startsWith('VERSION ') ? undefined : `unexpected answer to "version" on ${host}:${params.port}: ${answer.trim().slice(0, 80)}`;
  } catch (error) {
    return `no answer to "version" on ${host}:${params.port}: ${(error as Error).message}`;
  }
}

async function validate(context: Context) {
  const { params, env } = context;
  const program = requireBinary(params.binary, env);
  const account = await lookupUser(params.user);
  if (!account) fail(OCF.ERR_INSTALLED, `user ${params.user} (parameter user) does not exist on this node`);
  const name = namedInterface(params.listen);
  const nameProblem = name === undefined ? undefined : interfaceNameProblem(name);
  if (nameProblem) fail(OCF.ERR_CONFIGURED, `parameter listen: ${quoted(params.listen)}: ${nameProblem}`);
  if (name === undefined && !isAddressOrHostname(params.listen)) fail(OCF.ERR_CONFIGURED, `parameter listen: ${quoted(params.listen)} is not an address or interface:NAME`);
  const address = requireListenAddress(context);
  const extra = splitArguments(params.additional_parameters);
  if ('error' in extra) fail(OCF.ERR_CONFIGURED, `parameter additional_parameters: ${extra.error}`);
  return { program, account, extra, address };
}

async function monitor(context: Context) {
  const daemon = daemonOf(context);
  const status = await daemonStatus(context, daemon);
  if (status.state !== 'running') return notRunningOutcome(daemon, status);
  const frozen = await daemonFrozenProblem(status.pid, context.deadline);
  if (frozen) return failure(OCF.ERR_GENERIC, `memcached (pid ${status.pid}) is running but ${frozen}`);
  if (context.depth.name === 'process') return success;
  const listen = runningListenAddress(context);
  // Only for a daemon whose address was not kept. Monitor never bans: the interface gone under a
  // running memcached is a failure here (1); the start that follows says 5 if it is really gone.
  if (listen.problem !== undefined) return failure(OCF.ERR_GENERIC, `memcached (pid ${status.pid}) is running but ${listen.problem}`);
  const problem = await versionProblem(context, listen.address);
  return problem ? failure(OCF.ERR_GENERIC, `memcached (pid ${status.pid}) is running but ${problem}`) : success;
}

async function start(context: Context) {
  const { params } = context;
  const { program, account, extra, address } = await validate(context);
  const daemon = daemonOf(context);
  if ((await daemonStatus(context, daemon)).state === 'running') {
    const running = runningListenAddress(context);
    const problem = running.problem ?? (await versionProblem(context, running.address));
    return problem ? failure(OCF.ERR_GENERIC, `memcached is already running but ${problem}`) : success;
  }
  const host = connectAddress(address);
  if (await isListening(host, params.port, context.deadline.bound(2000))) {
    return failure(OCF.ERR_GENERIC, `port ${params.port} on ${host} is already in use by another process, not this resource's memcached`);
  }
  const args = [
    '-l', address, '-p', String(params.port), '-m', String(params.memory), '-c', String(params.max_connections),
    // memcached refuses to run as root unless told to with -u.
    ...(account.uid === 0 ? ['-u', 'root'] : []),
    ...extra,
  ];
  const outcome = await startDaemon(context, daemon, { program, args, account, ready: () => versionProblem(context, address) });
  if (outcome.code === OCF.SUCCESS) {
    try {
      writeState(listenFile(context), address);
    } catch (error) {
      // memcached runs and serves: not worth failing the start for; monitor resolves listen again.
      context.log.warn(`cannot keep the address memcached listens on in ${listenFile(context)}: ${(error as Error).message}`);
    }
  }
  return outcome;
}

export default defineAgent({
  name: 'memcached',
  shortdesc: 'memcached for OpenStack controllers',
  longdesc: 'Runs memcached, the cache OpenStack services keep tokens and other ephemeral data in. Each controller runs its own instance; clients are given the full list of instances. monitor checks that the daemon is alive and that it answers the memcached protocol.',
  parameters,
  actions: {
    start: { timeout: 20, run: start },
    stop: {
      timeout: 20,
      run: async (context) => {
        const outcome = await stopDaemon(context, daemonOf(context));
        if (outcome.code === OCF.SUCCESS) removeState(listenFile(context));
        return outcome;
      },
    },
    monitor: {
      // The level-0 operation (no OCF_CHECK_LEVEL) runs monitor_check's depth, the protocol round
      // trip by default: it keeps today's interval. The level-10 one adds nothing unless
      // monitor_check=process makes the frequent one the cheap process check.
      depths: [
        { name: 'process', level: 0, interval: 10, timeout: 20, checks: 'the daemon of this resource is alive' },
        { name: 'protocol', level: 10, interval: 60, timeout: 20, checks: 'it answers a memcached "version" request on its address' },
      ],
      defaultDepth: ({ params }) => params.monitor_check,
      // This node's memcached and nothing else: not for the cluster's evidence (audited for issue 16).
      checks: [{ name: 'version', title: 'protocol check', shared: false, checks: 'this node\'s memcached answers "version"' }],
      run: monitor,
    },
    'validate-all': { timeout: 20, run: async (context) => (await validate(context), success) },
  },
});
