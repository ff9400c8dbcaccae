// ocf:openstack:haproxy: the load balancer in front of the OpenStack APIs. It listens on the
// virtual IP, so it must run where the VIP is (colocation and order constraints) or be allowed to
// bind addresses that are not local (net.ipv4.ip_nonlocal_bind). start refuses to hide a missing
// constraint behind a daemon that dies on "cannot bind socket".
import { addressFamily, isWildcard, unbracket } from '../shared/net/address.ts';
import { defineAgent, type ActionContext, type CheckDeclaration } from '../shared/ocf/agent.ts';
import { requireBinary, requireFile } from '../shared/process/binary.ts';
import { daemonFrozenProblem, daemonStatus, logfileParameter, notRunningOutcome, reloadInPlace, startDaemon, stopDaemon, type Daemon } from '../shared/process/daemon.ts';
import type { StopPatience } from '../shared/process/supervise.ts';
import { runProgram, splitArguments } from '../shared/ocf/exec.ts';
import { OCF } from '../shared/ocf/exit-codes.ts';
import { readBindAddresses, readSoftStopFacts, type BindAddress, type SoftStopFacts } from '../shared/config/haproxy.ts';
import { connectAddress, isListening, unixExchange } from '../shared/net/socket.ts';
import { fail, failure, quoted, success, type Outcome } from '../shared/ocf/outcome.ts';
import { choice, string } from '../shared/ocf/parameters.ts';
import { childrenOf } from '../shared/process/proc.ts';
import { tcpConnectionsSeen } from '../shared/net/tcp-connections.ts';
import { readState, removeState, writeState } from '../shared/process/state-file.ts';
import { isLocalAddress, vipProblem } from '../shared/net/vip.ts';

const parameters = {
  binary: string({
    shortdesc: 'haproxy binary',
    longdesc: 'The haproxy program, by name (searched in PATH) or by full path.',
    default: 'haproxy',
  }),
  config: string({
    shortdesc: 'Configuration file',
    longdesc: 'The HAProxy configuration file (haproxy -f). It is checked with haproxy -c before every start and reload.',
    default: '/etc/haproxy/haproxy.cfg',
  }),
  pid: string({
    shortdesc: 'Pidfile',
    longdesc: 'The pidfile this agent keeps for the HAProxy master process. Default: $HA_RSCTMP/haproxy-RESOURCE_ID.pid.',
    default: (env) => `${env.rscTmp}/haproxy-${env.instance}.pid`,
    unique: true,
  }),
  logfile: logfileParameter('haproxy'),
  vip: string({
    shortdesc: 'Addresses that must be usable here',
    longdesc: 'The addresses HAProxy binds that must be usable on this node before it starts (space- or comma-separated IPv4 or IPv6 addresses), usually the virtual IP. Empty: the addresses of the configuration\'s bind lines; wildcards (*, 0.0.0.0, ::) need nothing.',
  }),
  vip_check: choice(['strict', 'warn', 'off'], {
    shortdesc: 'What start does when an address is not usable',
    longdesc: 'Before start and reload, every address (parameter vip) must be assigned to an interface of this node, or net.ipv4.ip_nonlocal_bind (net.ipv6.ip_nonlocal_bind for IPv6) must be 1. "strict": start fails, naming the address and the constraint to add. "warn": log a warning and start anyway. "off": no check.',
    default: 'strict',
  }),
  stats_socket: string({
    shortdesc: 'HAProxy admin socket',
    longdesc: 'The path of the stats socket declared in the configuration (global "stats socket PATH"). When set, monitor asks it "show info" (depth 10, and the default depth of an operation without OCF_CHECK_LEVEL) and a running HAProxy whose socket does not answer in time is a failure. Empty: monitor checks the processes only, and OCF_CHECK_LEVEL=10 runs level 0.',
  }),
  additional_parameters: string({
    shortdesc: 'Additional haproxy options',
    longdesc: 'More options for haproxy (for example a second -f), split into words like a shell would (quotes honoured) but never evaluated by one. They are also given to the configuration check.',
  }),
};

type Context = ActionContext<typeof parameters>;

function daemonOf({ params }: Context): Daemon {
  // SIGUSR1 is HAProxy's soft stop: listeners close, connections in progress finish.
  return { name: 'haproxy', binary: params.binary, pidfile: params.pid, logFile: params.logfile, stopSignal: 'SIGUSR1' };
}

