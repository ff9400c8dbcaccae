// What an agent needs installed on this node: its programs (have_binary / check_binary in
// ocf-shellfuncs) and its files.
import { accessSync, closeSync, constants, openSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { OcfEnvironment } from '../ocf/environment.ts';
import { OCF } from '../ocf/exit-codes.ts';
import { fail } from '../ocf/outcome.ts';

// Pacemaker's execd runs agents with a short PATH; daemons live in sbin as often as in bin.
const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The real path of a program given by name (searched in PATH) or by path; undefined if absent. */
export function findBinary(program: string, env: OcfEnvironment): string | undefined {
  if (program === '') return undefined;
  const candidates = program.includes('/')
    ? [program]
    : [...(env.variables.PATH ?? '').split(':').filter(Boolean), ...SYSTEM_PATH].map((dir) => join(dir, program));
  const found = candidates.find(isExecutableFile);
  return found === undefined ? undefined : realpathSync(found);
}

/**
 * check_binary: a missing program is OCF_ERR_INSTALLED, except in a probe, where it only means
 * the resource cannot be running here (7). ocf-tester's OCF_TESTER_FAIL_HAVE_BINARY pretends
 * every program is missing.
 */
export function requireBinary(program: string, env: OcfEnvironment, parameter = 'binary'): string {
  const found = env.failHaveBinary ? undefined : findBinary(program, env);
  if (found !== undefined) return found;
  if (env.isProbe) fail(OCF.NOT_RUNNING, `${program} is not installed here`);
  return fail(OCF.ERR_INSTALLED, `${program} (parameter ${parameter}) is not installed or not executable`);
}

function isReadable(path: string): boolean {
  try {
    closeSync(openSync(path, 'r'));
    return true;
  } catch {
    return false;
  }
}

/**
 * A file the node needs (a configuration): missing or unreadable is OCF_ERR_INSTALLED, except in a
 * probe, where it only means the resource cannot be running here (7), as for a binary.
 */
export function requireFile(path: string, env: OcfEnvironment, parameter: string): void {
  if (isReadable(path)) return;
  if (env.isProbe) fail(OCF.NOT_RUNNING, `${path} (parameter ${parameter}) does not exist here`);
  fail(OCF.ERR_INSTALLED, `${path} (parameter ${parameter}) does not exist or is not readable`);
}
