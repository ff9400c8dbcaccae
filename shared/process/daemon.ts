// The daemon a resource runs, seen through its pidfile: status, start with readiness, stop.
// Agents describe their daemon; the pidfile, identity and escalation rules live here once.
import { basename } from 'node:path';
import type { ActionContext } from '../ocf/agent.ts';
import { findBinary } from './binary.ts';
import type { Deadline } from '../ocf/deadline.ts';
import type { OcfEnvironment } from '../ocf/environment.ts';
import { OCF } from '../ocf/exit-codes.ts';
import type { Logger } from '../ocf/log.ts';
import { failure, notRunning, success, type Outcome } from '../ocf/outcome.ts';
import { string, type ParameterSpec, type ParameterSpecs } from '../ocf/parameters.ts';
import { detachedFromLaunch, expectedProcess, markedProcesses, pidfileStatus, recordStatus, resourceProcesses, startedAt, type Expected, type PidStatus, type ProcessIdentity } from './identity.ts';
import { readPidfile, recordOf, removePidfile, writePidfile } from './pidfile.ts';
import { childrenOf, isAlive, processTree, startTime, topmost } from './proc.ts';
import { sleep } from '../ocf/deadline.ts';
import { frozenProblem, lastLogLine, launchDaemon, stopProcesses, waitUntilReady, type DaemonLaunch, type LaunchedDaemon, type ProcessSearch, type StopPatience } from './supervise.ts';
import { localUid, type Account } from './users.ts';

export interface Daemon {
  /** How people call it in messages: "memcached". */
  readonly name: string;
  /** The binary parameter as configured (a name searched in PATH, or a path). */
  readonly binary: string;
  readonly pidfile: string;
  /** Where its output is appended (the logfile parameter). */
  readonly logFile: string;
  /** The daemon's own "stop now" signal. */
  readonly stopSignal?: NodeJS.Signals;
  /** What "no progress toward exiting" means for it, and how long stop waits on none (StopPatience). */
  readonly stopPatience?: StopPatience;
  /** The service user it runs as (the user parameter); undefined: the agent's own (root). */
  readonly user?: string;
}

/** What an action needs to look at the daemon: the OCF environment, and a log for what it repairs. */
export interface DaemonView {
  readonly env: OcfEnvironment;
  readonly log: Logger;
  /** Every look into /proc is bounded by it. */
  readonly deadline: Deadline;
}

export function resourceMarker(env: OcfEnvironment): string {
  return `${env.agent}:${env.instance}`;
}

/** What this resource's processes must be (see identity.ts): its program, its owner, its marker. */
export function daemonIdentity(env: OcfEnvironment, daemon: Daemon): Expected {
  const uid = daemon.user === undefined ? process.getuid?.() : localUid(daemon.user);
  return expectedProcess(daemon.binary, findBinary(daemon.binary, env), uid, resourceMarker(env));
}

/** A list of pids for a reason or a log line: the first few, and how many more (hundreds would flood the CIB). */
export function pidList(pids: readonly number[], shown = 8): string {
  return pids.length <= shown ? pids.join(', ') : `${pids.slice(0, shown).join(', ')} and ${pids.length - shown} more`;
}

/**
 * The `logfile` parameter of an agent that runs a daemon: where the daemon's stdout and stderr are
 * appended. By default in the service's own log directory, where operators look and where the
 * distributions' logrotate rules (copytruncate) or the suite's own (/etc/logrotate.d/ocf-openstack)
 * keep it bounded; never in HA_RSCTMP, which is RAM and never rotated.
 */
export function logfileParameter(service: string): ParameterSpec<string> {
  return string({
    shortdesc: 'Daemon output file',
    longdesc: `Where the daemon's standard output and error are appended. Default: /var/log/${service}/${service}-RESOURCE_ID.log, rotated by logrotate (the distribution's rules for /var/log/${service}/ or the package's /etc/logrotate.d/ocf-openstack, with copytruncate: the file is never reopened). A file elsewhere must be rotated with copytruncate too.`,
    default: (env) => `/var/log/${service}/${service}-${basename(env.instance)}.log`,
  });
}

