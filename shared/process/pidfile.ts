// Pidfiles: written without following symlinks, and trusted only for the process they name.
//
// Format: the pid alone on the first line (what other tools read), then `key=value` lines: the
// process's start time and the boot it started in (together with the pid they name one process for
// good, whatever it does to its argv and environment), and the resource that wrote the file. A file
// with the pid alone (older versions of this suite, a daemon's own) is still read.
import { closeSync, constants, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { bootId, isAlive, isExpectedProcess, markerOf, startTime, type ProgramIdentity } from './proc.ts';

export interface PidRecord {
  readonly pid: number;
  /** /proc/PID/stat's start time when the pid was recorded. */
  readonly start?: string;
  readonly boot?: string;
  /** The resource marker of the resource that wrote the file. */
  readonly resource?: string;
}

export function readPidfile(path: string): PidRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const [first = '', ...rest] = text.split('\n');
  const match = /^\s*(\d+)\s*$/.exec(first);
  if (!match) return undefined;
  const fields = new Map(rest.map((line) => /^(\w+)=(.*)$/.exec(line.trim())).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
  const record: { -readonly [K in keyof PidRecord]: PidRecord[K] } = { pid: Number(match[1]) };
  if (fields.has('start')) record.start = fields.get('start');
  if (fields.has('boot')) record.boot = fields.get('boot');
  if (fields.has('resource')) record.resource = fields.get('resource');
  return record;
}

export function readPid(path: string): number | undefined {
  return readPidfile(path)?.pid;
}

/** The record naming the live process `pid` for good; undefined when it is gone already. */
export function recordOf(pid: number, resource: string): PidRecord | undefined {
  const start = startTime(pid);
  return start === undefined ? undefined : { pid, start, boot: bootId(), resource };
}

/**
 * Write atomically: a fresh file opened with O_EXCL|O_NOFOLLOW, renamed over the path. rename()
 * replaces a symlink planted at the path instead of writing through it.
 */
export function writePidfile(path: string, record: PidRecord | number): void {
  const { pid, ...fields } = typeof record === 'number' ? { pid: record } : record;
  const text = [String(pid), ...Object.entries(fields).filter(([, value]) => value !== undefined).map(([key, value]) => `${key}=${value}`)].join('\n');
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, `${text}\n`);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

export function removePidfile(path: string): void {
  rmSync(path, { force: true });
}

export type PidStatus =
  | { readonly state: 'running'; readonly pid: number }
  | { readonly state: 'absent' }
  /** The process the pidfile names is gone (its pid may have been reused by another). */
  | { readonly state: 'stale'; readonly pid: number }
  /** A live process that is not ours: never signalled, and its pidfile never removed. */
  | { readonly state: 'foreign'; readonly pid: number; readonly owner?: string };

/**
 * What a pidfile says about our daemon. With a start time, the pid names exactly the process we
 * launched (this boot, this start), and the file's resource says whose it is; without one (an old
 * pidfile), the live process must be the expected program carrying our marker.
 */
export function pidStatus(path: string, identity: ProgramIdentity): PidStatus {
  const record = readPidfile(path);
  if (record === undefined) return { state: 'absent' };
  const { pid } = record;
  if (record.start !== undefined) {
    if (record.boot !== bootId() || record.start !== startTime(pid)) return { state: 'stale', pid };
    if (identity.marker !== undefined && record.resource !== undefined && record.resource !== identity.marker) {
      return { state: 'foreign', pid, owner: record.resource };
    }
    return { state: 'running', pid };
  }
  if (isExpectedProcess(pid, identity)) return { state: 'running', pid };
  if (!isAlive(pid)) return { state: 'stale', pid };
  const owner = markerOf(pid);
  return owner === undefined ? { state: 'foreign', pid } : { state: 'foreign', pid, owner };
}
