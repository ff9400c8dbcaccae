// The OCF exit codes (OCF 1.1, section "Return codes") and their names.
export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
  RUNNING_PROMOTED: 8,
  FAILED_PROMOTED: 9,
  /**
   * Running properly, but in a condition that makes future failures more likely. Pacemaker records
   * it and shows it with its exit reason, and takes no recovery action: the answer to a fault every
   * node shares (a database, credentials, a coordination backend), which no restart can repair.
   */
  DEGRADED: 190,
} as const;

export type OcfCode = (typeof OCF)[keyof typeof OCF];

const names = new Map<number, string>(Object.entries(OCF).map(([name, code]) => [code, `OCF_${name}`]));

export function ocfCodeName(code: number): string {
  return names.get(code) ?? `unknown exit code ${code}`;
}