export type DaemonStatus =
  | PidStatus
  /** The pidfile's process is gone, but processes carrying this resource's marker live (orphaned workers). */
  | { readonly state: 'remnants'; readonly pid: number; readonly pids: readonly number[] };

function oldestFirst(pids: readonly number[]): number[] {
  return [...pids].sort((a, b) => startedAt(a) - startedAt(b) || a - b);
}

/**
 * The daemon as the pidfile shows it; when the pidfile does not name our live daemon (absent,
 * stale, someone else's), the processes carrying this resource's marker are looked for in /proc.
 * Our daemon found without a pidfile is running (and the pidfile is written again); processes of
 * ours left by a daemon that died are remnants, a failure for stop to end, never "not running".
 * A healthy monitor reads the pidfile and /proc/PID/stat only.
 */
export async function daemonStatus({ env, log, deadline }: DaemonView, daemon: Daemon): Promise<DaemonStatus> {
  const expected = daemonIdentity(env, daemon);
  const record = readPidfile(daemon.pidfile);
  const status: PidStatus = record === undefined ? { state: 'absent' } : await recordStatus(record, expected, deadline);
  if (status.state === 'running') return status;
  let found = await markedProcesses(expected, record, status, deadline);
  // A look that was not whole never makes "not running" on its own (a probe's 7 lets Pacemaker start
  // a second copy): once more, the environments given up to 5 s (a loaded machine's 1 s was not enough).
  if (!found.complete || found.unanswered.length) found = await markedProcesses(expected, record, status, deadline, deadline.bound(5000));
  if (found.unanswered.length) log.warn(`the environment of pid ${pidList(found.unanswered)} (${daemon.name}, this resource's user) could not be read in time: not taken for this resource's`);
  const marked = found.pids;
  if (!marked.length) return status;
  if (status.state === 'stale') return { state: 'remnants', pid: status.pid, pids: marked };
  const [pid, ...others] = oldestFirst(topmost(marked));
  if (others.length) log.warn(`several ${daemon.name} processes carry this resource's marker: ${pidList([pid!, ...others])}; pid ${pid} is taken as the daemon, stop ends them all`);
  if (status.state === 'absent') {
    try {
      writePidfile(daemon.pidfile, recordOf(pid!, resourceMarker(env), expected.uid) ?? pid!);
      log.warn(`${daemon.name} (pid ${pid}) was running without its pidfile; ${daemon.pidfile} written again`);
    } catch (error) {
      log.warn(`${daemon.name} (pid ${pid}) is running without its pidfile, which cannot be written: ${(error as Error).message}`);
    }
  } else {
    log.warn(`${daemon.name} (pid ${pid}) is running, but ${daemon.pidfile} names pid ${status.pid}, which is not this resource's: it is left as it is`);
  }
  return { state: 'running', pid: pid! };
}

function foreignReason(daemon: Daemon, status: { pid: number; owner?: string; why?: string }): string {
  const whose = status.owner ? ` (it is resource ${status.owner}'s)` : status.why ? ` (${status.why})` : '';
  return `pid ${status.pid} in ${daemon.pidfile} is not this resource's ${daemon.name}${whose}`;
}

/** Why monitor says "not running", for the exit reason (nothing to say when it never ran). */
export function notRunningReason(daemon: Daemon, status: DaemonStatus): string | undefined {
  switch (status.state) {
    case 'stale': return `${daemon.name} (pid ${status.pid} from ${daemon.pidfile}) is not running`;
    case 'foreign': return foreignReason(daemon, status);
    case 'remnants': return `${daemon.name} (pid ${status.pid} from ${daemon.pidfile}) is not running, but processes it left are (pid ${pidList(status.pids)})`;
    default: return undefined;
  }
}

/**
 * Why a running daemon cannot serve when it or one of its descendants (a master's workers) is
 * stopped by SIGSTOP (see frozenProcesses: a tracer's hold is not counted): its socket still
 * accepts connections into the kernel's backlog, so an answer check would only time out (HAProxy's
 * show info waits 5 s) while the clients wait. undefined when none is frozen. A frozen process is
 * this node's fault: a failure (1), and a prompt stop (stopProcesses kills frozen processes at once).
 */
