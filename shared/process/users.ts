// Service users, resolved from the local account files (NSS through getent as a fallback).
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

function parseEntry(line: string | undefined): string[] | undefined {
  return line === undefined ? undefined : line.split(':');
}

function localEntry(file: string, name: string): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseEntry(text.split('\n').find((line) => line.startsWith(`${name}:`)));
}

async function getent(database: string, name: string): Promise<string[] | undefined> {
  const { runProgram } = await import('../ocf/exec.ts');
  const result = await runProgram('getent', [database, '--', name], { timeoutMs: 5000 });
  return result.exitCode === 0 ? parseEntry(result.stdout.split('\n')[0]) : undefined;
}

export async function lookupUser(name: string): Promise<Account | undefined> {
  if (name === '' || name.includes(':') || name.includes('\n')) return undefined;
  const fields = localEntry('/etc/passwd', name) ?? (await getent('passwd', name));
  if (!fields || fields.length < 6) return undefined;
  return { name, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]! };
}

export async function lookupGroupId(name: string): Promise<number | undefined> {
  if (name === '' || name.includes(':') || name.includes('\n')) return undefined;
  const fields = localEntry('/etc/group', name) ?? (await getent('group', name));
  return fields && fields.length >= 3 ? Number(fields[2]) : undefined;
}

/** The first of several distributions' names for a service user that exists here. */
export function firstExistingUser(names: readonly string[]): string {
  return names.find((name) => localEntry('/etc/passwd', name) !== undefined) ?? names[0]!;
}

/**
 * The uid of a user in the local account file, without NSS (synchronous, for stop and monitor,
 * which must not wait for a directory service); undefined when not found there.
 */
export function localUid(name: string): number | undefined {
  const fields = name === '' || name.includes(':') || name.includes('\n') ? undefined : localEntry('/etc/passwd', name);
  return fields && /^\d+$/.test(fields[2] ?? '') ? Number(fields[2]) : undefined;
}

/**
 * Whether `account` may reach `path`: every directory above it grants search (x) to the account as
 * its owner, its group (the primary group only) or anyone. A daemon that must stat a file (uwsgi's
 * touch options) cannot see it otherwise. Supplementary groups and ACLs are not counted, so the
 * answer can be wrong either way (a directory whose group the account is in only as a
 * supplementary group applies its group bits, not the others'): callers must survive a wrong
 * answer (Keystone's reload sends SIGHUP when uwsgi does not act on the file). false when a
 * directory cannot be read.
 */
export function canReach(path: string, account: Pick<Account, 'uid' | 'gid'>): boolean {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    let stat;
    try {
      stat = statSync(dir);
    } catch {
      return false;
    }
    const bits = stat.uid === account.uid ? 0o100 : stat.gid === account.gid ? 0o010 : 0o001;
    if (account.uid !== 0 && (stat.mode & bits) === 0) return false;
    if (dir === dirname(dir)) return true;
  }
}
