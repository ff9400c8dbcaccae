// What the kernel says about a process, read from /proc (no ps, no pgrep).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { processAgeMs } from '../ocf/deadline.ts';

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

/**
 * How long ago a live process started, in milliseconds: its start against this process's own, both
 * in clock ticks since boot (/proc/PID/stat; Linux counts them at USER_HZ, 100 a second), plus this
 * process's own age (deadline.ts: from /proc/uptime when that agrees with the runtime, else the
 * runtime's own clock, a few hundred ms short). Not the other process's start against /proc/uptime
 * alone, which a container's lxcfs replaces with the container's. undefined when it is gone.
 */
export function msSinceStart(pid: number): number | undefined {
  const start = startTime(pid);
  const self = startTime(process.pid);
  if (start === undefined || self === undefined) return undefined;
  return Math.max(0, (Number(self) - Number(start)) * 10 + processAgeMs());
}

/**
 * Stopped (state T: SIGSTOP, SIGTSTP) or stopped by a tracer (t): such a process acts on no signal
 * but SIGKILL until it is continued. false when running, sleeping or gone.
 */
export function isFrozen(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === 'T' || state === 't';
}

/**
 * The CPU time (utime + stime, clock ticks) of a process stopped by a signal (state T: SIGSTOP,
 * SIGTSTP); undefined when it runs, sleeps, is held by a tracer (t) or is gone. The same value in
 * two looks means it did not run in between.
 */
export function stoppedCpuTicks(pid: number): number | undefined {
  const fields = statFields(pid);
  if (fields?.[0] !== 'T') return undefined;
  return Number(fields[11]) + Number(fields[12]);
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

/**
 * The variable every daemon we launch carries in its environment, naming its resource. Anyone can
 * set it: identity.ts decides what it is worth.
 */
export const RESOURCE_MARKER = 'OCF_OPENSTACK_RESOURCE';

/** The process group id, from /proc/PID/stat. */
export function processGroup(pid: number): number | undefined {
  const pgrp = statFields(pid)?.[2];
  return pgrp === undefined ? undefined : Number(pgrp);
}

/** Those of `pids` whose parent is not among them: the masters, and any orphaned worker. */
export function topmost(pids: readonly number[]): number[] {
  const set = new Set(pids);
  return pids.filter((pid) => !set.has(parentOf(pid)));
}