export function daemonFrozenProblem(pid: number, deadline: Deadline): Promise<string | undefined> {
  return frozenProblem(processTree(pid), deadline);
}

/**
 * What monitor answers for a daemon that is not running: 7 when nothing of this resource lives, a
 * failure (1, so that Pacemaker runs stop here) when processes it left do.
 */
export function notRunningOutcome(daemon: Daemon, status: Exclude<DaemonStatus, { state: 'running' }>): Outcome {
  const reason = notRunningReason(daemon, status);
  return status.state === 'remnants' ? failure(OCF.ERR_GENERIC, reason!) : notRunning(reason);
}

/** This resource's processes now, as identity.ts decides: the pidfile's, the marked ones, their descendants. */
async function searchOurs({ env, log, deadline }: DaemonView, daemon: Daemon, quiet = false): Promise<ProcessSearch> {
  const found = await resourceProcesses(daemon.pidfile, daemonIdentity(env, daemon), deadline);
  const { unanswered } = found;
  if (unanswered.length && !quiet) log.warn(`the environment of pid ${pidList(unanswered)} could not be read in time: not taken for this resource's`);
  const undecided = !found.complete ? 'the search of /proc for its processes did not finish in time'
    : unanswered.length ? `the environment of ${unanswered.length === 1 ? 'pid' : `${unanswered.length} processes, pid`} ${pidList(unanswered)} could not be read in time`
      : undefined;
  return { pids: found.pids, ...(undecided ? { undecided } : {}) };
}

async function ourProcesses(context: DaemonView, daemon: Daemon): Promise<number[]> {
  return [...(await searchOurs(context, daemon)).pids];
}

function stopOurs(context: DaemonView, daemon: Daemon, also: () => readonly number[] = () => []): Promise<Outcome> {
  const { log, deadline } = context;
  // Each search gets at most a second, and never the time kept for SIGKILL. Stop looks every
  // 100 ms: what a look could not decide is said once, in the reason if it lasts.
  const find = async (): Promise<ProcessSearch> => {
    const search = await searchOurs({ ...context, deadline: deadline.leaving(Math.max(0, deadline.remaining() - 1000)) }, daemon, true);
    return { ...search, pids: [...new Set([...search.pids, ...also().flatMap(processTree)])] };
  };
  return stopProcesses({ name: daemon.name, find, deadline, log, ...(daemon.stopSignal ? { signal: daemon.stopSignal } : {}), ...(daemon.stopPatience ? { patience: daemon.stopPatience } : {}) });
}

/**
 * Stop ends every process of this resource, found through the pidfile or by its marker, and is
 * idempotent. A pidfile naming a live process that is not ours is left alone, as is that process.
 */
export async function stopDaemon<P extends ParameterSpecs>(context: ActionContext<P>, daemon: Daemon): Promise<Outcome> {
  const { env, log, deadline } = context;
  const identity = daemonIdentity(env, daemon);
  const before = await pidfileStatus(daemon.pidfile, identity, deadline);
  if (before.state === 'foreign') log.warn(`${foreignReason(daemon, before)}; leaving it and its pidfile alone`);
  const stopped = await stopOurs(context, daemon);
  if (stopped.code !== OCF.SUCCESS) return stopped;
  if ((await pidfileStatus(daemon.pidfile, identity, deadline)).state !== 'foreign') removePidfile(daemon.pidfile);
  return success;
}

export interface StartRequest {
  /** The resolved path of the binary (requireBinary's answer). */
  readonly program: string;
  readonly args: readonly string[];
  readonly account?: Account;
  readonly env?: Readonly<Record<string, string>>;
  /** undefined when ready, otherwise what is still missing (the monitor's deeper check). */
  readonly ready: () => Promise<string | undefined>;
  /**
   * Given the launched process's pid at each readiness poll: a reason (the whole exit reason) when
   * the daemon lives but will never be ready (a master respawning workers that fail to load the
   * application, for ever); start then fails at once instead of at its timeout.
   */
  readonly hopeless?: (pid: number) => string | undefined;
  /** The daemon writes the pidfile itself (haproxy -p); we only wait for it. */
  readonly daemonWritesPidfile?: boolean;
}