/**
 * Stop's patience with HAProxy after its soft stop (SIGUSR1), 2 s without progress, where progress
 * is one of its processes exiting or, at a look:
 * - a listener held while `grace` keeps it open on purpose (for graceMs after the signal);
 * - no listener left but connections still open: requests in progress finishing;
 * - no listener left and sockets the TCP table does not show (SoftStopFacts.tcpOnly false, or a
 *   process whose fds cannot be read): draining, as far as anyone can tell.
 * A listener held past the grace is a hung HAProxy holding the port, and the VIP ordered after it;
 * no listener and no connection is nothing left to do but exit (HAProxy 3.0 sometimes stays, see
 * docs/haproxy.md).
 */
export function haproxyStopPatience(facts: SoftStopFacts): StopPatience {
  return {
    ms: 2000,
    draining: (pids, sinceSignalMs) => {
      const { connections, unread } = tcpConnectionsSeen(pids);
      if (connections.some((connection) => connection.state === 'LISTEN')) return sinceSignalMs < facts.graceMs;
      if (!facts.tcpOnly || unread.length) return true;
      return connections.length > 0;
    },
  };
}

/** The files HAProxy reads its configuration from: `config`, then each `-f` of additional_parameters. */
function configPaths(params: Context['params']): string[] {
  const extra = splitArguments(params.additional_parameters);
  const words = 'error' in extra ? [] : extra;
  return [params.config, ...words.flatMap((word, i) => (words[i - 1] === '-f' ? [word] : []))];
}

/** haproxy -c's own verdict on the configuration; undefined when it is valid, otherwise its first error. */
async function configProblem(program: string, extra: readonly string[], context: Context): Promise<string | undefined> {
  const { params, deadline } = context;
  const checked = await runProgram(program, ['-c', '-f', params.config, ...extra], { timeoutMs: deadline.bound(30_000) });
  if (checked.failedToRun) return `cannot run ${program}: ${checked.failedToRun}`;
  if (checked.timedOut) return `haproxy -c -f ${params.config} did not finish in time`;
  if (checked.exitCode === 0) return undefined;
  const lines = `${checked.stdout}\n${checked.stderr}`.split('\n').map((line) => line.trim()).filter(Boolean);
  const alert = lines.find((line) => line.startsWith('[ALERT]')) ?? lines.find((line) => !line.startsWith('[NOTICE]'));
  const message = alert?.replace(/^\[ALERT\]\s*(\(\d+\)\s*)?:\s*/, '') ?? `exit code ${checked.exitCode}`;
  // Pacemaker keeps 128 characters of a reason: the error comes first, the file is named once.
  // "config : parsing [FILE:LINE] : ..." for most lines, "config : [FILE:LINE] : ..." for a server's.
  const located = /^config\s*:\s*(?:parsing )?\[(.+):(\d+)\]\s*:\s*(.*)$/.exec(message);
  if (!located) return `haproxy -c -f ${params.config}: ${message}`;
  const [, file, line, problem] = located;
  // "'bind 192.0.2.10:443' in section 'listen' : unable to stat SSL certificate from file '...'", or
  // "'server api/ctl1' : Couldn't open the ca-file '...'": the problem and the file it names first, then where.
  const inLine = /^'([^']*)'(?: in section '[^']*')?\s*:\s*(.*)$/.exec(problem!);
  return inLine ? `${inLine[2]} (${file}:${line}: ${inLine[1]})` : `${file}:${line}: ${problem}`;
}

/** Every check is of this node's HAProxy: none depends on anything the nodes share (audited for issue 16). */
const HAPROXY_CHECKS: readonly CheckDeclaration[] = [
  { name: 'socket', title: 'admin socket check', shared: false, checks: 'this node\'s HAProxy answers "show info"' },
  { name: 'frontends', title: 'frontends check', shared: false, checks: 'this node\'s bind addresses accept connections' },
];

async function validate(context: Context) {
  const { params, env } = context;
  const program = requireBinary(params.binary, env);
  requireFile(params.config, env, 'config');
  for (const address of requiredAddresses(params.vip)) {
    if (!isWildcard(address) && addressFamily(unbracket(address)) === undefined) {
      fail(OCF.ERR_CONFIGURED, `parameter vip: ${quoted(address)} is not an IPv4 or IPv6 address`);
    }
  }
  const extra = splitArguments(params.additional_parameters);
  if ('error' in extra) fail(OCF.ERR_CONFIGURED, `parameter additional_parameters: ${extra.error}`);
  // haproxy -c reads this node's files (the configuration, its certificates) and resolves this
  // node's names: a failure is this node's (5, Pacemaker bans this node only), never 6, which
  // stops the clone on every node (and the VIP colocated with it).
  const problem = await configProblem(program, extra, context);
  if (problem) fail(OCF.ERR_INSTALLED, problem);
  return { program, extra };
}

