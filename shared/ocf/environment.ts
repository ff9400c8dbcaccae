// The OCF environment of one call, read once (ocf-shellfuncs and ocf-directories semantics).

export type Env = Readonly<Record<string, string | undefined>>;

export interface LogSettings {
  /** syslog facility for `logger -p FACILITY.LEVEL`; undefined when unset or "none". */
  readonly facility: string | undefined;
  readonly file: string | undefined;
  readonly debugFile: string | undefined;
  readonly debug: boolean;
  readonly dateFormat: string;
  readonly tag: string;
}

export interface OcfEnvironment {
  readonly agent: string;
  readonly action: string;
  readonly instance: string;
  /** OCF_RESKEY_CRM_meta_interval in ms; ocf-shellfuncs treats an absent interval as 0. */
  readonly intervalMs: number;
  /** A probe is a monitor with interval 0 (ocf_is_probe). */
  readonly isProbe: boolean;
  /** OCF_RESKEY_CRM_meta_timeout in ms, when Pacemaker (or ocf-tester) gave one. */
  readonly timeoutMs: number | undefined;
  /** OCF_RESKEY_CRM_meta_clone_max, when the resource is a clone. */
  readonly cloneMax: number | undefined;
  /** ocf_is_clone: the clone-max meta attribute is present. */
  readonly isClone: boolean;
  /** OCF_CHECK_LEVEL as the operation gave it (trimmed; undefined when unset or empty): shared/ocf/depth.ts reads it. */
  readonly checkLevel: string | undefined;
  /** ocf-tester asks agents to behave as if their binaries were missing. */
  readonly failHaveBinary: boolean;
  /** HA_RSCTMP: where resource state (default pidfiles) lives; cleared at boot. */
  readonly rscTmp: string;
  readonly exitReasonPrefix: string;
  readonly log: LogSettings;
  /** The raw variables, for the parameter reader only. */
  readonly variables: Env;
}

function integerOrUndefined(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number.parseInt(value, 10);
}

export function readEnvironment(agent: string, action: string, env: Env): OcfEnvironment {
  const instance = env.OCF_RESOURCE_INSTANCE || (action === 'meta-data' ? 'RESOURCE_ID' : 'default');
  const intervalMs = integerOrUndefined(env.OCF_RESKEY_CRM_meta_interval) ?? 0;
  const cloneMaxRaw = env.OCF_RESKEY_CRM_meta_clone_max;
  const facility = env.HA_LOGFACILITY && env.HA_LOGFACILITY !== 'none' ? env.HA_LOGFACILITY : undefined;
  return {
    agent,
    action,
    instance,
    intervalMs,
    isProbe: action === 'monitor' && intervalMs === 0,
    timeoutMs: integerOrUndefined(env.OCF_RESKEY_CRM_meta_timeout),
    cloneMax: integerOrUndefined(cloneMaxRaw),
    isClone: cloneMaxRaw !== undefined && cloneMaxRaw !== '',
    checkLevel: env.OCF_CHECK_LEVEL?.trim() || undefined,
    failHaveBinary: env.OCF_TESTER_FAIL_HAVE_BINARY === '1',
    rscTmp: env.HA_RSCTMP || '/run/resource-agents',
    exitReasonPrefix: env.OCF_EXIT_REASON_PREFIX || 'ocf-exit-reason:',
    log: {
      facility,
      file: env.HA_LOGFILE || undefined,
      debugFile: env.HA_DEBUGLOG || undefined,
      debug: env.HA_debug !== undefined && env.HA_debug !== '' && env.HA_debug !== '0',
      dateFormat: env.HA_DATEFMT || '%b %d %T ',
      tag: env.HA_LOGTAG || `${agent}(${instance})[${process.pid}]`,
    },
    variables: env,
  };
}