/**
 * Launch the daemon detached and wait until it is ready, within the start timeout. A pidfile naming
 * a live process that is not ours is refused (two resources given one pidfile); remnants of an
 * earlier daemon are stopped first. A failed start leaves nothing of this resource running: part of
 * the time is kept for stopping what it launched.
 */
export async function startDaemon<P extends ParameterSpecs>(context: ActionContext<P>, daemon: Daemon, request: StartRequest): Promise<Outcome> {
  const { env, log, deadline } = context;
  const status = await pidfileStatus(daemon.pidfile, daemonIdentity(env, daemon), deadline);
  if (status.state === 'foreign') {
    // Pacemaker keeps about 128 characters of a reason: the remedy first.
    return status.owner
      ? failure(OCF.ERR_CONFIGURED, `every resource needs its own pidfile: ${daemon.pidfile} is resource ${status.owner}'s (pid ${status.pid}, running)`)
      : failure(OCF.ERR_GENERIC, `remove ${daemon.pidfile} if it is stale: pid ${status.pid} in it is a live process, not this resource's ${daemon.name}`);
  }
  const cleanup = deadline.leaving(Math.min(2000, deadline.remaining() / 10));
  const leftovers = await stopOurs({ env, log, deadline: cleanup }, daemon);
  if (leftovers.code !== OCF.SUCCESS) return leftovers;
  const { logFile } = daemon;
  removePidfile(daemon.pidfile);
  const launch: DaemonLaunch = {
    program: request.program,
    args: request.args,
    logFile,
    marker: resourceMarker(env),
    uid: request.account?.uid ?? process.getuid?.() ?? 0,
    ...(request.account ? { account: request.account } : {}),
    ...(request.env ? { env: request.env } : {}),
    ...(request.daemonWritesPidfile ? {} : { pidfile: daemon.pidfile }),
  };
  let launched;
  try {
    launched = await launchDaemon(launch);
  } catch (error) {
    return abandonStart(context, daemon, failure(OCF.ERR_GENERIC, (error as Error).message));
  }
  log.info(`${daemon.name} launched (pid ${launched.pid}), output in ${logFile}`);
  const { hopeless } = request;
  const ready = await waitUntilReady({
    name: daemon.name, daemon: launched, logFile, deadline: cleanup, check: request.ready,
    ...(hopeless ? { hopeless: () => hopeless(launched.pid) } : {}),
  });
  if (ready.code === OCF.SUCCESS) {
    // A daemon that daemonizes itself (fork, setsid in the child, the parent exits: daemon(3),
    // memcached -d) answers from the child, often before the process we launched has exited or
    // been seen to: readiness is no proof it stays in the foreground. What gives it away whenever
    // it answers is the child's session of its own, or the launched process gone.
    const launchedGone = launched.exit() !== undefined || !isAlive(launched.pid);
    const detached = launchedGone ? [] : await detachedFromLaunch({ pid: launched.pid, uid: launch.uid }, launch.marker, cleanup);
    if (!launchedGone && detached.length === 0) {
      log.info(`${daemon.name} (pid ${launched.pid}) is ready`);
      return ready;
    }
    return abandonStart(context, daemon, failure(OCF.ERR_GENERIC, `${daemon.name} did not stay in the foreground`), launched, detached);
  }
  return abandonStart(context, daemon, ready, launched);
}

/**
 * After a failed start: stop whatever it left (the launched process, while it has not exited, is
 * our child and its pid cannot have been reused), say so, and remove the pidfile once nothing lives.
 */
