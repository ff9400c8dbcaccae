// What an agent keeps about its running daemon between calls (what the daemon read at start or
// reload), in HA_RSCTMP beside the pidfile: monitor judges the daemon by it, not by files edited since.
import { closeSync, constants, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';

/**
 * Written like a pidfile: a fresh O_EXCL|O_NOFOLLOW file renamed over the path, so a reader never
 * sees half of it and a planted symlink is never followed. Root-only by default: it may name
 * addresses and paths operators consider private.
 */
export function writeState(path: string, value: unknown, mode = 0o600): void {
  const temporary = `${path}.${process.pid}.tmp`;
  // A temporary left by a killed call with a recycled pid: unlink it (a symlink is removed, not followed).
  rmSync(temporary, { force: true });
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    writeSync(fd, `${JSON.stringify(value)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

/** The state kept at path; undefined when there is none or it cannot be read. */
export function readState(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

export function removeState(path: string): void {
  rmSync(path, { force: true });
}
