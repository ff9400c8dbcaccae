// ocf:openstack:ceilometer: the Telemetry polling agent (central or compute), run as several
// instances that split their work through Tooz (HA guide: "Telemetry API"). The guide's rules
// (a coordination backend for more than one instance, memcached timeout above the heartbeat,
// workload_partitioning for compute) are checked here instead of being learnt from lost samples.
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { checkFailed, checkPassed, checkPending, peersSay } from '../shared/cluster/evidence.ts';
import { defineAgent, type ActionContext, type CheckDeclaration } from '../shared/ocf/agent.ts';
import { requireBinary } from '../shared/process/binary.ts';
import {
  forgetMember, learnMember, membershipOf, parseBackendUrl, partitioningGroup, recallMember, rememberMember, clientKey, unreachable,
  type Backend, type Checkable, type LearnedMember,
} from '../shared/coordination/tooz.ts';
import { configCredentials, urlPasswords } from '../shared/ocf/credentials.ts';
import { daemonFrozenProblem, daemonIdentity, daemonStatus, logfileParameter, notRunningOutcome, reloadInPlace, startDaemon, stopDaemon, type Daemon } from '../shared/process/daemon.ts';
import { Deadline, sleep } from '../shared/ocf/deadline.ts';
import { splitArguments } from '../shared/ocf/exec.ts';
import { OCF } from '../shared/ocf/exit-codes.ts';
import { configSourcesIn, isOsloTrue, readOsloConfig, type OsloConfig } from '../shared/config/oslo-ini.ts';
import { fail, failure, OcfError, quoted, success, type Outcome } from '../shared/ocf/outcome.ts';
import { choice, integer, string } from '../shared/ocf/parameters.ts';
import { launchedPid } from '../shared/process/identity.ts';
import { childrenOf, isAlive, msSinceStart, processTree } from '../shared/process/proc.ts';
import { readState, removeState, writeState } from '../shared/process/state-file.ts';
import { establishedTo } from '../shared/net/tcp-connections.ts';
import { lookupUser } from '../shared/process/users.ts';

const NAMESPACES = ['central', 'compute', 'ipmi'];

const parameters = {
  binary: string({
    shortdesc: 'Polling agent program',
    longdesc: 'The polling agent, by name (searched in PATH) or by full path. ceilometer-polling is given --polling-namespaces; a legacy per-namespace program (ceilometer-agent-central) is run with the configuration options only.',
    default: 'ceilometer-polling',
  }),
  namespaces: string({
    shortdesc: 'Polling namespaces',
    longdesc: 'The polling namespaces (central, compute, ipmi), separated by spaces or commas (ceilometer-polling --polling-namespaces). They also name the partitioning group.',
    default: 'central',
  }),
  config: string({
    shortdesc: 'Configuration file',
    longdesc: 'The ceilometer configuration file (--config-file). Further --config-file and --config-dir options in additional_parameters are read too, in order, as oslo.config does.',
    default: '/etc/ceilometer/ceilometer.conf',
  }),
  user: string({
    shortdesc: 'User the agent runs as',
    longdesc: 'The user the polling agent runs as.',
    default: 'ceilometer',
  }),
  pid: string({
    shortdesc: 'Pidfile',
    longdesc: 'The pidfile this agent keeps for the polling agent. Default: $HA_RSCTMP/ceilometer-RESOURCE_ID.pid.',
    default: (env) => `${env.rscTmp}/ceilometer-${env.instance}.pid`,
    unique: true,
  }),
  logfile: logfileParameter('ceilometer'),
  additional_parameters: string({
    shortdesc: 'Additional agent options',
    longdesc: 'More options for the polling agent, split into words like a shell would (quotes honoured) but never evaluated by one.',
  }),
  amqp_server_port: integer({
    shortdesc: 'Message bus port to require a connection to',
    longdesc: 'When set, monitor (depth 10, the default) checks for an ESTABLISHED TCP connection from the agent\'s processes to this port (the AMQP server, 5672 for RabbitMQ), read from /proc. ceilometer connects when it first publishes: a worker younger than polling.yaml\'s shortest interval + 30 s without a connection is not judged yet. Set it only for an agent that publishes every round (as a clone, each instance\'s share of the partitioned resources must not be empty). The bus is shared by every node: a missing connection is judged by the cluster\'s evidence (the peers\' published states): OCF_DEGRADED when every node lacks it or nothing is known, 1 when the peers have theirs. Start never waits for it.',
    min: 1, max: 65535,
  }),
  coordination_check: choice(['auto', 'true', 'false'], {
    shortdesc: 'Check workload partitioning',
    longdesc: 'Whether monitor (depth 10, the default) checks, in the coordination backend itself, that this node\'s agent is a live member of its partitioning group. "auto": when the resource is a clone and [coordination] backend_url is a redis:// or memcached:// URL. "true" requires such a URL.',
    default: 'auto',
  }),
};

