// The pidfile contract every daemon agent keeps: a dead pid and a stranger's pid both mean "not
// running"; stop removes the pidfile and never signals the stranger.
import type { ExecutionContext } from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import type { AgentCall } from './agent.ts';
import { deadPid, isAlive, stranger } from './processes.ts';

const OCF_SUCCESS = 0;
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
  t.false(existsSync(pidfile), "stop removed the stranger's pidfile");
}
