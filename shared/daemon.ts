// The daemon a resource runs, seen through its pidfile: status, start with readiness, stop.
// Agents describe their daemon; the pidfile, identity and escalation rules live here once.
import { basename } from 'node:path';
import type { ActionContext } from './agent.ts';
import { findBinary } from './binary.ts';
import type { OcfEnvironment } from './environment.ts';
import { OCF } from './exit-codes.ts';
import { failure, success, type Outcome } from './outcome.ts';
import { string, type ParameterSpec, type ParameterSpecs } from './parameters.ts';
import { pidStatus, removePidfile, type PidStatus } from './pidfile.ts';
import { childrenOf, isAlive, type ProgramIdentity } from './proc.ts';
import { sleep } from './deadline.ts';
import { lastLogLine, launchDaemon, stopWithEscalation, waitUntilReady, type DaemonLaunch } from './supervise.ts';
import type { Account } from './users.ts';

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
}

export function resourceMarker(env: OcfEnvironment): string {
  return `${env.agent}:${env.instance}`;
}

export function daemonIdentity(env: OcfEnvironment, daemon: Daemon): ProgramIdentity {
  return { binary: findBinary(daemon.binary, env) ?? daemon.binary, marker: resourceMarker(env) };
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

export function daemonStatus(env: OcfEnvironment, daemon: Daemon): PidStatus {
  return pidStatus(daemon.pidfile, daemonIdentity(env, daemon));
}

/** Why monitor says "not running", for the exit reason (nothing to say when it never ran). */
export function notRunningReason(daemon: Daemon, status: PidStatus): string | undefined {
  switch (status.state) {
    case 'stale': return `${daemon.name} (pid ${status.pid} from ${daemon.pidfile}) is not running`;
    case 'foreign': return `pid ${status.pid} in ${daemon.pidfile} is not this resource's ${daemon.name}`;
    default: return undefined;
  }
}

/** Stop is idempotent: a stale or foreign pidfile is removed, a stranger is never signalled. */
export async function stopDaemon<P extends ParameterSpecs>(context: ActionContext<P>, daemon: Daemon): Promise<Outcome> {
  const { env, log, deadline } = context;
  const identity = daemonIdentity(env, daemon);
  const status = pidStatus(daemon.pidfile, identity);
  if (status.state === 'foreign') log.warn(`${notRunningReason(daemon, status)}; leaving it alone`);
  if (status.state === 'running') {
    const stopped = await stopWithEscalation({
      name: daemon.name, pid: status.pid, identity, deadline, log, ...(daemon.stopSignal ? { signal: daemon.stopSignal } : {}),
    });
    if (stopped.code !== OCF.SUCCESS) return stopped;
    log.info(`${daemon.name} (pid ${status.pid}) stopped`);
  }
  removePidfile(daemon.pidfile);
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
  /** The daemon writes the pidfile itself (haproxy -p); we only wait for it. */
  readonly daemonWritesPidfile?: boolean;
}

/** Launch the daemon detached and wait until it is ready, within the start timeout. */
export async function startDaemon<P extends ParameterSpecs>(context: ActionContext<P>, daemon: Daemon, request: StartRequest): Promise<Outcome> {
  const { env, log, deadline } = context;
  const { logFile } = daemon;
  removePidfile(daemon.pidfile);
  const launch: DaemonLaunch = {
    program: request.program,
    args: request.args,
    logFile,
    marker: resourceMarker(env),
    ...(request.account ? { account: request.account } : {}),
    ...(request.env ? { env: request.env } : {}),
    ...(request.daemonWritesPidfile ? {} : { pidfile: daemon.pidfile }),
  };
  let launched;
  try {
    launched = await launchDaemon(launch);
  } catch (error) {
    return failure(OCF.ERR_GENERIC, (error as Error).message);
  }
  log.info(`${daemon.name} launched (pid ${launched.pid}), output in ${logFile}`);
  const ready = await waitUntilReady({ name: daemon.name, daemon: launched, logFile, deadline, check: request.ready });
  if (ready.code === OCF.SUCCESS) log.info(`${daemon.name} (pid ${launched.pid}) is ready`);
  return ready;
}

export interface ReloadRequest {
  /** The daemon's graceful reload signal (haproxy SIGUSR2, uwsgi SIGHUP). */
  readonly signal: NodeJS.Signals;
  /** What must hold before a running daemon is asked to reload; an outcome refuses the reload. */
  readonly precheck?: () => Outcome | undefined;
  /** undefined once the reloaded master serves (the monitor's deeper check). */
  readonly ready: (pid: number) => Promise<string | undefined>;
}

/**
 * A graceful reload in place. A daemon that is not running has nothing to reload (its next start
 * reads the configuration). Otherwise signal the master, then wait, within the action's deadline,
 * until it has a worker it did not have before and the readiness check passes. The master must
 * live on.
 */
export async function reloadInPlace<P extends ParameterSpecs>(context: ActionContext<P>, daemon: Daemon, request: ReloadRequest): Promise<Outcome> {
  const { env, log, deadline } = context;
  const status = daemonStatus(env, daemon);
  if (status.state !== 'running') {
    log.info(`${daemon.name} is not running: nothing to reload, the next start reads the configuration`);
    return success;
  }
  const refused = request.precheck?.();
  if (refused) return refused;
  const { pid } = status;
  const { signal, ready } = request;
  const before = new Set(childrenOf(pid));
  log.info(`reloading ${daemon.name} (pid ${pid}) with ${signal}`);
  try {
    process.kill(pid, signal);
  } catch {
    return failure(OCF.ERR_GENERIC, `${daemon.name} (pid ${pid}) exited before it could be reloaded`);
  }
  let missing: string | undefined = 'no new worker yet';
  while (!deadline.expired()) {
    if (!isAlive(pid)) {
      const why = lastLogLine(daemon.logFile);
      return failure(OCF.ERR_GENERIC, `${daemon.name} (pid ${pid}) exited during reload${why ? `: ${why}` : ''}`);
    }
    const fresh = childrenOf(pid).filter((child) => !before.has(child));
    missing = fresh.length ? await ready(pid) : 'no new worker yet';
    if (missing === undefined) {
      log.info(`${daemon.name} (pid ${pid}) reloaded: new worker ${fresh.join(', ')}`);
      return success;
    }
    await sleep(Math.min(200, deadline.remaining()));
  }
  const why = lastLogLine(daemon.logFile);
  return failure(OCF.ERR_GENERIC, `${daemon.name} (pid ${pid}) did not reload in time: ${missing}${why ? `; its log says: ${why}` : ''}`);
}