type Context = ActionContext<typeof parameters>;

interface Settings {
  readonly program: string;
  readonly extra: string[];
  readonly namespaces: string[];
  readonly backend: Backend | undefined;
  /** The backend monitor looks into, when the coordination check is on. */
  readonly checked: Checkable | undefined;
  readonly group: string;
  /** [coordination] backend_url as written ('' when unset). */
  readonly backendUrl: string;
  /** Seconds after its worker starts by which the agent has published once (firstPublishWithinS). */
  readonly firstPublishS: number | undefined;
  readonly warnings: string[];
}

/** What monitor's partitioning depth looks at: the backend and the group the running agent uses. */
type Coordination = Pick<Settings, 'checked' | 'group' | 'firstPublishS'>;

function daemonOf({ params }: Context): Daemon {
  // No stop patience: a worker's terminate waits for the polling cycle in progress, then leaves
  // the partitioning group, for as long as a poll takes; no sign tells that wait from a hung one.
  // Only a frozen (SIGSTOP) process is killed at once.
  return { name: 'ceilometer-polling', binary: params.binary, pidfile: params.pid, logFile: params.logfile, user: params.user };
}

function memberFile({ params }: Context): string {
  return `${params.pid}.member`;
}

function namespacesOf(text: string): string[] {
  const names = text.split(/[\s,]+/).filter(Boolean);
  if (names.length === 0) fail(OCF.ERR_CONFIGURED, 'parameter namespaces is empty');
  const unknown = names.find((name) => !NAMESPACES.includes(name));
  if (unknown) fail(OCF.ERR_CONFIGURED, `parameter namespaces: ${quoted(unknown)} is not one of ${NAMESPACES.join(', ')}`);
  return [...new Set(names)];
}

/** Everything the configuration says, checked against the HA guide's rules. */
function readSettings(context: Context, program: string): Settings {
  const { params, env } = context;
  const extra = splitArguments(params.additional_parameters);
  if ('error' in extra) fail(OCF.ERR_CONFIGURED, `parameter additional_parameters: ${extra.error}`);
  const namespaces = namespacesOf(params.namespaces);
  let config;
  try {
    config = readOsloConfig([{ file: params.config }, ...configSourcesIn(extra)], (secret) => context.log.addSecret(secret));
  } catch (error) {
    const message = (error as Error).message;
    if (/no such file/.test(message)) fail(env.isProbe ? OCF.NOT_RUNNING : OCF.ERR_INSTALLED, `${message} (parameter config)`);
    // A file of this node (a typo in its ceilometer.conf): 5 bans this node only; 6 would stop the clone everywhere.
    fail(OCF.ERR_INSTALLED, message);
  }
  // Before anything can quote the configuration: its passwords (transport_url, backend_url, ...).
  for (const secret of configCredentials(config.options())) context.log.addSecret(secret);
  const files = config.files.join(', ');
  const clone = (env.cloneMax ?? 1) > 1;
  const url = config.get('coordination', 'backend_url')?.trim() ?? '';
  if (clone && url === '') {
    fail(OCF.ERR_INSTALLED, `the resource is a clone (clone-max=${env.cloneMax}) but [coordination] backend_url is not set in ${files}: without a Tooz coordination backend the instances do not partition their work and only one of them would work correctly (the others poll the same resources again)`);
  }
  const compute = namespaces.includes('compute');
  const partitioned = isOsloTrue(config.get('compute', 'workload_partitioning')) || config.get('compute', 'instance_discovery_method') === 'workload_partitioning';
  if (clone && compute && !partitioned) {
    fail(OCF.ERR_INSTALLED, `the compute namespace runs as a clone (clone-max=${env.cloneMax}) but ${files} does not enable workload partitioning ([compute] workload_partitioning = True, or instance_discovery_method = workload_partitioning since Ocata): every instance would poll every instance`);
  }
  let backend: Backend | undefined;
  if (url !== '') {
    try {
      backend = parseBackendUrl(url);
    } catch (error) {
      fail(OCF.ERR_INSTALLED, `[coordination] backend_url in ${files}: ${(error as Error).message}`);
    }
  }
  const warnings: string[] = [];
  const legacyHeartbeat = config.get('coordination', 'heartbeat');
  if (legacyHeartbeat !== undefined) {
    warnings.push(`[coordination] heartbeat = ${legacyHeartbeat.slice(0, 20)} in ${files} is not read by ceilometer since Pike (9.0.0): tooz beats by itself, every half of its smallest timeout`);
  }
  if (backend?.kind === 'memcached' && backend.membershipTimeoutMs - MEMCACHED_CLOCK_MS <= backend.heartbeatIntervalMs) {
    // The guide's rule, "the memcached timeout must be higher than the Telemetry heartbeat", as tooz
    // keeps it today; measured with timeout=1: the member's key gone 0.2 s of every second.
    fail(OCF.ERR_INSTALLED, `the memcached membership timeout (${backend.membershipTimeoutMs / 1000} s) is not above tooz's heartbeat interval (${backend.heartbeatIntervalMs / 1000} s) by memcached's 1 s clock: members expire between beats; use ${backend.membershipOption}=3 or more ([coordination] backend_url in ${files})`);
  }
  if (params.coordination_check === 'true' && (!backend || backend.kind === 'other')) {
    fail(OCF.ERR_INSTALLED, backend
      ? `coordination_check=true, but the backend ${backend.shown} is ${backend.why}, which this agent cannot look into (redis:// and memcached:// only)`
      : `coordination_check=true, but [coordination] backend_url is not set in ${files}`);
  }
  const checked = checkedBackend(context, backend);
  const discoveryGroup = namespaces.length === 1 && compute ? (config.get('DEFAULT', 'host') ?? hostname()) : 'global';
  const group = partitioningGroup(namespaces, config.get('polling', 'partitioning_group_prefix') ?? '', discoveryGroup);
  return { program, extra, namespaces, backend, checked, group, backendUrl: url, firstPublishS: firstPublishWithinS(config, params.config), warnings };
}

