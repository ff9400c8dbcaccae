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

export function fail(code: OcfCode, reason: string): never {
  throw new OcfError(code, reason);
}
