import { OCF, type OcfCode } from './exit-codes.ts';

/** What an action ended with: an OCF code and, for failures, the reason shown by crm_mon. */
export interface Outcome {
  readonly code: OcfCode;
  readonly reason?: string;
}

export const success: Outcome = { code: OCF.SUCCESS };

export function notRunning(reason?: string): Outcome {
  return reason === undefined ? { code: OCF.NOT_RUNNING } : { code: OCF.NOT_RUNNING, reason };
}

/** Running, but something every node shares is failing (OCF_DEGRADED): shown, never recovered. */
export function degraded(reason: string): Outcome {
  return { code: OCF.DEGRADED, reason };
}

export function failure(code: OcfCode, reason: string): Outcome {
  return { code, reason };
}

/**
 * An outcome carried up from a helper deep in an action (a bad parameter, a missing binary).
 * The runner turns it back into an outcome; nothing else catches it.
 */
export class OcfError extends Error {
  readonly outcome: Outcome;

  constructor(code: OcfCode, reason: string) {
    super(reason);
    this.name = 'OcfError';
    this.outcome = { code, reason };
  }
}

/** Longest part of a value a reason quotes: Pacemaker shows only the start of a reason. */
const QUOTED_MAX = 40;

/**
 * A value as a reason quotes it: in double quotes, and shortened when long (a 100 kB parameter
 * would otherwise make a 100 kB reason and log line, of which crm_mon shows the first part).
 */
export function quoted(value: string): string {
  const characters = [...value];
  if (characters.length <= QUOTED_MAX) return `"${value}"`;
  return `"${characters.slice(0, QUOTED_MAX).join('')}..." (${characters.length} characters)`;
}

export function fail(code: OcfCode, reason: string): never {
  throw new OcfError(code, reason);
}
