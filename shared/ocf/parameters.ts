// Parameters are declared once; typed values, defaults, validation and meta-data derive from that.
import { urlPasswords } from './credentials.ts';
import type { OcfEnvironment } from './environment.ts';
import { OCF } from './exit-codes.ts';
import { fail, quoted } from './outcome.ts';
import { parseDuration } from './deadline.ts';

export type ParameterType = 'string' | 'integer' | 'boolean' | 'time';

type Default<T> = T | ((env: OcfEnvironment) => T);

interface Description {
  readonly shortdesc: string;
  readonly longdesc: string;
  readonly required?: boolean;
  readonly unique?: boolean;
  /** Never logged, never shown in a reason: the logger blanks its value out. */
  readonly secret?: boolean;
}

export interface ParameterSpec<T> extends Description {
  readonly type: ParameterType;
  /** A function default is computed at run time and left out of meta-data (the longdesc tells it). */
  readonly default?: Default<T>;
  readonly choices?: readonly string[];
  /** How meta-data shows the default, when not as the value itself (a duration's "30s"). */
  readonly shownDefault?: string;
  readonly parse: (raw: string, name: string) => T;
  /** The value of an optional parameter without default. */
  readonly unset: T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ParameterSpecs = Readonly<Record<string, ParameterSpec<any>>>;

export type ParameterValues<P extends ParameterSpecs> = {
  readonly [K in keyof P]: P[K] extends ParameterSpec<infer T> ? T : never;
};

function configured(name: string, problem: string): never {
  fail(OCF.ERR_CONFIGURED, `parameter ${name}: ${problem}`);
}

export function string(spec: Description & { default?: Default<string> }): ParameterSpec<string> {
  return { ...spec, type: 'string', parse: (raw) => raw, unset: '' };
}

/** A string restricted to a few values; the allowed values are listed in meta-data. */
export function choice<const C extends readonly string[]>(
  choices: C,
  spec: Description & { default: Default<C[number]> },
): ParameterSpec<C[number]> {
  return {
    ...spec,
    type: 'string',
    choices,
    parse: (raw, name) =>
      choices.includes(raw) ? raw : configured(name, `${quoted(raw)} is not one of ${choices.join(', ')}`),
    unset: spec.default as C[number],
  };
}

export function integer(
  spec: Description & { default?: Default<number>; min?: number; max?: number },
): ParameterSpec<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = spec;
  return {
    ...spec,
    type: 'integer',
    parse: (raw, name) => {
      if (!/^[+-]?\d+$/.test(raw.trim())) configured(name, `${quoted(raw)} is not an integer`);
      const value = Number.parseInt(raw, 10);
      if (value < min || value > max) configured(name, `${value} is out of range ${min}-${max}`);
      return value;
    },
    unset: Number.NaN,
  };
}

const TRUE = new Set(['yes', 'true', '1', 'on', 'ja', 'y']);
const FALSE = new Set(['no', 'false', '0', 'off', 'nein', 'n']);

export function boolean(spec: Description & { default: Default<boolean> }): ParameterSpec<boolean> {
  return {
    ...spec,
    type: 'boolean',
    parse: (raw, name) => {
      const word = raw.trim().toLowerCase();
      if (TRUE.has(word)) return true;
      if (FALSE.has(word)) return false;
      return configured(name, `${quoted(raw)} is not a boolean (use true or false)`);
    },
    unset: false,
  };
}

/** A duration like "30s" or "2min", read as milliseconds. */
export function time(spec: Description & { default: string }): ParameterSpec<number> {
  const parse = (raw: string, name: string) => parseDuration(raw) ?? configured(name, `${quoted(raw)} is not a duration`);
  return { ...spec, type: 'time', default: parse(spec.default, 'default'), shownDefault: spec.default, parse, unset: 0 };
}

export function rawValue(env: OcfEnvironment, name: string): string | undefined {
  const value = env.variables[`OCF_RESKEY_${name}`];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The typed parameters of one call. Each value is read and checked when first used, so that
 * stop, which needs only the pidfile, still works when an unrelated parameter is malformed.
 */
export function readParameters<P extends ParameterSpecs>(specs: P, env: OcfEnvironment): ParameterValues<P> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    let cached: { value: unknown } | undefined;
    Object.defineProperty(values, name, {
      enumerable: true,
      get() {
        cached ??= { value: valueOf(name, spec, env) };
        return cached.value;
      },
    });
  }
  return values as ParameterValues<P>;
}

function valueOf<T>(name: string, spec: ParameterSpec<T>, env: OcfEnvironment): T {
  const raw = rawValue(env, name);
  if (raw !== undefined) return spec.parse(raw, name);
  if (spec.required) configured(name, 'is required but not set');
  if (spec.default === undefined) return spec.unset;
  return typeof spec.default === 'function' ? (spec.default as (env: OcfEnvironment) => T)(env) : spec.default;
}

/** Read every parameter once: the first malformed one becomes OCF_ERR_CONFIGURED. */
export function checkParameters<P extends ParameterSpecs>(specs: P, values: ParameterValues<P>): void {
  for (const name of Object.keys(specs)) void values[name];
}

/**
 * What the logger must blank out of every line: the values of secret parameters as given, and the
 * passwords in any parameter that holds a URL (user:password@host).
 */
export function secretValues(specs: ParameterSpecs, env: OcfEnvironment): string[] {
  return Object.entries(specs).flatMap(([name, spec]) => {
    const value = rawValue(env, name);
    if (value === undefined) return [];
    return spec.secret ? [value, ...urlPasswords(value)] : urlPasswords(value);
  });
}