async function abandonStart<P extends ParameterSpecs>(context: ActionContext<P>, daemon: Daemon, failed: Outcome, launched?: LaunchedDaemon, detached: readonly ProcessIdentity[] = []): Promise<Outcome> {
  const child = () => (launched && launched.exit() === undefined && isAlive(launched.pid) ? [launched.pid] : []);
  const exited = launched !== undefined && child().length === 0;
  const left = [...new Set([...child(), ...(await ourProcesses(context, daemon))])];
  if (detached.length) {
    // The launched process still lives beside the child it detached, which may run another
    // program than the binary (a launcher): stopped by pid, as long as each is the same process.
    const stillDetached = () => detached.filter(({ pid, start }) => startTime(pid) === start).map(({ pid }) => pid);
    const stopped = await stopOurs(context, daemon, () => [...child(), ...stillDetached()]);
    if (stopped.code === OCF.SUCCESS && (await pidfileStatus(daemon.pidfile, daemonIdentity(context.env, daemon), context.deadline)).state !== 'foreign') removePidfile(daemon.pidfile);
    const after = stopped.code === OCF.SUCCESS ? '' : `; ${stopped.reason ?? 'what it left could not be stopped'}`;
    return failure(failed.code, `${daemon.name} daemonized itself (pid ${launched!.pid} forked pid ${pidList(detached.map(({ pid }) => pid))} into a session of its own, stopped): it must run in the foreground${after}`);
  }
  const stopped = await stopOurs(context, daemon, child);
  // Kept while a process of ours survives, for stop; never removed when it names another's.
  const kept = stopped.code !== OCF.SUCCESS || (await pidfileStatus(daemon.pidfile, daemonIdentity(context.env, daemon), context.deadline)).state === 'foreign';
  if (!kept) removePidfile(daemon.pidfile);
  const after = stopped.code === OCF.SUCCESS ? '' : `; ${stopped.reason ?? 'what it left could not be stopped'}`;
  if (exited && left.length) {
    // Pacemaker keeps about 128 characters of a reason: the cause first.
    return failure(failed.code, `${daemon.name} daemonized itself (pid ${launched!.pid} exited, pid ${pidList(left)} stopped): it must run in the foreground${after}`);
  }
  const which = stopped.code === OCF.SUCCESS && left.length ? ` (pid ${pidList(left)} stopped)` : '';
  return failure(failed.code, `${failed.reason ?? `${daemon.name} did not start`}${which}${after}`);
}

export interface ReloadRequest {
  /** The daemon's graceful reload signal (haproxy SIGUSR2, uwsgi SIGHUP). */
  readonly signal: NodeJS.Signals;
  /**
   * Another way to ask for the reload than the signal (uwsgi's chain reload: a file it watches),
   * `how` saying which in the log. The wait then lasts until every worker the daemon had before
   * has been replaced, each new one ready (a chain reload replaces them one at a time). With
   * `resend`, asked again through it; once those tries are spent, the signal is sent instead.
   */
  readonly trigger?: { readonly how: string; readonly run: () => void };
  /** What must hold before a running daemon is asked to reload; an outcome refuses the reload. */
  readonly precheck?: () => Outcome | undefined;
  /** undefined once the reloaded master serves (the monitor's deeper check). */
  readonly ready: (pid: number) => Promise<string | undefined>;
  /**
   * For a daemon known to lose the reload now and then, where a second request is harmless: ask
   * again (the signal, or the trigger), at most `times` times, when no new worker has appeared
   * `afterMs` milliseconds after the last one. `why` names the defect in the line logged each time.
   */
  readonly resend?: { readonly afterMs: number; readonly times: number; readonly why: string };
}

/**
 * A graceful reload in place. A daemon that is not running has nothing to reload (its next start
 * reads the configuration). Otherwise signal the master, then wait, within the action's deadline,
 * until it has a worker it did not have before and the readiness check passes. The master must
 * live on.
 */
