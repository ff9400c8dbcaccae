// The seed's controller layout as an operator writes it with crmsh or pcs: a VIP, HAProxy cloned and
// colocated with and ordered after it, balancing to Keystone (cloned), memcached, and the
// ceilometer central agent cloned with Redis coordination. docs/pacemaker.md shows these same
// commands; test/e2e/pacemaker.test.ts checks that it does.
import { crmLines, pcsLines, primitivesOf, type LayoutPrimitive, type LayoutStep } from './layout-steps.ts';

export const VIP = '127.0.0.200';
export const KEYSTONE_PORT = 5001;
export const FRONTEND_PORT = 5000;
/** The interval of Keystone's token monitor (OCF_CHECK_LEVEL=20); its API monitor runs every 5 s. */
export const KEYSTONE_TOKEN_INTERVAL_S = 7;

export interface LayoutFiles {
  readonly haproxyConfig: string;
  readonly haproxySocket: string;
  readonly keystoneConfig: string;
  readonly passwordFile: string;
  readonly ceilometerConfig: string;
}

export const REDIS_PORT = 6379;
export const PARTITIONING_PREFIX = 'e2e';

/** ceilometer.conf for the central agent: Redis coordination, no message bus, nothing to poll. */
export function ceilometerConfig(pollingYaml: string): string {
  return `[coordination]
backend_url = redis://127.0.0.1:${REDIS_PORT}

[polling]
partitioning_group_prefix = ${PARTITIONING_PREFIX}
cfg_file = ${pollingYaml}
`;
}

export function haproxyConfig(socket: string): string {
  return `global
    stats socket ${socket} mode 600 level admin
    maxconn 4000

defaults
    mode http
    timeout connect 5s
    timeout client 1m
    timeout server 1m
    retries 3
    option redispatch

listen keystone_public_internal_cluster
    bind ${VIP}:${FRONTEND_PORT}
    balance source
    option httpchk GET /v3
    server controller1 127.0.0.1:${KEYSTONE_PORT} check inter 2000 rise 2 fall 5
`;
}

/** The layout once, as data; crmCommands and pcsCommands write it in each client's syntax. */
export function layout(files: LayoutFiles): LayoutStep[] {
  return [
    { kind: 'primitive', id: 'vip', agent: 'ocf:heartbeat:IPaddr2', params: [`ip=${VIP}`, 'cidr_netmask=32', 'nic=lo'], ops: [['monitor', 'interval=2s']] },
    { kind: 'primitive', id: 'p_haproxy', agent: 'ocf:openstack:haproxy', params: [`config=${files.haproxyConfig}`, `stats_socket=${files.haproxySocket}`],
      ops: [['monitor', 'interval=2s', 'timeout=20s']], clone: { id: 'cl_haproxy', meta: ['interleave=true'] } },
    { kind: 'colocation', id: 'haproxy-with-vip', rsc: 'cl_haproxy', withRsc: 'vip' },
    { kind: 'order', id: 'vip-before-haproxy', first: 'vip', then: 'cl_haproxy' },
    { kind: 'primitive', id: 'p_memcached', agent: 'ocf:openstack:memcached', params: ['listen=127.0.0.1'], ops: [['monitor', 'interval=2s', 'timeout=20s']] },
    { kind: 'primitive', id: 'p_keystone', agent: 'ocf:openstack:keystone', params: [`config=${files.keystoneConfig}`, 'listen=127.0.0.1', `port=${KEYSTONE_PORT}`,
      'os_username=admin', 'os_tenant_name=admin', `os_password_file=${files.passwordFile}`, `os_auth_url=http://127.0.0.1:${KEYSTONE_PORT}/v2.0/`, 'processes=1'],
      // Two depths: the API (level 10) often, a token (level 20, the database, the credentials) too.
      ops: [['start', 'timeout=90s'], ['monitor', 'interval=5s', 'timeout=20s', 'OCF_CHECK_LEVEL=10'], ['monitor', `interval=${KEYSTONE_TOKEN_INTERVAL_S}s`, 'timeout=30s', 'OCF_CHECK_LEVEL=20']],
      clone: { id: 'cl_keystone', meta: ['interleave=true'] } },
    // coordination_check=true: "auto" checks the group only for a clone of more than one instance,
    // and this one-node cluster's clone has one.
    { kind: 'primitive', id: 'p_ceilometer', agent: 'ocf:openstack:ceilometer', params: [`config=${files.ceilometerConfig}`, 'coordination_check=true'],
      ops: [['monitor', 'interval=5s', 'timeout=30s']], clone: { id: 'cl_ceilometer', meta: ['interleave=true'] } },
  ];
}

export function layoutPrimitives(files: LayoutFiles): LayoutPrimitive[] {
  return primitivesOf(layout(files));
}

/** Each entry is one `crm configure ...` command line, split into words. */
export function crmCommands(files: LayoutFiles): string[][] {
  return crmLines(layout(files));
}

/** Each entry is one `pcs ...` command line, split into words (see pcsLines). */
export function pcsCommands(files: LayoutFiles): string[][] {
  return pcsLines(layout(files));
}
