// Pidfiles: written without following symlinks, and trusted only for the process they name.
import { closeSync, constants, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive, isExpectedProcess, type ProgramIdentity } from './proc.ts';

export function readPid(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^\s*(\d+)\s*$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * Write atomically: a fresh file opened with O_EXCL|O_NOFOLLOW, renamed over the path. rename()
 * replaces a symlink planted at the path instead of writing through it.
 */
export function writePidfile(path: string, pid: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, `${pid}\n`);
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
  | { readonly state: 'stale'; readonly pid: number }
  | { readonly state: 'foreign'; readonly pid: number };

/** What a pidfile says about our daemon: running, no pidfile, a dead pid, or someone else's pid. */
export function pidStatus(path: string, identity: ProgramIdentity): PidStatus {
  const pid = readPid(path);
  if (pid === undefined) return { state: 'absent' };
  if (isExpectedProcess(pid, identity)) return { state: 'running', pid };
  return isAlive(pid) ? { state: 'foreign', pid } : { state: 'stale', pid };
}