/** A round of polling, at most, once it has begun (seconds): the margin over polling.yaml's interval. */
export const POLLING_ROUND_S = 30;
/** oslo.messaging's longest pause between reconnection attempts to RabbitMQ (rabbit_interval_max's default, seconds). */
const BUS_RECONNECT_S = 30;

/**
 * Seconds after its worker starts by which a polling agent has published once, and so holds its
 * message bus connection: oslo.messaging connects only to send. The first round runs as the worker
 * starts; a share of the partitioned resources that was empty then (the group's hash ring still
 * filling) waits one interval. So the shortest `interval: N` line in polling.yaml (any source's;
 * [polling] cfg_file, looked for about as ceilometer looks: as given, beside the configuration
 * files, in /etc/ceilometer, in /etc) plus POLLING_ROUND_S. undefined when none is found (no such
 * file: ceilometer does not start; no sources: it polls nothing and never connects; or a YAML
 * written in flow style, `{interval: 60}`): then nothing is waited for, as before this grace.
 */
function firstPublishWithinS(config: OsloConfig, configFile: string): number | undefined {
  const name = config.get('polling', 'cfg_file') ?? 'polling.yaml';
  const places = isAbsolute(name) ? [name] : [...new Set([...config.files, configFile].map((file) => join(dirname(file), name))), join('/etc/ceilometer', name), join('/etc', name)];
  for (const place of places) {
    let text: string;
    try {
      text = readFileSync(place, 'utf8');
    } catch {
      continue;
    }
    // polling.yaml's sources each name an `interval: N` (seconds); nothing else in it is called so.
    const intervals = [...text.matchAll(/^[\s-]*interval:\s*(\d+)\s*(?:#.*)?$/gm)].map((m) => Number(m[1])).filter((n) => n > 0);
    return intervals.length ? Math.min(...intervals) + POLLING_ROUND_S : undefined;
  }
  return undefined;
}

/**
 * memcached counts an item's expiry on a clock of whole seconds: a key set with a TTL of N seconds
 * can be gone N - 1 seconds later (memcached's items.c: exptime against current_time).
 */
const MEMCACHED_CLOCK_MS = 1000;

/** The backend monitor looks into, by coordination_check: "true", or "auto" for a clone; redis and memcached only. */
function checkedBackend({ params, env }: Context, backend: Backend | undefined): Checkable | undefined {
  const wanted = params.coordination_check === 'true' || (params.coordination_check === 'auto' && (env.cloneMax ?? 1) > 1);
  return wanted && backend && backend.kind !== 'other' ? backend : undefined;
}

/**
 * What the running agent read at start or reload, kept beside the pidfile: monitor judges the
 * daemon by it, never by the file as edited since (a stray line would stop the clone everywhere,
 * a missing file ban every node). Root-only: a backend_url may carry a password.
 */
function coordinationFile({ params }: Context): string {
  return `${params.pid}.coordination`;
}

function rememberCoordination(context: Context, settings: Settings): void {
  writeState(coordinationFile(context), { backend_url: settings.backendUrl, group: settings.group, first_publish_s: settings.firstPublishS ?? null });
}

/** The coordination the running agent uses; undefined when none was kept (an agent started by an older version). */
function recallCoordination(context: Context): Coordination | undefined {
  const kept = readState(coordinationFile(context)) as { backend_url?: unknown; group?: unknown; first_publish_s?: unknown } | undefined;
  if (typeof kept?.backend_url !== 'string' || typeof kept.group !== 'string') return undefined;
  // What start kept is a URL like any other read: its password is blanked out before anything logs.
  for (const secret of urlPasswords(kept.backend_url)) context.log.addSecret(secret);
  let backend: Backend | undefined;
  try {
    backend = kept.backend_url === '' ? undefined : parseBackendUrl(kept.backend_url);
  } catch {
    backend = undefined;
  }
  const firstPublishS = typeof kept.first_publish_s === 'number' ? kept.first_publish_s : undefined;
  return { checked: checkedBackend(context, backend), group: kept.group, firstPublishS };
}

/** For a daemon with nothing kept: the file as it is now, or, when that cannot be read, the process alone. */
function currentCoordination(context: Context): Coordination {
  try {
    return readSettings(context, context.params.binary);
  } catch (error) {
    const reason = error instanceof OcfError ? error.outcome.reason : (error as Error).message;
    context.log.warn(`what the running agent read at start is not known and the configuration cannot be read now (${reason}): checking its process only`);
    return { checked: undefined, group: '', firstPublishS: undefined };
  }
}

async function validate(context: Context): Promise<Settings & { account: NonNullable<Awaited<ReturnType<typeof lookupUser>>> }> {
  const { params, env, log } = context;
  const program = requireBinary(params.binary, env);
  const account = await lookupUser(params.user);
  if (!account) fail(OCF.ERR_INSTALLED, `user ${params.user} (parameter user) does not exist on this node`);
  const settings = readSettings(context, program);
  for (const warning of settings.warnings) log.warn(warning);
  return { ...settings, account };
}

/** Our processes' connections to the backend, by the client address the backend sees. */
function clientsOf(masterPid: number, backend: Checkable): Map<string, number> {
  const port = backend.kind === 'redis' ? backend.target.port : backend.port;
  return new Map(establishedTo(processTree(masterPid), port).map((c) => [clientKey(c.localAddress, c.localPort), c.pid]));
}

/**
 * problem: this node's agent is not a live member (its own fault); unreachable: the backend does
 * not answer; checkError: the backend answers the check with an error (a password it rejects,
 * MONITOR refused), said as what it is; pending: the member id is not learnt yet, nothing concluded.
 */
type CoordinationResult = { readonly problem?: string; readonly unreachable?: string; readonly checkError?: string; readonly pending?: string };

/** The checks beyond the process; the message bus and the coordination backend are what the nodes share. */
const BUS: CheckDeclaration = { name: 'bus', title: 'message bus check', shared: true, checks: 'with amqp_server_port, an established connection to the message bus' };
const COORDINATION: CheckDeclaration = { name: 'coordination', title: 'coordination check', shared: true, checks: 'the coordination backend answers the membership check (reachable, this node\'s credentials accepted, MONITOR allowed)' };
const MEMBERSHIP: CheckDeclaration = { name: 'membership', title: 'membership check', shared: false, checks: 'this node\'s agent is a live member of its partitioning group (its member id and heartbeat key)' };

/** An error the backend answered with (it is reachable): what it is, or undefined for a backend that did not answer. */
export function checkErrorOf(backend: Checkable, message: string): string | undefined {
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH failed|-ERR.*AUTH/i.test(message)) {
    return `${backend.shown} refuses this node's credentials ([coordination] backend_url): ${message.slice(0, 80)}: membership unchecked`;
  }
  if (/refused MONITOR/.test(message)) {
    return `${backend.shown} refuses MONITOR (${message.replace(/^.*refused MONITOR:\s*/, '').slice(0, 60)}): this node's member id cannot be learnt, membership unchecked`;
  }
  if (/^(Redis refused|Redis error|memcached error|unexpected answer)/.test(message)) {
    return `${backend.shown} answers the membership check with an error (${message.slice(0, 80)}): membership unchecked`;
  }
  return undefined;
}

/** How long learning the member id may need: a whole heartbeat period (half the membership timeout) and a margin. */
export function heartbeatPeriodMs(backend: Checkable): number {
  return backend.membershipTimeoutMs / 2 + 2000;
}

function learningFile({ params }: Context): string {
  return `${params.pid}.learning`;
}

/**
 * The time already spent watching for this worker's heartbeat, over this and earlier calls. A
 * monitor whose timeout is shorter than a heartbeat period concludes nothing alone (no false
 * failure at every worker restart); several watches together do.
 */
function watchedFor(context: Context, masterPid: number, watchedMs: number): number {
  const kept = readState(learningFile(context)) as { pid?: unknown; ms?: unknown } | undefined;
  const before = kept?.pid === masterPid && typeof kept.ms === 'number' ? kept.ms : 0;
  try {
    writeState(learningFile(context), { pid: masterPid, ms: before + watchedMs });
  } catch {
    // Nothing kept: this watch alone counts.
  }
  return before + watchedMs;
}

/**
 * Is this node's agent a live member of its partitioning group? The member id is learnt once
 * (see learnMember) and kept beside the pidfile while the worker that owns it lives.
 */
async function coordinationStatus(context: Context, settings: Coordination, masterPid: number, bound: Deadline): Promise<CoordinationResult> {
  const backend = settings.checked!;
  const where = `group ${settings.group} in ${backend.shown}`;
  const file = memberFile(context);
  const tree = processTree(masterPid);
  let learned: LearnedMember | undefined = recallMember(file);
  if (learned && !tree.includes(learned.pid)) learned = undefined;
  try {
    if (!learned) {
      const periodMs = heartbeatPeriodMs(backend);
      const waitMs = bound.leaving(1000).bound(periodMs);
      learned = await learnMember(backend, () => clientsOf(masterPid, backend), waitMs);
      if (!learned) {
        const why = await unreachable(backend, bound.bound(3000));
        if (why) return checkErrorOf(backend, why) ? { checkError: checkErrorOf(backend, why)! } : { unreachable: why };
        // Concluded only once a whole heartbeat period was watched for this worker (a short monitor timeout never shrinks it).
        const watched = waitMs >= periodMs ? waitMs : watchedFor(context, masterPid, waitMs);
        if (watched < 2 * periodMs && waitMs < periodMs) return { pending: `no heartbeat of this node's worker seen yet (${Math.round(watched / 1000)} s watched of a ${Math.round(periodMs / 1000)} s heartbeat period)` };
        return { problem: `no heartbeat from this node's ceilometer-polling (pid ${masterPid}) reached ${backend.shown} within ${Math.round(Math.max(waitMs, periodMs) / 1000)} s: it is not taking part in workload partitioning` };
      }
      removeState(learningFile(context));
      const kept = keepMember(file, learned);
      if (kept) return { problem: kept };
    }
    const membership = await membershipOf(backend, settings.group, learned.member, bound.bound(5000));
    switch (membership.state) {
      case 'member': return {};
      case 'no-group': return { problem: `${where} does not exist: this node's agent (member ${learned.member}, pid ${learned.pid}) is running but not partitioning` };
      case 'not-member': return { problem: `this node's agent (member ${learned.member}, pid ${learned.pid}) is running but not a member of ${where} (the backend lost the group, e.g. restarted without persistence): it is not partitioning` };
      case 'no-heartbeat': return { problem: `the heartbeat of this node's agent (member ${learned.member}, pid ${learned.pid}) in ${backend.shown} has expired: the others will take over its share` };
    }
  } catch (error) {
    const message = (error as Error).message;
    const refused = checkErrorOf(backend, message);
    return refused ? { checkError: refused } : { unreachable: message };
  }
}

/**
 * Remember the learned member id; undefined when done, otherwise why not. A local error (a full
 * disk, a left-over temporary) is this node's failure, never "backend unreachable".
 */
function keepMember(file: string, learned: LearnedMember): string | undefined {
  try {
    rememberMember(file, learned);
    return undefined;
  } catch (error) {
    return `cannot keep this node's member id in ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
}

/**
 * An unreachable backend fails every node's check at once; Pacemaker would restart every
 * instance, the starts could not do better, and all instances would end up banned. So monitor
 * reports it as OCF_DEGRADED (shown by crm_mon, no recovery) and start only warns; once the backend
 * is back, a lost membership is a failure and the restart that follows repairs it.
 */
function unreachableReason(settings: Coordination, why: string): string {
  return `coordination backend ${settings.checked!.shown} unreachable (${why}): partitioning of group ${settings.group} unchecked`;
}

function warnShared(context: Context, text: string): void {
  context.log.warn(`${text}; not waited for: monitor judges it by the cluster's evidence`);
}

/** Where monitor keeps when it first found this master's new worker not yet connected to the bus. */
function busPendingFile({ params }: Context): string {
  return `${params.pid}.bus-pending`;
}

/**
 * When this master's workers were first found not yet connected (epoch ms), kept at the first such
 * look until a connection is seen (or a reload, or a stop): a worker that exits and is respawned
 * over and over before it publishes is young at every look, and must not be waited for beyond one
 * grace.
 */
function pendingSinceMs(context: Context, masterPid: number): number {
  const file = busPendingFile(context);
  const kept = readState(file) as { master?: unknown; since?: unknown } | undefined;
  if (kept?.master === masterPid && typeof kept.since === 'number') return kept.since;
  const since = Date.now();
  try {
    writeState(file, { master: masterPid, since });
  } catch (error) {
    context.log.debug(`cannot keep ${file}: ${(error as Error).message}`);
  }
  return since;
}

/**
 * With amqp_server_port: nothing when one of the agent's processes is connected to it; `pending`
 * when none is but its worker (the newest of the master's children; their own children, such as a
 * pollster's host command, are not workers) started less than `firstPublishS` ago and may not have
 * published yet, for one such grace at most per spell without a connection (pendingSinceMs);
 * `problem` otherwise (no worker at all included).
 */
function messageBusState(context: Context, pid: number, firstPublishS: number | undefined): { problem?: string; pending?: string } {
  const port = context.params.amqp_server_port;
  if (Number.isNaN(port)) return {};
  if (establishedTo(processTree(pid), port).length > 0) {
    removeState(busPendingFile(context));
    return {};
  }
  const none = `no established connection to the message bus (port ${port})`;
  const workerAgesMs = childrenOf(pid).map(msSinceStart).filter((ms): ms is number => ms !== undefined);
  if (firstPublishS !== undefined && workerAgesMs.length > 0) {
    const graceMs = firstPublishS * 1000;
    const youngestMs = Math.min(...workerAgesMs);
    if (youngestMs < graceMs && Date.now() - pendingSinceMs(context, pid) < graceMs) {
      return { pending: `${none} yet: its worker started ${Math.round(youngestMs / 1000)} s ago and connects when it first publishes, within ${firstPublishS} s (polling.yaml's shortest interval + ${POLLING_ROUND_S} s)` };
    }
  }
  return { problem: none };
}

/**
 * The partitioning depth of a running agent. The message bus and the coordination backend are
 * shared by every node: their failures are judged by the cluster's evidence (a peer passing since:
 * this node's, 1; every peer failing too, or no evidence: 190). Not being a live member while the
 * backend answers is this node's (1).
 */
async function monitorOutcome(context: Context, settings: Coordination, pid: number): Promise<Outcome> {
  let bus: Outcome = success;
  if (!Number.isNaN(context.params.amqp_server_port)) {
    const { problem, pending } = messageBusState(context, pid, settings.firstPublishS);
    if (pending) {
      // Not yet published: neither a failure nor a pass the peers could take as evidence.
      context.log.debug(pending);
      checkPending(context, BUS);
    } else if (problem) {
      // After a bus outage each node reconnects at its next publish, after oslo.messaging's growing
      // pause: a peer back first is no evidence against this node until that lag has passed.
      bus = await checkFailed(context, BUS, `ceilometer-polling (pid ${pid}) is running but has ${problem}`, { pid, settleS: settings.firstPublishS ?? BUS_RECONNECT_S });
    } else {
      await checkPassed(context, BUS);
    }
  }
  if (bus.code !== OCF.SUCCESS && bus.code !== OCF.DEGRADED) return bus;
  if (!settings.checked) return bus;
  const result = await coordinationStatus(context, settings, pid, context.deadline);
  let coordination: Outcome;
  if (result.unreachable !== undefined) coordination = await checkFailed(context, COORDINATION, unreachableReason(settings, result.unreachable), { pid });
  else if (result.checkError !== undefined) coordination = await checkFailed(context, COORDINATION, `coordination check: ${result.checkError}`, { pid });
  else {
    await checkPassed(context, COORDINATION);
    if (result.pending) context.log.debug(result.pending);
    coordination = result.problem ? failure(OCF.ERR_GENERIC, result.problem) : success;
  }
  return coordination.code !== OCF.SUCCESS ? coordination : bus;
}

async function monitor(context: Context) {
  const daemon = daemonOf(context);
  const status = await daemonStatus(context, daemon);
  if (status.state !== 'running') return notRunningOutcome(daemon, status);
  const frozen = await daemonFrozenProblem(status.pid, context.deadline);
  if (frozen) return failure(OCF.ERR_GENERIC, `ceilometer-polling (pid ${status.pid}) is running but ${frozen}`);
  if (context.depth.name === 'process') return success;
  const settings = recallCoordination(context) ?? currentCoordination(context);
  return monitorOutcome(context, settings, status.pid);
}

/**
 * undefined once the agent is what monitor will want to see: a worker (cotyledon forks it once the
 * configuration is read), the message bus connection, its partitioning group membership. An
 * unreachable backend is warned about once, not waited for (see unreachableReason).
 */
async function readiness(context: Context, settings: Settings, pid: number, unreachable: (why: string) => void, firstBeat?: MemberWatch): Promise<string | undefined> {
  if (processTree(pid).length < 2) return 'no worker process yet';
  if (!settings.checked) return undefined;
  if (firstBeat && !firstBeat.done && recallMember(memberFile(context)) === undefined) return 'no heartbeat from the new worker yet';
  // Short looks, so that a daemon dying meanwhile is noticed between them.
  const result = await coordinationStatus(context, settings, pid, Deadline.after(context.deadline.bound(6000)));
  if (result.unreachable !== undefined || result.checkError !== undefined) {
    unreachable(result.unreachable !== undefined ? unreachableReason(settings, result.unreachable) : `coordination check: ${result.checkError}`);
    return undefined;
  }
  if (result.problem && !context.deadline.expired()) context.log.debug(result.problem);
  return result.problem ?? result.pending;
}

/** After a start: what the shared checks say, logged, never waited for. */
async function reportShared(context: Context, when: string, firstPublishS: number | undefined): Promise<void> {
  const pid = await daemonStatus(context, daemonOf(context));
  if (pid.state !== 'running' || Number.isNaN(context.params.amqp_server_port)) return;
  const bus = messageBusState(context, pid.pid, firstPublishS);
  if (bus.pending) {
    context.log.info(`${when}; it has ${bus.pending}`);
    checkPending(context, BUS);
  }
  else if (bus.problem) context.log.warn(`${when}; it has ${bus.problem}; the peers: ${await peersSay(context, BUS)}: monitor judges it by the cluster's evidence`);
}

interface MemberWatch {
  done: boolean;
}

/**
 * Watch the backend for this resource's first heartbeat from before its worker exists, and remember
 * the member id it names. ceilometer beats once when its worker starts, then only every 15 s (half
 * of tooz's 30 s membership timeout): a watch opened after the first beat could wait longer than a
 * start may take. When the watch ends without learning (a backend that cannot be watched), the
 * readiness check learns and reports as monitor does.
 */
function watchFirstBeat(context: Context, settings: Settings, masterPid: () => number | undefined): MemberWatch {
  const watch: MemberWatch = { done: true };
  const backend = settings.checked;
  if (!backend) return watch;
  watch.done = false;
  const ourClients = () => {
    const pid = masterPid();
    return pid === undefined ? new Map<string, number>() : clientsOf(pid, backend);
  };
  void learnMember(backend, ourClients, context.deadline.remaining())
    .then((learned) => learned && keepMember(memberFile(context), learned))
    .catch(() => undefined)
    .finally(() => (watch.done = true));
  return watch;
}

/** Report an unreachable backend once per action, however often readiness is asked. */
function reportOnce(context: Context): (why: string) => void {
  let reported = false;
  return (why) => {
    if (!reported) warnShared(context, why);
    reported = true;
  };
}

async function start(context: Context) {
  const settings = await validate(context);
  const daemon = daemonOf(context);
  const status = await daemonStatus(context, daemon);
  if (status.state === 'running') {
    // Its master respawns a worker that exited: a worker missing now may be back within the start's
    // time, as after a fresh launch (seen on Debian 13 with Redis just stopped: "no worker process yet").
    const unreachable = reportOnce(context);
    let problem = await readiness(context, settings, status.pid, unreachable);
    while (problem && isAlive(status.pid) && context.deadline.remaining() > 500) {
      await sleep(500);
      problem = await readiness(context, settings, status.pid, unreachable);
    }
    await reportShared(context, 'ceilometer-polling is already running', settings.firstPublishS);
    return problem ? failure(OCF.ERR_GENERIC, `ceilometer-polling is already running but ${problem}`) : success;
  }
  forgetMember(memberFile(context));
  removeState(learningFile(context));
  rememberCoordination(context, settings);
  const legacy = basename(settings.program) !== 'ceilometer-polling';
  const args = [
    ...(legacy ? [] : ['--polling-namespaces', ...settings.namespaces]),
    '--config-file', context.params.config,
    ...settings.extra,
  ];
  const unreachable = reportOnce(context);
  const runningPid = () => launchedPid(daemon.pidfile, daemonIdentity(context.env, daemon));
  const firstBeat = watchFirstBeat(context, settings, runningPid);
  const ready = async (): Promise<string | undefined> => {
    const pid = runningPid();
    return pid === undefined ? 'no pidfile yet' : readiness(context, settings, pid, unreachable, firstBeat);
  };
  // cotyledon renames its processes with setproctitle, which by default overwrites the environment
  // block, and with it the resource marker stop and monitor recognise the daemon by. SPT_NOENV
  // keeps the environment (the title is then cut to the length of the original command line).
  const daemonEnv = { SPT_NOENV: '1' };
  const started = await startDaemon(context, daemon, { program: settings.program, args, account: settings.account, env: daemonEnv, ready });
  if (started.code === OCF.SUCCESS) await reportShared(context, 'ceilometer-polling started', settings.firstPublishS);
  return started;
}

/**
 * cotyledon's reload: on SIGHUP the master reads its configuration files again and restarts its
 * workers, which rejoin the partitioning group. The HA rules are checked first: a configuration
 * that breaks them never reaches the running agent.
 *
 * A worker restarts by sending itself SIGTERM, and cotyledon 1.7.3 (Debian 13, Python 3.13) loses
 * that signal now and then: the worker reads its files again, logs nothing more and runs on, and a
 * reload waiting for a new worker times out (3 of 30 reloads in one run there, 2026-12-06;
 * cotyledon 2.1.0 rewrote that signal handling). SIGHUP again recovers it, and is harmless: a worker
 * already terminating (one finishing a polling task may take up to graceful_shutdown_timeout)
 * holds the lock its reload needs, and the master only reads its files again (validated at most
 * 10 s before).
 * Twice at most, 5 s apart: a new worker normally appears within 0.3 s.
 */
async function reload(context: Context) {
  const settings = await validate(context);
  const unreachable = reportOnce(context);
  return reloadInPlace(context, daemonOf(context), {
    signal: 'SIGHUP',
    // The master reads its files again now: from here on, monitor judges what it read. Its new
    // worker has its own first publish to make: a grace of its own.
    precheck: () => (rememberCoordination(context, settings), removeState(busPendingFile(context)), undefined),
    ready: (pid) => readiness(context, settings, pid, unreachable),
    resend: { afterMs: 5000, times: 2, why: 'cotyledon 1.7 can lose the SIGTERM its worker sends itself; a worker still ending ignores it' },
  });
}

async function stop(context: Context) {
  const outcome = await stopDaemon(context, daemonOf(context));
  if (outcome.code === OCF.SUCCESS) {
    forgetMember(memberFile(context));
    removeState(learningFile(context));
    removeState(coordinationFile(context));
    removeState(busPendingFile(context));
    // A bus failure of this node stays remembered across the restart Pacemaker may be doing now.
    if (!Number.isNaN(context.params.amqp_server_port)) checkPending(context, BUS);
  }
  return outcome;
}

export default defineAgent({
  name: 'ceilometer',
  shortdesc: 'Ceilometer polling agent with Tooz workload partitioning',
  longdesc: 'Runs the Telemetry polling agent (ceilometer-polling, central namespace by default) as its service user. As a clone, its instances split the polling work through a Tooz coordination backend; validate-all and start refuse a clone without [coordination] backend_url (only one instance would work correctly) and a cloned compute agent without workload partitioning. monitor checks the agent\'s process and, for redis:// and memcached:// backends, that this node\'s agent is a live member of its partitioning group, asked of the backend itself.',
  parameters,
  actions: {
    start: { timeout: 60, run: start },
    stop: { timeout: 30, run: stop },
    monitor: {
      // An operation without OCF_CHECK_LEVEL runs the partitioning depth, as before depths existed:
      // the level-0 operation keeps today's interval.
      depths: [
        { name: 'process', level: 0, interval: 30, timeout: 30, checks: 'the polling agent of this resource is alive' },
        { name: 'partitioning', level: 10, interval: 60, timeout: 30, checks: 'with amqp_server_port, a connection to the message bus; with a checkable coordination backend, this node\'s agent is a live member of its partitioning group' },
      ],
      defaultDepth: () => 'partitioning',
      checks: [BUS, COORDINATION, MEMBERSHIP],
      run: monitor,
    },
    'validate-all': { timeout: 20, run: async (context) => (await validate(context), success) },
    reload: { timeout: 60, run: reload },
  },
});
