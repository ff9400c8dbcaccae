// Process supervision: launch a daemon detached as its service user, wait for it to be ready
// within the start timeout, stop it with escalation within the stop timeout.
import { chownSync, closeSync, constants, existsSync, fchownSync, fstatSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Deadline } from '../ocf/deadline.ts';
import { sleep } from '../ocf/deadline.ts';
import { OCF } from '../ocf/exit-codes.ts';
import type { Logger } from '../ocf/log.ts';
import { withoutUrlUserinfo } from '../ocf/credentials.ts';
import { failure, success, type Outcome } from '../ocf/outcome.ts';
import { recordOf, writePidfile } from './pidfile.ts';
import { isAlive, isFrozen, processGroup, RESOURCE_MARKER, startTime, stoppedCpuTicks, topmost } from './proc.ts';
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
  /** The uid it runs as, recorded in the pidfile (identity.ts checks it). */
  readonly uid: number;
}

export interface LaunchedDaemon {
  readonly pid: number;
  /** How the process ended, once it has (it is our child until this agent call exits). */
  exit(): string | undefined;
}

/**
 * The log lives in the service's directory, which the service user may write. A missing directory
 * is created for the service user (0750, as Debian's packages make /var/log/keystone and its
 * kind): a service configured to log there itself can. What the user may have planted at the path
 * is refused: a symlink (O_NOFOLLOW), a FIFO or device (O_NONBLOCK, then a regular file only), and
 * a hard link (more than one link: with fs.protected_hardlinks=0, the kernel's default, any user can
 * link a root-only file there, and root would hand its write descriptor to the daemon). A file
 * created here is given to the service user, who may write it anyway.
 */