function requiredAddresses(list: string): string[] {
  return list.split(/[\s,]+/).filter(Boolean);
}

/** The VIP colocation check: undefined when every address is usable here, otherwise why not. */
function vipCheckProblem({ params }: Context): string | undefined {
  if (params.vip_check === 'off') return undefined;
  const required = params.vip
    ? requiredAddresses(params.vip).map((address) => ({ address, where: 'parameter vip' }))
    : (readBindAddresses(params.config) ?? []).map((bind) => ({ address: bind.address, where: `bind on line ${bind.line} of ${params.config}` }));
  const problems = required.flatMap(({ address, where }) => {
    const problem = vipProblem(address);
    return problem ? [`(${where}) ${problem}`] : [];
  });
  return problems.length ? `haproxy cannot bind here ${problems.join('; ')}` : undefined;
}

/** The VIP check as the vip_check parameter wants it: a failure, a warning, or nothing. */
function enforceVipCheck(context: Context): Outcome | undefined {
  const problem = vipCheckProblem(context);
  if (!problem) return undefined;
  if (context.params.vip_check === 'strict') {
    // The reason is cut at 256 bytes; the log keeps every address.
    context.log.warn(problem);
    return failure(OCF.ERR_GENERIC, problem);
  }
  context.log.warn(`${problem}; going on because vip_check=warn`);
  return undefined;
}

/** A "show info" round trip on the admin socket; undefined when HAProxy answers, otherwise why not. */
async function statsProblem({ params, deadline }: Context): Promise<string | undefined> {
  if (!params.stats_socket) return undefined;
  try {
    const answer = await unixExchange({
      unix: params.stats_socket, request: 'show info\n', complete: (text) => text.endsWith('\n\n'), timeoutMs: deadline.bound(5000),
    });
    return /^Name: HAProxy$/m.test(answer) ? undefined : `unexpected answer to "show info" on ${params.stats_socket}: ${answer.trim().slice(0, 80)}`;
  } catch (error) {
    return `no answer to "show info" on ${params.stats_socket}: ${(error as Error).message}`;
  }
}

/** The bind addresses HAProxy read at its last start or reload, kept beside the pidfile. */
function bindsFile({ params }: Context): string {
  return `${params.pid}.binds`;
}

/** Remember what the configuration binds as HAProxy is about to read it (start, reload). */
function rememberBinds(context: Context): void {
  writeState(bindsFile(context), readBindAddresses(context.params.config) ?? []);
}

/** The binds HAProxy read; a daemon started before they were kept is judged by the file as it is now. */
function recalledBinds(context: Context): readonly BindAddress[] {
  const kept = readState(bindsFile(context));
  return Array.isArray(kept) ? (kept as BindAddress[]) : (readBindAddresses(context.params.config) ?? []);
}

/**
 * Level 20: every TCP address HAProxy binds accepts a connection; undefined when they all do. An
 * address not on this node (bound with ip_nonlocal_bind while the VIP is elsewhere) is skipped: a
 * connection to it would reach the node that holds it, not this HAProxy.
 */
async function frontendProblem(context: Context): Promise<string | undefined> {
  const closed: string[] = [];
  for (const bind of recalledBinds(context)) {
    const port = Number(/^\d+/.exec(bind.port)?.[0]);
    if (!Number.isInteger(port) || port <= 0) continue;
    if (!isWildcard(bind.address) && !isLocalAddress(bind.address)) continue;
    const host = connectAddress(bind.address);
    if (!(await isListening(host, port, context.deadline.bound(2000)))) closed.push(`${host.includes(':') ? `[${host}]` : host}:${port}`);
  }
  return closed.length ? `nothing accepts connections on ${closed.join(', ')} (bind lines of ${context.params.config})` : undefined;
}

/** What the monitor's depth checks beyond the master and its worker; undefined when it passes. */
async function deepProblem(context: Context): Promise<string | undefined> {
  if (context.depth.level === 0) return undefined;
  return (await statsProblem(context)) ?? (context.depth.name === 'frontends' ? await frontendProblem(context) : undefined);
}

/** The master forks one worker per configuration load: no worker means nothing serves. */
function workerProblem(masterPid: number): string | undefined {
  return childrenOf(masterPid).length ? undefined : `the master (pid ${masterPid}) has no worker process`;
}

