import test from 'ava';
import { readEnvironment } from '../../shared/ocf/environment.ts';
import { OcfError, shownText } from '../../shared/ocf/outcome.ts';
import { boolean, checkParameters, choice, integer, readParameters, secretValues, string, time } from '../../shared/ocf/parameters.ts';

const specs = {
  name: string({ shortdesc: 's', longdesc: 'l', default: 'fallback' }),
  computed: string({ shortdesc: 's', longdesc: 'l', default: (env) => `${env.rscTmp}/x-${env.instance}.pid` }),
  port: integer({ shortdesc: 's', longdesc: 'l', default: 11211, min: 1, max: 65535 }),
  flag: boolean({ shortdesc: 's', longdesc: 'l', default: false }),
  wait: time({ shortdesc: 's', longdesc: 'l', default: '30s' }),
  mode: choice(['a', 'b'], { shortdesc: 's', longdesc: 'l', default: 'a' }),
  needed: string({ shortdesc: 's', longdesc: 'l', required: true }),
  password: string({ shortdesc: 's', longdesc: 'l', secret: true }),
};

function read(vars: Record<string, string>) {
  const env = readEnvironment('x', 'start', { OCF_RESOURCE_INSTANCE: 'r1', HA_RSCTMP: '/run/t', ...vars });
  return { env, params: readParameters(specs, env) };
}

function configurationError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof OcfError && error.outcome.code === 6) return shownText(error.outcome.reason ?? '', (text) => text); // as the exit point shows it
    throw error;
  }
  throw new Error('expected OCF_ERR_CONFIGURED');
}

test('defaults apply when a parameter is unset or empty, computed defaults see the environment', (t) => {
  const { params } = read({ OCF_RESKEY_name: '', OCF_RESKEY_needed: 'x' });
  t.is(params.name, 'fallback');
  t.is(params.computed, '/run/t/x-r1.pid');
  t.is(params.port, 11211);
  t.is(params.flag, false);
  t.is(params.wait, 30_000);
  t.is(params.mode, 'a');
  t.is(params.password, '');
});

test('values are typed', (t) => {
  const { params } = read({ OCF_RESKEY_port: '5000', OCF_RESKEY_flag: 'yes', OCF_RESKEY_wait: '2min', OCF_RESKEY_mode: 'b', OCF_RESKEY_needed: 'x' });
  t.is(params.port, 5000);
  t.is(params.flag, true);
  t.is(params.wait, 120_000);
  t.is(params.mode, 'b');
});

test('malformed values are configuration errors naming the parameter', (t) => {
  t.is(configurationError(() => read({ OCF_RESKEY_port: '50x' }).params.port), 'parameter port: "50x" is not an integer');
  t.is(configurationError(() => read({ OCF_RESKEY_port: '70000' }).params.port), 'parameter port: 70000 is out of range 1-65535');
  t.regex(configurationError(() => read({ OCF_RESKEY_flag: 'maybe' }).params.flag), /parameter flag: "maybe" is not a boolean/);
  t.regex(configurationError(() => read({ OCF_RESKEY_wait: 'soon' }).params.wait), /parameter wait: "soon" is not a duration/);
  t.is(configurationError(() => read({ OCF_RESKEY_mode: 'c' }).params.mode), 'parameter mode: "c" is not one of a, b');
  t.is(configurationError(() => read({}).params.needed), 'parameter needed: is required but not set');
});

test('values are read lazily: an unrelated bad value does not break a reader that never touches it', (t) => {
  const { params } = read({ OCF_RESKEY_port: 'bad', OCF_RESKEY_needed: 'x' });
  t.is(params.name, 'fallback');
  t.throws(() => checkParameters(specs, params), { instanceOf: OcfError });
});

test('secret values are collected for redaction', (t) => {
  const { env } = read({ OCF_RESKEY_password: 's3cr3t', OCF_RESKEY_name: 'visible' });
  t.deepEqual(secretValues(specs, env), ['s3cr3t']);
});

test('probe and clone follow ocf_is_probe and ocf_is_clone', (t) => {
  t.true(readEnvironment('x', 'monitor', {}).isProbe, 'an absent interval counts as 0');
  t.true(readEnvironment('x', 'monitor', { OCF_RESKEY_CRM_meta_interval: '0' }).isProbe);
  t.false(readEnvironment('x', 'monitor', { OCF_RESKEY_CRM_meta_interval: '10000' }).isProbe);
  t.false(readEnvironment('x', 'start', { OCF_RESKEY_CRM_meta_interval: '0' }).isProbe);
  t.false(readEnvironment('x', 'start', {}).isClone);
  const clone = readEnvironment('x', 'start', { OCF_RESKEY_CRM_meta_clone_max: '3' });
  t.true(clone.isClone);
  t.is(clone.cloneMax, 3);
  t.is(readEnvironment('x', 'start', { OCF_RESKEY_CRM_meta_timeout: '20000' }).timeoutMs, 20_000);
});
