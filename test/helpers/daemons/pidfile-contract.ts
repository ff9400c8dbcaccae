// The contracts every daemon agent keeps about its pidfile: a dead pid and a stranger's pid both
// mean "not running"; stop removes a stale pidfile, and never signals the stranger nor removes the
// pidfile naming it (start refuses it); a daemon killed with SIGKILL is not running (7, or 1 while
// workers it left live, with the pid in the reason) and Pacemaker's stop and start recover it; a
// daemon whose pidfile is gone is still found by its resource marker, by monitor and by stop.
import type { ExecutionContext } from 'ava';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import type { AgentCall } from '../agent.ts';
import { deadPid, isAlive, kill, markedProcesses, markerOf, pidFromFile, stranger, waitFor } from '../processes.ts';

const OCF_SUCCESS = 0;
const OCF_ERR_GENERIC = 1;
const OCF_NOT_RUNNING = 7;

export async function checkPidfileContract(
  t: ExecutionContext,
  call: (action: string) => Promise<AgentCall>,
  pidfile: string,
  daemonName: string,
): Promise<void> {
  writeFileSync(pidfile, `${await deadPid()}\n`);
  const staleMonitor = await call('monitor');
  t.is(staleMonitor.code, OCF_NOT_RUNNING, 'a dead pid is not running');
  t.regex(staleMonitor.reason ?? '', /is not running/);
  t.is((await call('stop')).code, OCF_SUCCESS, 'stop with a stale pidfile');
  t.false(existsSync(pidfile), 'stop removed the stale pidfile');

  const pid = stranger(t);
  writeFileSync(pidfile, `${pid}\n`);
  const foreignMonitor = await call('monitor');
  t.is(foreignMonitor.code, OCF_NOT_RUNNING, "a stranger's pid is not running");
  t.regex(foreignMonitor.reason ?? '', new RegExp(`not this resource's ${daemonName}`));
  t.is((await call('stop')).code, OCF_SUCCESS, "stop with a stranger's pid");
  t.true(isAlive(pid), 'the stranger was not signalled');
  t.is(pidFromFile(pidfile), pid, "stop left the pidfile naming a live process that is not ours");
  const start = await call('start');
  t.is(start.code, OCF_ERR_GENERIC, 'start refuses a pidfile naming a live stranger');
  t.true(start.reason?.startsWith(`remove ${pidfile} if it is stale: pid ${pid} in it is a live process`), start.reason);
  t.regex(start.reason ?? '', new RegExp(`not this resource's ${daemonName}$`));
  t.true(isAlive(pid), 'the stranger was not signalled by start');
  t.is(pidFromFile(pidfile), pid);
  rmSync(pidfile);
}

export interface KillHooks {
  /** Look at the daemon before it dies (its workers). */
  readonly beforeKill?: (pid: number) => void;
  /** Check what an agent adds once monitor has seen the death (its workers went too). */
  readonly afterKill?: (pid: number) => Promise<void>;
}

/**
 * kill -9 of the daemon, then what Pacemaker does: monitor (7), stop, start, monitor. Returns the
 * new daemon's pid, already stopped.
 */
export async function checkKillRecovery(
  t: ExecutionContext,
  call: (action: string) => Promise<AgentCall>,
  pidfile: string,
  hooks: KillHooks = {},
): Promise<number> {
  const start = await call('start');
  t.is(start.code, OCF_SUCCESS, start.stderr);
  const pid = pidFromFile(pidfile)!;
  t.true(isAlive(pid));
  const marker = markerOf(pid);
  t.truthy(marker, 'the daemon carries its resource marker');
  hooks.beforeKill?.(pid);
  kill(pid, 'SIGKILL');
  t.true(await waitFor(() => !isAlive(pid), 5000), 'the daemon died');
  const monitor = await call('monitor');
  // Not running, or a failure while workers the dead master left still live (Pacemaker stops them).
  if (monitor.code === OCF_ERR_GENERIC) t.regex(monitor.reason ?? '', new RegExp(`pid ${pid}.*not running, but processes it left are`));
  else t.is(monitor.code, OCF_NOT_RUNNING);
  t.regex(monitor.reason ?? '', new RegExp(`pid ${pid}.*not running`));
  await hooks.afterKill?.(pid);
  t.is((await call('stop')).code, OCF_SUCCESS, 'stop after the kill');
  const restart = await call('start');
  t.is(restart.code, OCF_SUCCESS, restart.stderr);
  t.is((await call('monitor')).code, OCF_SUCCESS);
  const restarted = pidFromFile(pidfile)!;
  t.not(restarted, pid);
  // The pidfile lost (an operator, a cleared directory): the daemon is found by its marker.
  rmSync(pidfile);
  const found = await call('monitor');
  t.is(found.code, OCF_SUCCESS, `monitor finds the daemon without its pidfile: ${found.stderr}`);
  t.is(pidFromFile(pidfile), restarted, 'and writes its pidfile again');
  rmSync(pidfile);
  t.is((await call('stop')).code, OCF_SUCCESS);
  t.false(isAlive(restarted), 'stop without a pidfile stopped the daemon');
  t.deepEqual(markedProcesses(marker!), [], 'nothing carrying the marker is left');
  t.false(existsSync(pidfile), 'stop removed the pidfile');
  t.is((await call('monitor')).code, OCF_NOT_RUNNING);
  return restarted;
}