async function monitor(context: Context) {
  const daemon = daemonOf(context);
  const status = await daemonStatus(context, daemon);
  if (status.state !== 'running') return notRunningOutcome(daemon, status);
  const problem = (await daemonFrozenProblem(status.pid, context.deadline)) ?? workerProblem(status.pid) ?? (await deepProblem(context));
  return problem ? failure(OCF.ERR_GENERIC, `haproxy (pid ${status.pid}) is running but ${problem}`) : success;
}

async function start(context: Context) {
  const { program, extra } = await validate(context);
  const daemon = daemonOf(context);
  const status = await daemonStatus(context, daemon);
  if (status.state === 'running') {
    const problem = workerProblem(status.pid) ?? (await statsProblem(context));
    return problem ? failure(OCF.ERR_GENERIC, `haproxy is already running but ${problem}`) : success;
  }
  const vip = enforceVipCheck(context);
  if (vip) return vip;
  // -W: master-worker, so the launched pid stays the master and SIGUSR2 reloads it;
  // -db: foreground even when the configuration says "daemon".
  const args = ['-W', '-db', '-f', context.params.config, ...extra];
  rememberBinds(context);
  return startDaemon(context, daemon, {
    program,
    args,
    ready: async () => {
      const pid = await daemonStatus(context, daemon);
      if (pid.state !== 'running') return 'the master process is not running';
      return workerProblem(pid.pid) ?? (await statsProblem(context));
    },
  });
}

/**
 * Graceful reload: the configuration is checked first, so a broken one never reaches the running
 * HAProxy. The master re-executes itself on SIGUSR2, forks a new worker and lets the old ones
 * finish their connections; the listening sockets are handed over, so no connection is refused.
 */
async function reload(context: Context) {
  await validate(context);
  // The master re-executes itself with the new configuration and hands its listeners over.
  return reloadInPlace(context, daemonOf(context), {
    signal: 'SIGUSR2',
    precheck: () => {
      const vip = enforceVipCheck(context);
      if (!vip) rememberBinds(context);
      return vip;
    },
    ready: () => statsProblem(context),
  });
}

async function stop(context: Context) {
  // Judged by the files as they are now: a running HAProxy read them at its last start or reload.
  const facts = readSoftStopFacts(configPaths(context.params));
  const patience = facts && haproxyStopPatience(facts);
  const outcome = await stopDaemon(context, { ...daemonOf(context), ...(patience ? { stopPatience: patience } : {}) });
  if (outcome.code === OCF.SUCCESS) removeState(bindsFile(context));
  return outcome;
}

export default defineAgent({
  name: 'haproxy',
  shortdesc: 'HAProxy in front of the OpenStack APIs',
  longdesc: 'Runs HAProxy in master-worker mode, in the foreground, as the load balancer that listens on the virtual IP of the OpenStack API endpoints. Usually a clone on every controller, colocated with and ordered after the VIP. start checks that the addresses HAProxy binds are usable on this node (the VIP is here, or non-local binding is allowed) and refuses otherwise with the constraint to add; start and reload check the configuration with haproxy -c first; reload is graceful and never touches a running HAProxy with a broken configuration; monitor checks the master and its worker and, with stats_socket, that HAProxy answers "show info".',
  parameters,
  actions: {
    start: { timeout: 20, run: start },
    stop: { timeout: 20, run: stop },
    monitor: {
      // The level-0 operation (no OCF_CHECK_LEVEL) runs the default depth, the socket when
      // stats_socket is set, as before: it keeps today's interval.
      depths: [
        { name: 'process', level: 0, interval: 10, timeout: 20, checks: 'the master of this resource and a worker are alive' },
        { name: 'socket', level: 10, interval: 30, timeout: 20, checks: 'HAProxy answers "show info" on stats_socket' },
        { name: 'frontends', level: 20, interval: 60, timeout: 20, checks: 'every TCP address of the configuration\'s bind lines (as HAProxy read it at start or reload) accepts a connection' },
      ],
      defaultDepth: ({ params }) => (params.stats_socket ? 'socket' : 'process'),
      available: (depth, { params }) => depth.name !== 'socket' || params.stats_socket !== '',
      checks: HAPROXY_CHECKS,
      run: monitor,
    },
    reload: { timeout: 20, run: reload },
    'validate-all': { timeout: 20, run: async (context) => (await validate(context), success) },
  },
});