function openLog(path: string, account: Account | undefined): number {
  const directory = dirname(path);
  if (!existsSync(directory)) {
    mkdirSync(dirname(directory), { recursive: true, mode: 0o755 });
    try {
      mkdirSync(directory, { mode: 0o750 });
      if (account) chownSync(directory, account.uid, account.gid);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create ${directory} for the logfile ${path}: ${(error as Error).message}`);
    }
  }
  const refuse = (why: string) => new Error(`cannot use ${path} (parameter logfile): ${why}`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY, 0o640);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === 'ELOOP' ? refuse('is a symbolic link') : code === 'ENXIO' ? refuse('is not a regular file (a FIFO)') : new Error(`cannot open logfile ${path}: ${(error as Error).message}`);
  }
  const stat = fstatSync(fd);
  const problem = !stat.isFile() ? 'is not a regular file' : stat.nlink > 1 ? `has ${stat.nlink} hard links (a link to another file): remove it` : undefined;
  if (problem) {
    closeSync(fd);
    throw refuse(problem);
  }
  if (account && stat.size === 0 && stat.uid === 0 && account.uid !== 0) {
    try {
      fchownSync(fd, account.uid, account.gid);
    } catch {
      // Root's then: the daemon writes through the descriptor it is given either way.
    }
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
  const logFd = openLog(launch.logFile, launch.account);
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
      writePidfile(launch.pidfile, recordOf(pid, launch.marker, launch.uid) ?? { pid, uid: launch.uid, resource: launch.marker });
    } catch (error) {
      // Its own session leader: the group holds it and anything it forked meanwhile.
      signalProcess(pid, 'SIGKILL', true);
      signalProcess(pid, 'SIGKILL', false);
      throw new Error(`cannot write the pidfile ${launch.pidfile} (${(error as Error).message}); ${launch.program} (pid ${pid}) was killed`);
    }
  }
  return { pid, exit: () => ended };
}

/**
 * What a daemon wrote to its log from byte `from` on (the last `maxBytes` of it, 4 KB by default),
 * every URL's userinfo blanked (withoutUrlUserinfo); all of the file when it is now shorter than
 * `from` (truncated by a rotation). Never blocks: a FIFO or a device planted at the path is not read
 * (O_NONBLOCK, regular files only). undefined when it cannot be read.
 */
export function logSince(path: string, from = 0, maxBytes = 4096): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return undefined;
    const size = stat.size;
    const start = Math.max(size < from ? 0 : from, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    return withoutUrlUserinfo(buffer.toString('utf8'));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** A log file's size in bytes now (0 when it does not exist): where what comes next starts. */
export function logSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * The last non-empty line a daemon wrote to its log (the last 4 KB read; see logSince): usually
 * why it died.
 */
export function lastLogLine(path: string): string | undefined {
  return logSince(path)?.split('\n').map((line) => line.trim()).filter(Boolean).pop();
}

export interface Readiness {
  readonly name: string;
  readonly daemon: LaunchedDaemon;
  readonly logFile: string;
  readonly deadline: Deadline;
  /** undefined when ready, otherwise what is still missing. */
  readonly check: () => Promise<string | undefined>;
  /** A reason when waiting longer is waiting for nothing though the daemon lives (see StartRequest). */
  readonly hopeless?: () => string | undefined;
  readonly intervalMs?: number;
}

/**
 * The readiness check's answer, or what `hopeless` says first: sampled every 100 ms while the check
 * runs (a check that waits for an answer no worker gives lasts its whole timeout, 10 s for
 * Keystone's). The check then left running is bounded by its own timeout and its answer unused.
 */
async function checkWatching(check: () => Promise<string | undefined>, hopeless: (() => string | undefined) | undefined): Promise<{ missing: string | undefined } | { lost: string }> {
  if (!hopeless) return { missing: await check() };
  const pending = check().then((missing) => ({ missing }));
  pending.catch(() => undefined); // a check given up on may still fail later: not an unhandled rejection
  for (;;) {
    const answered = await Promise.race([pending, sleep(100).then(() => undefined)]);
    if (answered) return answered;
    const lost = hopeless();
    if (lost !== undefined) return { lost };
  }
}

/** Poll the daemon's own readiness check until it passes, the daemon dies, or time runs out. */
export async function waitUntilReady(readiness: Readiness): Promise<Outcome> {
  const { name, daemon, logFile, deadline, check, hopeless, intervalMs = 200 } = readiness;
  let missing: string | undefined = 'not checked yet';
  for (;;) {
    const ended = daemon.exit() ?? (isAlive(daemon.pid) ? undefined : 'exited');
    if (ended !== undefined) {
      const why = lastLogLine(logFile);
      return failure(OCF.ERR_GENERIC, `${name} exited during start (${ended})${why ? `: ${why}` : ''}`);
    }
    const looked = await checkWatching(check, hopeless);
    if ('lost' in looked) return failure(OCF.ERR_GENERIC, looked.lost);
    missing = looked.missing;
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
  readonly find: () => ProcessSearch | Promise<ProcessSearch>;
  readonly deadline: Deadline;
  readonly log: Logger;
  /** The daemon's own "stop now" signal (uwsgi reloads on SIGTERM). */
  readonly signal?: NodeJS.Signals;
  /** When the daemon is given up on before the graceful part of the timeout ends (see StopPatience). */
  readonly patience?: StopPatience;
}

/**
 * How long a daemon may make no progress toward exiting after its stop signal before SIGKILL, well
 * before the graceful part of the stop timeout ends. Progress is one of its processes exiting, or
 * `draining` saying so (HAProxy after its soft stop: its listeners closed, connections in progress
 * finishing). A hung daemon, or one that ignores the signal, shows neither: waiting longer only
 * keeps its clients, and whatever is ordered after it (the VIP), waiting.
 */
export interface StopPatience {
  /** Milliseconds without progress. */
  readonly ms: number;
  /**
   * Whether the processes alive (pids) are finishing their work: a look's progress. Given the
   * milliseconds since the stop signal went out. Must not throw.
   */
  readonly draining?: (pids: readonly number[], sinceSignalMs: number) => boolean;
}

/**
 * One look for a resource's processes. `undecided` says why the look may have missed some (the
 * walk through /proc cut short, environments not read in time): stop never calls that stopped.
 */
export interface ProcessSearch {
  readonly pids: readonly number[];
  readonly undecided?: string;
}

/** What is alive of the processes found so far, and why the last look was not conclusive. */
interface Living {
  readonly alive: number[];
  readonly undecided?: string;
}

/** The first few pids and how many more: a reason or a log line never lists hundreds. */
function shortList(pids: readonly number[], shown = 8): string {
  return pids.length <= shown ? pids.join(', ') : `${pids.slice(0, shown).join(', ')} and ${pids.length - shown} more`;
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
function tracker(find: () => ProcessSearch | Promise<ProcessSearch>): () => Promise<Living> {
  const seen = new Map<number, string>();
  return async () => {
    const search = await find();
    for (const pid of search.pids) {
      const start = startTime(pid); // found now, so ours now: a reused pid takes the new start
      if (start !== undefined) seen.set(pid, start);
    }
    // One gone stays gone (pid and start name it): forgotten, so each look costs what lives now.
    for (const [pid, start] of seen) if (startTime(pid) !== start) seen.delete(pid);
    return { alive: [...seen.keys()], ...(search.undecided ? { undecided: search.undecided } : {}) };
  };
}

function stopped(living: Living): boolean {
  return living.alive.length === 0 && living.undecided === undefined;
}

/**
 * Wait until none of ours lives, as a conclusive look shows; else, once the deadline is reached
 * (never looked for again after it), the last look. `each` is given those alive at every look
 * (the SIGKILL phase kills them again).
 */
async function waitForNone(living: () => Promise<Living>, deadline: Deadline, each: (pids: number[]) => void = () => undefined, hopeless: (look: Living) => boolean = () => false): Promise<Living> {
  for (;;) {
    const look = await living();
    if (stopped(look) || deadline.expired() || hopeless(look)) return look;
    each(look.alive);
    await sleep(Math.min(100, deadline.remaining()));
  }
}

/**
 * Those of a look that cannot act on a graceful signal: stopped (SIGSTOP) or held by a tracer, in
 * this look and the one before (100 ms apart). Waiting for them is waiting for nothing: a frozen
 * HAProxy on the VIP's node kept the VIP down for the whole graceful part of the stop timeout.
 */
function frozenTracker(): (look: Living) => number[] {
  let before = new Set<number>();
  return (look) => {
    const now = look.alive.filter(isFrozen);
    const still = now.filter((pid) => before.has(pid));
    before = new Set(now);
    return still;
  };
}

/**
 * Those of `pids` stopped by a signal (SIGSTOP, SIGTSTP: state T) in two looks `apartMs` apart
 * (default 100 ms) without running in between (the same CPU time): not a passing state. A process
 * held by a tracer (state t: an operator's gdb or strace on a healthy daemon) is not counted: it
 * must not cost a restart; a daemon held that way is judged by its answers, as a hung one is.
 * Costs one read of /proc/PID/stat per process and returns at once when none is stopped at the
 * first look; [] (no conclusion) when less than `apartMs` of the deadline is left. Never throws:
 * a process gone meanwhile is not frozen.
 */
export async function frozenProcesses(pids: readonly number[], deadline: Deadline, apartMs = 100): Promise<number[]> {
  if (deadline.remaining() < apartMs) return [];
  const first = pids.flatMap((pid): Array<[number, number]> => {
    const ticks = stoppedCpuTicks(pid);
    return ticks === undefined ? [] : [[pid, ticks]];
  });
  if (!first.length) return [];
  await sleep(apartMs);
  return first.filter(([pid, ticks]) => stoppedCpuTicks(pid) === ticks).map(([pid]) => pid);
}

/** A reason naming the frozen processes of `pids` (see frozenProcesses); undefined when none is. */
export async function frozenProblem(pids: readonly number[], deadline: Deadline): Promise<string | undefined> {
  const frozen = await frozenProcesses(pids, deadline);
  return frozen.length ? `process ${shortList(frozen)} is stopped (SIGSTOP) and serves nothing until continued` : undefined;
}

/**
 * Whether the processes have gone `patience.ms` without progress (see StopPatience) as of this
 * look; never, without a patience. Counted from the first look, which follows the signal.
 */
function stallTracker(patience: StopPatience | undefined, signalledAt: number): (look: Living) => boolean {
  if (!patience) return () => false;
  let before: Set<number> | undefined;
  let progressAt = performance.now();
  return (look) => {
    const exited = before !== undefined && [...before].some((pid) => !look.alive.includes(pid));
    before = new Set(look.alive);
    if (exited || patience.draining?.(look.alive, performance.now() - signalledAt)) progressAt = performance.now();
    return performance.now() - progressAt >= patience.ms;
  };
}

function kill(pids: readonly number[]): void {
  for (const pid of pids) {
    if (processGroup(pid) === pid) signalProcess(pid, 'SIGKILL', true);
    signalProcess(pid, 'SIGKILL', false);
  }
}

/**
 * Stop every process of the resource: its stop signal to the topmost ones (a master stops its own
 * workers), then, while a quarter of the time (at most 5 s) is still left, SIGKILL to every one
 * still alive (with its process group, when it leads one). SIGKILL comes at once when one of them
 * is frozen (stopped or traced, seen twice 100 ms apart): it could not act on the stop signal
 * however long we waited; and after `patience.ms` without progress toward exiting (StopPatience).
 * Success only once none lives.
 */
export async function stopProcesses(request: StopRequest): Promise<Outcome> {
  const { name, deadline, log, signal = 'SIGTERM' } = request;
  const living = tracker(request.find);
  const found = await living();
  if (stopped(found)) return success;
  const roots = topmost(found.alive);
  if (roots.length) log.info(`stopping ${name} (pid ${shortList(roots)}) with ${signal}`);
  for (const pid of roots) signalProcess(pid, signal, false);
  const signalledAt = performance.now();
  const graceful = deadline.leaving(Math.min(5000, deadline.remaining() / 4));
  const frozen = frozenTracker();
  const stalled = stallTracker(request.patience, signalledAt);
  let frozenPids: number[] = [];
  let stall = false;
  const stubborn = await waitForNone(living, graceful, undefined, (look) => (frozenPids = frozen(look)).length > 0 || (stall = stalled(look)));
  if (stopped(stubborn)) return success;
  if (frozenPids.length) log.warn(`${name} (pid ${shortList(frozenPids)}) is stopped or traced and cannot act on ${signal}; killing it with SIGKILL`);
  else if (stall) log.warn(`${name} (pid ${shortList(stubborn.alive)}) made no progress toward exiting in ${request.patience!.ms} ms after ${signal}; killing it with SIGKILL`);
  else if (stubborn.alive.length) log.warn(`${name} (pid ${shortList(stubborn.alive)}) ignored ${signal}; killing it with SIGKILL`);
  kill(stubborn.alive);
  // Every look kills again what it finds: a process of ours forked after the first round is ours too.
  const survivors = await waitForNone(living, deadline, kill);
  if (stopped(survivors)) return success;
  const { alive, undecided } = survivors;
  if (alive.length) return failure(OCF.ERR_GENERIC, `${name} is still running after SIGKILL (${alive.length === 1 ? 'pid' : `${alive.length} processes, pid`} ${shortList(alive)})`);
  // Nothing found alive, but the last look was not whole: claiming "stopped" could start a second copy elsewhere.
  return failure(OCF.ERR_GENERIC, `${name} may still be running: ${undecided!}`);
}
