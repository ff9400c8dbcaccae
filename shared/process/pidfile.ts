// Pidfiles: written without following symlinks; what they are worth is decided in identity.ts.
//
// Format: the pid alone on the first line (what other tools read), then `key=value` lines: the
// process's start time and the boot it started in (together with the pid they name one process for
// good, whatever it does to its argv and environment), and the resource that wrote the file. A file
// with the pid alone (older versions of this suite, a daemon's own) is still read.
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { bootId, startTime } from './proc.ts';

export interface PidRecord {
  readonly pid: number;
  /** /proc/PID/stat's start time when the pid was recorded. */
  readonly start?: string;
  readonly boot?: string;
  /** The real uid root launched it as. */
  readonly uid?: number;
  /** The resource marker of the resource that wrote the file. */
  readonly resource?: string;
}

/**
 * The record in a pidfile; undefined when there is none. Its directory may be the service user's
 * (Debian's /run/memcached): a FIFO or a device planted at the path is never read (O_NONBLOCK, a
 * regular file only), and no more than 4 KB is. The launch record (start, boot, uid, resource) is
 * believed only from a file this agent's user (root) owns with one link, as writePidfile leaves it:
 * a service user can plant any file in its directory, and a forged `uid=` would let it choose a
 * process of any owner. Any other file counts as a pid alone, which identity.ts accepts only with
 * the program, the resource's user and the marker.
 */
export function readPidfile(path: string): PidRecord | undefined {
  let text: string;
  let trusted: boolean;
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) return undefined;
      trusted = stat.uid === (process.geteuid?.() ?? 0) && stat.nlink === 1;
      const buffer = Buffer.alloc(4096);
      text = buffer.toString('utf8', 0, readSync(fd, buffer, 0, buffer.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const [first = '', ...rest] = text.split('\n');
  const match = /^\s*(\d+)\s*$/.exec(first);
  if (!match) return undefined;
  const fields = new Map(rest.map((line) => /^(\w+)=(.*)$/.exec(line.trim())).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
  const record: { -readonly [K in keyof PidRecord]: PidRecord[K] } = { pid: Number(match[1]) };
  if (!trusted) return record;
  if (fields.has('start')) record.start = fields.get('start');
  if (fields.has('boot')) record.boot = fields.get('boot');
  if (fields.has('resource')) record.resource = fields.get('resource');
  if (/^\d+$/.test(fields.get('uid') ?? '')) record.uid = Number(fields.get('uid'));
  return record;
}

export function readPid(path: string): number | undefined {
  return readPidfile(path)?.pid;
}

/** The record naming the live process `pid` for good; undefined when it is gone already. */
export function recordOf(pid: number, resource: string, uid?: number): PidRecord | undefined {
  const start = startTime(pid);
  return start === undefined ? undefined : { pid, start, boot: bootId(), ...(uid === undefined ? {} : { uid }), resource };
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
