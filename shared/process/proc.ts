// What the kernel says about a process, read from /proc (no ps, no pgrep).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  const stat = readProc(pid, 'stat');
  return stat === undefined ? undefined : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * When a live process started, in clock ticks since boot (/proc/PID/stat field 22): with the pid
 * and the boot, it names one process for good. execve keeps it (a daemon re-executing itself on
 * reload, a launcher exec'ing in place); renaming (setproctitle, uwsgi's procname) cannot touch it.
 * undefined for a zombie: a killed daemon nobody has reaped yet is not running.
 */
export function startTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const fields = statFields(pid);
  return fields === undefined || fields[0] === 'Z' || fields[0] === 'X' ? undefined : fields[19];
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  return startTime(pid) !== undefined;
}

/** This boot's id: start times count from boot, so they name a process within one boot only. */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** The parent pid (0 when unknown). */
export function parentOf(pid: number): number {
  return Number(statFields(pid)?.[1] ?? 0);
}

function commandLine(pid: number): string[] {
  const raw = readProc(pid, 'cmdline');
  if (!raw) return [];
  return raw.split('\0').slice(0, raw.endsWith('\0') ? -1 : undefined);
}

/** The executable's path; undefined when it cannot be read (another user's process, not root). */
export function executable(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

/**
 * Every live pid whose parent is `pid`: the children of all its threads (python daemons fork their
 * workers from a thread; /proc/PID/task/PID/children lists only the main thread's).
 */
export function childrenOf(pid: number): number[] {
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return threads.flatMap((tid) => (readProc(pid, `task/${tid}/children`) ?? '').trim().split(/\s+/).filter(Boolean).map(Number)).filter(isAlive);
}

/** `pid` and all its live descendants (a daemon's workers), parents first. */
export function processTree(pid: number): number[] {
  const tree = isAlive(pid) ? [pid] : [];
  for (let i = 0; i < tree.length && tree.length < 4096; i++) tree.push(...childrenOf(tree[i]!));
  return tree;
}

/** The variable every daemon we launch carries in its environment, naming its resource. */
export const RESOURCE_MARKER = 'OCF_OPENSTACK_RESOURCE';

export interface ProgramIdentity {
  /** Resolved path of the binary we launched (or its name, when it could not be resolved). */
  readonly binary: string;
  /**
   * The value of RESOURCE_MARKER in the process's environment: tells this resource's daemon from
   * another instance of the same program, without trusting any parameter.
   */
  readonly marker?: string;
}

function environmentValue(pid: number, name: string): string | undefined {
  const raw = readProc(pid, 'environ');
  const entry = raw?.split('\0').find((item) => item.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
}

/** The resource marker a process carries: whose daemon it is (undefined: nobody's we know). */
export function markerOf(pid: number): string | undefined {
  return environmentValue(pid, RESOURCE_MARKER);
}

/**
 * Is `pid` the program we expect? The executable must be the binary, or, for interpreted
 * daemons (a python console script), the binary must be the first or second word of its
 * command line, and it must carry this resource's marker. Pid alone proves nothing: pids are
 * recycled.
 */
export function isExpectedProcess(pid: number, identity: ProgramIdentity): boolean {
  if (!isAlive(pid)) return false;
  const argv = commandLine(pid);
  const exe = executable(pid);
  const wanted = basename(identity.binary);
  const viaExe = exe !== undefined && (exe === identity.binary || basename(exe) === wanted);
  const viaArgv = argv.slice(0, 2).some((word) => word === identity.binary || basename(word) === wanted);
  // A python daemon that renamed itself with setproctitle (cotyledon: "NAME: master process [...]").
  const viaTitle = argv[0]?.startsWith(`${wanted}: `) === true;
  if (!viaExe && !viaArgv && !viaTitle) return false;
  return identity.marker === undefined || environmentValue(pid, RESOURCE_MARKER) === identity.marker;
}

/** The process group id, from /proc/PID/stat. */
export function processGroup(pid: number): number | undefined {
  const pgrp = statFields(pid)?.[2];
  return pgrp === undefined ? undefined : Number(pgrp);
}

/** The session id, from /proc/PID/stat: a process that detached itself (setsid) leads its own. */
export function sessionOf(pid: number): number | undefined {
  const session = statFields(pid)?.[3];
  return session === undefined ? undefined : Number(session);
}

function networkNamespace(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/**
 * Every live process carrying `marker` in its environment, found by reading all of /proc: for
 * probes and after failures (no pidfile, a stale one), never on a healthy monitor. A process that
 * overwrote its environment (uwsgi's procname) is not found here; its pidfile's start time names it.
 * Only processes in this agent's network namespace count: a daemon the agent launched shares it,
 * while a container's, or another cluster node's on the same machine (test clusters in namespaces),
 * carries the same marker and is not ours to report or stop.
 */
export function markedProcesses(marker: string): number[] {
  const wanted = `${RESOURCE_MARKER}=${marker}`;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const ours = networkNamespace('self');
  return entries
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pid !== process.pid && (readProc(pid, 'environ') ?? '').split('\0').includes(wanted) && isAlive(pid) && networkNamespace(pid) === ours);
}

/** Those of `pids` whose parent is not among them: the masters, and any orphaned worker. */
export function topmost(pids: readonly number[]): number[] {
  const set = new Set(pids);
  return pids.filter((pid) => !set.has(parentOf(pid)));
}
