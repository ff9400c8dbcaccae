// Supplementary groups: a scratch group with a service user in it, and what a process holds.
import { readFileSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { runProgram } from '../agent.ts';

/** A new group with `user` as a member, deleted (with the membership) when the test ends; its gid. */
export async function scratchGroup(t: ExecutionContext, user: string): Promise<number> {
  const name = `ocft${process.pid}${Math.floor(Math.random() * 1e4)}`;
  const added = await runProgram('groupadd', [name]);
  if (added.code !== 0) throw new Error(`groupadd ${name}: ${added.output}`);
  t.teardown(async () => void (await runProgram('groupdel', [name])));
  const member = await runProgram('gpasswd', ['-a', user, name]);
  if (member.code !== 0) throw new Error(`gpasswd -a ${user} ${name}: ${member.output}`);
  return Number(readFileSync('/etc/group', 'utf8').split('\n').find((line) => line.startsWith(`${name}:`))!.split(':')[2]);
}

/** The supplementary groups of a process (/proc/PID/status "Groups:"). */
export function groupsOf(pid: number): number[] {
  const line = /^Groups:(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
  return line.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** The gids of the groups that list `user` as a member in /etc/group. */
export function memberGroups(user: string): number[] {
  return readFileSync('/etc/group', 'utf8').split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length >= 4 && fields[3]!.split(',').includes(user))
    .map((fields) => Number(fields[2]));
}
