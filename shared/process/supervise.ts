// Process supervision: launch a daemon detached as its service user, wait for it to be ready
// within the start timeout, stop it with escalation within the stop timeout.
import { closeSync, constants, mkdirSync, openSync, readSync, fstatSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Deadline } from '../ocf/deadline.ts';
import { sleep } from '../ocf/deadline.ts';
import { OCF } from '../ocf/exit-codes.ts';
import type { Logger } from '../ocf/log.ts';
import { failure, success, type Outcome } from '../ocf/outcome.ts';
import { recordOf, writePidfile } from './pidfile.ts';
import { isAlive, processGroup, RESOURCE_MARKER, startTime, topmost } from './proc.ts';
import type { Account } from './users.ts';

export const DAEMON_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface DaemonLaunch {
  readonly program: string;
  readonly args: readonly string[];
  /** The service user; undefined runs as the caller (root under Pacemaker). */
  readonly account?: Account;
  /** Where the daemon's stdout and stderr go (appended). */
  readonly logFile: string;
  /**
   * Written with the daemon's pid and start time; leave undefined when the daemon writes its own.
   * When it cannot be written, the daemon is killed: nothing may run that stop could not find.
   */
  readonly pidfile?: string;
  /** Added to a minimal environment: the agent's own OCF_RESKEY_* (passwords) never reach a daemon. */
  readonly env?: Readonly<Record<string, string>>;
  /** This resource's marker (see RESOURCE_MARKER), how monitor and stop recognise the daemon. */
  readonly marker: string;
}

export interface LaunchedDaemon {
  readonly pid: number;
  /** How the process ended, once it has (it is our child until this agent call exits). */
  exit(): string | undefined;
}

/**
 * The log lives in the service's directory, which the service user may write: a symlink planted
 * there is not followed, a FIFO does not block the start (O_NONBLOCK), only a regular file is used.
 */
function openLog(path: string): number {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o640);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? 'is a symbolic link' : code === 'ENXIO' ? 'is not a regular file' : (error as Error).message;
    throw new Error(`cannot use ${path} (parameter logfile): ${why}`);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new Error(`cannot use ${path} (parameter logfile): is not a regular file`);
  }
  return fd;
}

/**
 * The command that runs `program` as the account with its supplementary groups, as login would
 * (initgroups(3)): node's spawn sets only uid and gid, and a service user's groups are how it
 * reaches libvirt's socket or key files. setpriv (util-linux) execs the program in place, so the
 * pid, the environment (the resource marker) and /proc/PID/exe are the program's own.
 */
export function asUser(account: Account, program: string, args: readonly string[]): [string, string[]] {
  return ['setpriv', ['--reuid', String(account.uid), '--regid', String(account.gid), '--init-groups', '--', program, ...args]];
}

/**
 * Launch detached (its own session, so Pacemaker's process group is not its own) with its output
 * appended to the log. This is node's spawn rather than execa: a daemon never yields the awaited
 * result execa exists to give, and execa's handle would only have to be dismantled again.
 */
