// Processes a test starts or finds, and always ends.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { ExecutionContext } from 'ava';

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

export function pidFromFile(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
  return Number.isInteger(pid) ? pid : undefined;
}

export function kill(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Poll `condition` every `intervalMs` until it holds (true) or `timeoutMs` has passed (false). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return true;
}

/** Whatever pid a pidfile names when the test ends is killed, so no daemon outlives its test. */
export function killAtEnd(t: ExecutionContext, pidfile: string): void {
  t.teardown(async () => {
    const pid = pidFromFile(pidfile);
    if (pid !== undefined && isAlive(pid)) {
      kill(pid, 'SIGCONT');
      kill(pid, 'SIGKILL');
      await waitFor(() => !isAlive(pid), 5000);
    }
  });
}

/** A live process that is not ours to kill: `sleep`, ended at teardown. */
export function stranger(t: ExecutionContext): number {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.teardown(() => kill(child.pid));
  return child.pid!;
}

/** The pid of a process that has exited (and been reaped). */
export async function deadPid(): Promise<number> {
  const child = spawn('true', [], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

export function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((word, i, all) => word !== '' || i < all.length - 1);
}

/** A program the test needs; in CI its absence is a failure, never a skip. */
export function requireProgram(t: ExecutionContext, path: string): void {
  if (!existsSync(path)) t.fail(`${path} is not installed: run build/setup-debian.sh`);
}

/** The live children of a process (its workers). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number).filter(isAlive);
  } catch {
    return [];
  }
}

const MARKER = 'OCF_OPENSTACK_RESOURCE';

/** The resource marker in a process's environment, as the agent set it at launch. */
export function markerOf(pid: number): string | undefined {
  try {
    const entry = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((item) => item.startsWith(`${MARKER}=`));
    return entry?.slice(MARKER.length + 1);
  } catch {
    return undefined;
  }
}

/** Every live process carrying a resource's marker: what a resource has running, pidfile or not. */
export function markedProcesses(marker: string): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => isAlive(pid) && markerOf(pid) === marker);
}

/** Whatever carries the marker when the test ends is killed: for daemons no pidfile names. */
export function killMarkedAtEnd(t: ExecutionContext, marker: string): void {
  t.teardown(async () => {
    for (const pid of markedProcesses(marker)) kill(pid, 'SIGKILL');
    await waitFor(() => markedProcesses(marker).length === 0, 5000);
  });
}

/** A local user's uid, from /etc/passwd; throws when there is no such user. */
export function uidOf(user: string): number {
  return Number(passwdEntry(user)[2]);
}

/** A local user's primary gid, from /etc/passwd; throws when there is no such user. */
export function gidOf(user: string): number {
  return Number(passwdEntry(user)[3]);
}

function passwdEntry(user: string): string[] {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith(`${user}:`));
  if (!line) throw new Error(`user ${user} does not exist`);
  return line.split(':');
}

/** A process's start time (/proc/PID/stat field 22, clock ticks since boot), as a pidfile's launch record writes it. */
export function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** This boot's id (/proc/sys/kernel/random/boot_id), as a pidfile's launch record writes it. */
export function bootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}
