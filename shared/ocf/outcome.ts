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

// A quoted value travels whole, between these two private-use characters, up to where text is
// shown (the exit point, the logger): there secrets are blanked first and the value is cut after.
// Cutting first would leave most of a long password to survive its redaction.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const QUOTED_VALUE = /\uE000([^\uE000\uE001]*)\uE001/g;

/**
 * A value as a reason quotes it: in double quotes, and shortened when long (a 100 kB parameter
 * would otherwise make a 100 kB reason and log line, of which crm_mon shows the first part). The
 * cut is made by shownText, after redaction.
 */
export function quoted(value: string): string {
  return `${OPEN}${value.replace(/[\uE000\uE001]/g, '')}${CLOSE}`;
}

function cut(value: string): string {
  const characters = [...value];
  if (characters.length <= QUOTED_MAX) return `"${value}"`;
  return `"${characters.slice(0, QUOTED_MAX).join('')}..." (${characters.length} characters)`;
}

/** Text as it may be shown anywhere: secrets blanked by `redact` first, then every quoted value cut. */
export function shownText(text: string, redact: (text: string) => string): string {
  return redact(text).replace(QUOTED_VALUE, (_whole, value: string) => cut(value)).replace(/[\uE000\uE001]/g, '');
}

/**
 * The most an exit reason may take, in bytes: Pacemaker 3 no longer cuts reasons (they reach the
 * CIB, crm_mon and syslog), so the agent does, after redaction, keeping the start (every reason
 * says what failed first).
 */
export const REASON_MAX_BYTES = 256;

/** A reason bounded to REASON_MAX_BYTES of UTF-8, cut at a character, ending in "..." when cut. */
export function boundedReason(reason: string): string {
  if (Buffer.byteLength(reason) <= REASON_MAX_BYTES) return reason;
  let kept = '';
  let bytes = 0;
  for (const character of reason) {
    const size = Buffer.byteLength(character);
    if (bytes + size > REASON_MAX_BYTES - 3) break;
    kept += character;
    bytes += size;
  }
  return `${kept}...`;
}

export function fail(code: OcfCode, reason: string): never {
  throw new OcfError(code, reason);
}
