// Output for the hot path. In a bun binary, touching process.stdout or process.stderr builds
// node's stream machinery (about 16 ms, measured) and node:tty costs as much again; a monitor
// needs neither, so it writes to the file descriptors directly.
import { readlinkSync, writeSync } from 'node:fs';

function writeAll(fd: number, text: string): void {
  let buffer = Buffer.from(text, 'utf8');
  while (buffer.length > 0) {
    try {
      buffer = buffer.subarray(writeSync(fd, buffer));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') continue; // a non-blocking pipe that is full
      return; // a closed stdout or stderr must not change the outcome of an action
    }
  }
}

export function writeStdout(text: string): void {
  writeAll(1, text);
}

export function writeStderr(text: string): void {
  writeAll(2, text);
}

/** `tty` in ocf-shellfuncs: is standard input a terminal? (/dev/null, Pacemaker's stdin, is not.) */
export function stdinIsTerminal(): boolean {
  try {
    return /^\/dev\/(pts\/|tty)/.test(readlinkSync('/proc/self/fd/0'));
  } catch {
    return false;
  }
}
