// The seed's controller layout on three controllers, as an operator writes it with crmsh, in the
// two colocation variants the seed's crmsh and pcs lines disagree on. docs/pacemaker.md shows
// these same commands; test/e2e/three-nodes.test.ts checks that it does.
import { NETWORK_ADDRESS, NODES, VIP } from '../helpers/three-nodes.ts';

export const VARIANTS = ['vip-follows-haproxy', 'haproxy-follows-vip'] as const;
export type Variant = typeof VARIANTS[number];
/** The variant docs/pacemaker.md recommends, from the measured figures. */
export const RECOMMENDED: Variant = 'vip-follows-haproxy';

export const FRONTEND_PORT = 5000;
export const KEYSTONE_PORT = 5001;
export const REDIS_PORT = 6379;
export const PARTITIONING_PREFIX = 'three';
/** Corosync's totem token timeout (ms) and consensus (ms): a failed node is declared gone after token + consensus. */
export const TOTEM = { token: 2000, consensus: 2400 } as const;

export interface ThreeLayoutFiles {
  readonly haproxyConfig: string;
  readonly haproxySocket: string;
  readonly keystoneConfig: string;
  readonly passwordFile: string;
  readonly ceilometerConfig: string;
  readonly fenceMap: string;
}

/**
 * HAProxy on every node, bound to the VIP (ip_nonlocal_bind where the VIP is not local). A
 * connection refused by a dead Keystone is retried (`retries 3`, each after min(timeout connect,
 * 1 s)) and the last retry goes to another server (`option redispatch`): a short `timeout
 * connect` keeps that under the client's patience; the health check takes a dead server out
 * after 2 failures 1 s apart.
 */
export function haproxyConfig(socket: string): string {
  return `global
    stats socket ${socket} mode 600 level admin
    maxconn 4000

defaults
    mode http
    timeout connect 300ms
    timeout client 1m
    timeout server 1m
    timeout check 1s
    retries 3
    option redispatch

listen keystone_public_internal_cluster
    bind ${VIP}:${FRONTEND_PORT}
    balance source
    option httpchk GET /v3
${NODES.map((node, i) => `    server controller${i + 1} ${node.address}:${KEYSTONE_PORT} check inter 1000 rise 2 fall 2\n`).join('')}`;
}

/** ceilometer.conf for the central agent: Redis outside the cluster, no message bus, nothing to poll. */
export function ceilometerConfig(pollingYaml: string): string {
  return `[coordination]
backend_url = redis://${NETWORK_ADDRESS}:${REDIS_PORT}

[polling]
partitioning_group_prefix = ${PARTITIONING_PREFIX}
cfg_file = ${pollingYaml}
`;
}

/**
 * Cluster options: fencing on, no quorum means stop, fencing bounded, the fence device; resources
 * stay where they run when a node comes back (stickiness), so a rejoin moves nothing.
 */
export function clusterCommands(files: ThreeLayoutFiles): string[][] {
  return [
    ['property', 'stonith-enabled=true', 'no-quorum-policy=stop', 'stonith-timeout=30s', 'cluster-recheck-interval=1min'],
    ['rsc_defaults', 'resource-stickiness=100'],
    ['primitive', 'fence', 'stonith:fence_ocftest', 'params', `map=${files.fenceMap}`, `pcmk_host_list=${NODES.map((n) => n.name).join(',')}`,
      'op', 'monitor', 'interval=60s'],
  ];
}

/** Each entry is one `crm configure ...` command line, split into words. */
export function crmCommands(files: ThreeLayoutFiles, variant: Variant): string[][] {
  const colocation = variant === 'vip-follows-haproxy'
    // The VIP depends on HAProxy, so it starts after it. The seed's crmsh order (vip first, then
    // haproxy-clone) restarts every HAProxy instance whenever the VIP moves: measured, see docs/pacemaker.md.
    ? [['colocation', 'vip-with-haproxy', 'inf:', 'vip', 'haproxy-clone'], ['order', 'vip-after-haproxy', 'Mandatory:', 'haproxy-clone', 'vip']]
    : [['colocation', 'haproxy-with-vip', 'inf:', 'haproxy-clone', 'vip'], ['order', 'haproxy-after-vip', 'Optional:', 'vip', 'haproxy-clone']];
  return [
    ['primitive', 'vip', 'ocf:heartbeat:IPaddr2', 'params', `ip=${VIP}`, 'cidr_netmask=24', 'nic=eth0', 'op', 'monitor', 'interval=2s'],
    ['primitive', 'haproxy', 'ocf:openstack:haproxy', 'params', `config=${files.haproxyConfig}`, `stats_socket=${files.haproxySocket}`,
      'op', 'monitor', 'interval=1s', 'timeout=20s'],
    ['clone', 'haproxy-clone', 'haproxy'],
    ...colocation,
    ['primitive', 'p_memcached', 'ocf:openstack:memcached', 'params', 'listen=127.0.0.1', 'op', 'monitor', 'interval=10s', 'timeout=20s'],
    ['clone', 'cl_memcached', 'p_memcached', 'meta', 'interleave=true'],
    ['primitive', 'p_keystone', 'ocf:openstack:keystone', 'params', `config=${files.keystoneConfig}`, 'listen=0.0.0.0', `port=${KEYSTONE_PORT}`, 'processes=1',
      'os_username=admin', 'os_tenant_name=admin', `os_password_file=${files.passwordFile}`, `os_auth_url=http://${VIP}:${FRONTEND_PORT}/v3`,
      'op', 'start', 'timeout=90s', 'op', 'monitor', 'interval=10s', 'timeout=30s'],
    ['clone', 'cl_keystone', 'p_keystone', 'meta', 'interleave=true'],
    ['primitive', 'p_ceilometer', 'ocf:openstack:ceilometer', 'params', `config=${files.ceilometerConfig}`,
      'op', 'monitor', 'interval=10s', 'timeout=30s'],
    ['clone', 'cl_ceilometer', 'p_ceilometer', 'meta', 'interleave=true'],
  ];
}