export async function launchDaemon(launch: DaemonLaunch): Promise<LaunchedDaemon> {
  const logFd = openLog(launch.logFile);
  const account = launch.account;
  const env: Record<string, string> = {
    PATH: DAEMON_PATH,
    LC_ALL: 'C.UTF-8',
    ...(account ? { HOME: account.home, USER: account.name, LOGNAME: account.name } : { HOME: '/root' }),
    ...launch.env,
    [RESOURCE_MARKER]: launch.marker,
  };
  const { spawn } = await import('node:child_process'); // start only: kept off the monitor path
  const [file, args] = account ? asUser(account, launch.program, launch.args) : [launch.program, [...launch.args]];
  let ended: string | undefined;
  const child = spawn(file, args, {
    shell: false,
    detached: true,
    stdio: ['ignore', logFd, logFd],
    cwd: '/',
    env,
  });
  child.on('exit', (code, signal) => {
    ended = signal ? `killed by ${signal}` : `exit code ${code}`;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (error) {
    throw new Error(`cannot run ${launch.program}: ${(error as Error).message}`);
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid!;
  child.unref();
  if (launch.pidfile) {
    try {
      writePidfile(launch.pidfile, recordOf(pid, launch.marker) ?? { pid, resource: launch.marker });
    } catch (error) {
      // Its own session leader: the group holds it and anything it forked meanwhile.
      signalProcess(pid, 'SIGKILL', true);
      signalProcess(pid, 'SIGKILL', false);
      throw new Error(`cannot write the pidfile ${launch.pidfile} (${(error as Error).message}); ${launch.program} (pid ${pid}) was killed`);
    }
  }
  return { pid, exit: () => ended };
}

/** The last non-empty line a daemon wrote to its log: usually why it died. */
export function lastLogLine(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 4096);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8').split('\n').map((line) => line.trim()).filter(Boolean).pop();
  } finally {
    closeSync(fd);
  }
}

export interface Readiness {
  readonly name: string;
  readonly daemon: LaunchedDaemon;
  readonly logFile: string;
  readonly deadline: Deadline;
  /** undefined when ready, otherwise what is still missing. */
  readonly check: () => Promise<string | undefined>;
  readonly intervalMs?: number;
}

/** Poll the daemon's own readiness check until it passes, the daemon dies, or time runs out. */
export async function waitUntilReady(readiness: Readiness): Promise<Outcome> {
  const { name, daemon, logFile, deadline, check, intervalMs = 200 } = readiness;
  let missing: string | undefined = 'not checked yet';
  for (;;) {
    const ended = daemon.exit() ?? (isAlive(daemon.pid) ? undefined : 'exited');
    if (ended !== undefined) {
      const why = lastLogLine(logFile);
      return failure(OCF.ERR_GENERIC, `${name} exited during start (${ended})${why ? `: ${why}` : ''}`);
    }
    missing = await check();
    if (missing === undefined) return success;
    if (deadline.expired()) {
      const why = lastLogLine(logFile);
      return failure(OCF.ERR_GENERIC, `${name} (pid ${daemon.pid}) not ready before the start timeout: ${missing}${why ? `; its log says: ${why}` : ''}`);
    }
    await sleep(Math.min(intervalMs, deadline.remaining()));
  }
}

export interface StopRequest {
  readonly name: string;
  /**
   * This resource's processes as they are now: the daemon, its workers, whatever it left or forked.
   * Asked again while waiting, so a process found late is stopped too.
   */
  readonly find: () => readonly number[];
  readonly deadline: Deadline;
  readonly log: Logger;
  /** The daemon's own "stop now" signal (uwsgi reloads on SIGTERM). */
  readonly signal?: NodeJS.Signals;
}

function signalProcess(pid: number, signal: NodeJS.Signals, wholeGroup: boolean): void {
  try {
    process.kill(wholeGroup ? -pid : pid, signal);
  } catch {
    // Gone already: exactly what stop wants.
  }
}

/**
 * The processes found so far, each by pid and start time: one that has exited stays gone even when
 * its pid is reused, and a worker that lost its master (and with it the way it was found) is kept.
 */
function tracker(find: () => readonly number[]): () => number[] {
  const seen = new Map<number, string>();
  return () => {
    for (const pid of find()) {
      const start = startTime(pid); // found now, so ours now: a reused pid takes the new start
      if (start !== undefined) seen.set(pid, start);
    }
    return [...seen].filter(([pid, start]) => startTime(pid) === start).map(([pid]) => pid);
  };
}

async function waitForNone(living: () => number[], deadline: Deadline): Promise<boolean> {
  while (living().length) {
    if (deadline.expired()) return false;
    await sleep(Math.min(100, deadline.remaining()));
  }
  return true;
}

/**
 * Stop every process of the resource: its stop signal to the topmost ones (a master stops its own
 * workers), then, while a quarter of the time (at most 5 s) is still left, SIGKILL to every one
 * still alive (with its process group, when it leads one). Success only once none lives.
 */
export async function stopProcesses(request: StopRequest): Promise<Outcome> {
  const { name, deadline, log, signal = 'SIGTERM' } = request;
  const living = tracker(request.find);
  const found = living();
  if (!found.length) return success;
  const roots = topmost(found);
  log.info(`stopping ${name} (pid ${roots.join(', ')}) with ${signal}`);
  for (const pid of roots) signalProcess(pid, signal, false);
  const graceful = deadline.leaving(Math.min(5000, deadline.remaining() / 4));
  if (await waitForNone(living, graceful)) return success;
  const stubborn = living();
  log.warn(`${name} (pid ${stubborn.join(', ')}) ignored ${signal}; killing it with SIGKILL`);
  for (const pid of stubborn) {
    if (processGroup(pid) === pid) signalProcess(pid, 'SIGKILL', true);
    signalProcess(pid, 'SIGKILL', false);
  }
  if (await waitForNone(living, deadline)) return success;
  return failure(OCF.ERR_GENERIC, `${name} (pid ${living().join(', ')}) is still running after SIGKILL`);
}