export async function reloadInPlace<P extends ParameterSpecs>(context: ActionContext<P>, daemon: Daemon, request: ReloadRequest): Promise<Outcome> {
  const { env, log, deadline } = context;
  const status = await daemonStatus(context, daemon);
  if (status.state !== 'running') {
    // Said as it is: an operator's reload of a resource that does not run here reloaded nothing.
    return notRunning(`${daemon.name} of resource ${env.instance} is not running here: nothing was reloaded (its next start reads the configuration)`);
  }
  const refused = request.precheck?.();
  if (refused) return refused;
  const { pid } = status;
  const { signal, ready } = request;
  let trigger = request.trigger;
  const before = new Set(childrenOf(pid));
  log.info(`reloading ${daemon.name} (pid ${pid}) with ${trigger?.how ?? signal}`);
  try {
    if (trigger) trigger.run();
    else process.kill(pid, signal);
  } catch (error) {
    // The error's code only: its message names paths, and a reason is ours to bound.
    if (trigger) return failure(OCF.ERR_GENERIC, `${daemon.name} (pid ${pid}) could not be asked to reload (${trigger.how}): ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    return failure(OCF.ERR_GENERIC, `${daemon.name} (pid ${pid}) exited before it could be reloaded`);
  }
  let missing: string | undefined = 'no new worker yet';
  let sentAt = performance.now();
  let sent = 1;
  let resends = request.resend?.times ?? 0;
  while (!deadline.expired()) {
    if (!isAlive(pid)) {
      const why = lastLogLine(daemon.logFile);
      return failure(OCF.ERR_GENERIC, `${daemon.name} (pid ${pid}) exited during reload${why ? `: ${why}` : ''}`);
    }
    const children = childrenOf(pid);
    const fresh = children.filter((child) => !before.has(child));
    // A chain reload is done once every worker is new and as many as before run again.
    const old = trigger ? children.filter((child) => before.has(child)) : [];
    const short = trigger ? before.size - fresh.length : 0;
    missing = !fresh.length ? 'no new worker yet' : old.length ? `worker ${pidList(old)} not replaced yet`
      : short > 0 ? `${short} of ${before.size} workers not started again yet` : await ready(pid);
    if (missing === undefined) {
      log.info(`${daemon.name} (pid ${pid}) reloaded: new worker ${fresh.join(', ')}`);
      return success;
    }
    if (!fresh.length && request.resend && performance.now() - sentAt >= request.resend.afterMs) {
      const waited = Math.round(performance.now() - sentAt);
      if (resends > 0 && trigger) {
        resends--;
        try {
          trigger.run();
        } catch {
          // The next look decides: the signal once the tries are spent.
        }
        log.info(`${daemon.name} (pid ${pid}) has replaced no worker ${waited} ms after ${trigger.how}: asked again (${request.resend.why})`);
        sentAt = performance.now();
        sent++;
      } else if (resends > 0) {
        resends--;
        if (await signalAgain(context, daemon, pid, signal, before)) {
          log.warn(`${daemon.name} (pid ${pid}) has no new worker ${waited} ms after ${signal}: sent it again (${request.resend.why})`);
          sentAt = performance.now();
          sent++;
        } else {
          resends = 0;
        }
      } else if (trigger) {
        // A daemon that does not watch the file (started otherwise than this agent believes): its signal.
        log.warn(`${daemon.name} (pid ${pid}) replaced no worker after ${trigger.how} was asked ${sent} times: sending ${signal} instead`);
        if (await signalAgain(context, daemon, pid, signal, before)) {
          trigger = undefined;
          sent = 1;
        } else if (!isAlive(pid)) {
          return failure(OCF.ERR_GENERIC, `${daemon.name} (pid ${pid}) exited during reload`);
        } // else a worker appeared meanwhile: the chain reload arrived.
        sentAt = performance.now();
      }
    }
    await sleep(Math.min(200, deadline.remaining()));
  }
  const why = lastLogLine(daemon.logFile);
  const times = sent > 1 ? ` (${trigger?.how ?? signal} sent ${sent} times)` : '';
  return failure(OCF.ERR_GENERIC, `${daemon.name} (pid ${pid}) did not reload in time${times}: ${missing}${why ? `; its log says: ${why}` : ''}`);
}

/**
 * Signal `pid` again if it is still this resource's daemon (its pid may have been reused since) and
 * still has none but its old workers (`before`): a worker forked meanwhile is the reload arriving.
 */
async function signalAgain<P extends ParameterSpecs>(context: ActionContext<P>, daemon: Daemon, pid: number, signal: NodeJS.Signals, before: ReadonlySet<number>): Promise<boolean> {
  const status = await daemonStatus(context, daemon);
  if (status.state !== 'running' || status.pid !== pid) return false;
  if (childrenOf(pid).some((child) => !before.has(child))) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
