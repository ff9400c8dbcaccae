// The seed's controller layout as an operator writes it with crmsh: a VIP, HAProxy cloned and
// colocated with and ordered after it, balancing to Keystone (cloned), memcached, and the
// ceilometer central agent cloned with Redis coordination. docs/pacemaker.md shows these same
// commands; test/e2e/pacemaker.test.ts checks that it does.

export const VIP = '127.0.0.200';
export const KEYSTONE_PORT = 5001;
export const FRONTEND_PORT = 5000;

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

/** Each entry is one `crm configure ...` command line, split into words. */
export function crmCommands(files: LayoutFiles): string[][] {
  return [
    ['primitive', 'vip', 'ocf:heartbeat:IPaddr2', 'params', `ip=${VIP}`, 'cidr_netmask=32', 'nic=lo', 'op', 'monitor', 'interval=2s'],
    ['primitive', 'p_haproxy', 'ocf:openstack:haproxy', 'params', `config=${files.haproxyConfig}`, `stats_socket=${files.haproxySocket}`,
      'op', 'monitor', 'interval=2s', 'timeout=20s'],
    ['clone', 'cl_haproxy', 'p_haproxy'],
    ['colocation', 'haproxy-with-vip', 'inf:', 'cl_haproxy', 'vip'],
    ['order', 'vip-before-haproxy', 'Mandatory:', 'vip', 'cl_haproxy'],
    ['primitive', 'p_memcached', 'ocf:openstack:memcached', 'params', 'listen=127.0.0.1', 'op', 'monitor', 'interval=2s', 'timeout=20s'],
    ['primitive', 'p_keystone', 'ocf:openstack:keystone', 'params', `config=${files.keystoneConfig}`, 'listen=127.0.0.1', `port=${KEYSTONE_PORT}`,
      'os_username=admin', 'os_tenant_name=admin', `os_password_file=${files.passwordFile}`, `os_auth_url=http://127.0.0.1:${KEYSTONE_PORT}/v2.0/`,
      'op', 'start', 'timeout=90s', 'op', 'monitor', 'interval=5s', 'timeout=30s'],
    ['clone', 'cl_keystone', 'p_keystone', 'meta', 'interleave=true'],
    ['primitive', 'p_ceilometer', 'ocf:openstack:ceilometer', 'params', `config=${files.ceilometerConfig}`,
      'op', 'monitor', 'interval=5s', 'timeout=30s'],
    ['clone', 'cl_ceilometer', 'p_ceilometer', 'meta', 'interleave=true'],
  ];
}
