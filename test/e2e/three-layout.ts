// The seed's controller layout on three controllers, declared once and written as an operator
// types it with crmsh and with pcs, in the two colocation variants the seed's crmsh and pcs lines
// disagree on. docs/pacemaker.md shows these same commands; test/e2e/three-nodes.test.ts runs
// both clients' lines (pcs: the recommended variant) and checks that the doc shows them.
import { NETWORK_ADDRESS, NODES, VIP } from '../helpers/clusters/three-nodes.ts';
import { crmLines, pcsLines, primitivesOf, type LayoutPrimitive, type LayoutStep } from './layout-steps.ts';
import { POLLING_ROUND_S } from '../../agents/ceilometer.ts';

export const VARIANTS = ['vip-follows-haproxy', 'haproxy-follows-vip'] as const;
export type Variant = typeof VARIANTS[number];
/** The variant docs/pacemaker.md recommends, from the measured figures. */
export const RECOMMENDED: Variant = 'vip-follows-haproxy';

export const FRONTEND_PORT = 5000;
export const KEYSTONE_PORT = 5001;
export const REDIS_PORT = 6379;
/** RabbitMQ's AMQP port: the message bus ceilometer publishes to, outside the cluster like Redis. */
export const AMQP_PORT = 5672;
export const MEMCACHED_PORT = 11211;
/** The interface each node's memcached listens on (its own management address, from one clone definition). */
export const MEMCACHED_INTERFACE = 'eth0';
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
 * connection refused by a dead Keystone is retried at once on another server: `option redispatch 1`
 * redispatches every retry, and `hash-type consistent` is what lets a redispatch of `balance
 * source` avoid the server that failed (backend.c's get_server_sh hands the server to avoid only to
 * the consistent-hash lookup; the map-based hash, the default, picks the same one again: 39 answers
 * 503 of 680 on 2.6; with the redispatch on the last of 3 retries only, each retry after a
 * turn-around of min(timeout connect, 1 s), 2 of 276 requests outlasted the client's 1 s on 3.0).
 * The health check takes a dead server out after 2 failures 1 s apart. A request the killed server
 * had accepted and never answered (a 502 from HAProxy 3.0, 1 of 538 on Debian 13) is retried too
 * (`retry-on empty-response`), but only a GET or HEAD: a POST may have been carried out already.
 * A frozen Keystone (SIGSTOP: the kernel still accepts connections into its backlog, nothing
 * answers) is found by the version document, the request every client's discovery and the health
 * check make, which touches neither the database nor the cache: answered in milliseconds, it gets
 * 500 ms, then goes to another server (`response-timeout`), and the timeout counts as an error of
 * the server (`observe layer7`): its checks come every 250 ms (`fastinter`) and two failed ones
 * take it out, as before; each request meanwhile costs 500 ms more, not a failure. `sudden-death`
 * (one failed check after an error) measured the same for a frozen server but would take every
 * server out when all are slow after an error (a lost cache server holding each Keystone's one
 * worker). Measured on HAProxy 2.6 on loopback with three servers, one frozen, a 1 s client: 4
 * failed of 273 before, 0 of 331 and 0 of 342 with this. Other requests keep `timeout server`: a
 * slow list or a token validation waiting on a dead cache server is not cut short, and a POST is
 * never sent twice, so a token request sent to a frozen or reloading Keystone waits for it.
 */
export function haproxyConfig(socket: string, setting: HaproxySetting = 'recommended'): string {
  const quick = setting === 'recommended';
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
    option redispatch 1
    retry-on conn-failure empty-response${quick ? ' response-timeout' : ''}

listen keystone_public_internal_cluster
    bind ${VIP}:${FRONTEND_PORT}
    balance source
    hash-type consistent
    option httpchk GET /v3
    http-request disable-l7-retry if !METH_GET
${quick ? '    acl version_document path / /v3 /v3/\n    http-request set-timeout server 500ms if METH_GET version_document\n' : ''}\
${NODES.map((node, i) => `    server controller${i + 1} ${node.address}:${KEYSTONE_PORT} check inter 1000 ${quick ? 'fastinter 250 ' : ''}rise 2 fall 2${quick ? ' observe layer7 error-limit 1 on-error fastinter' : ''}\n`).join('')}`;
}

/**
 * The HAProxy settings `npm run bench:failover -- haproxy` compares: the recommended one above, and
 * the one before issue 21 (a frozen or reloading Keystone left to the health check alone: taken out
 * after two failed checks 1 s apart, each waiting its 1 s timeout).
 */
export const HAPROXY_SETTINGS = ['recommended', 'health-check-only'] as const;
export type HaproxySetting = typeof HAPROXY_SETTINGS[number];

/**
 * ceilometer.conf for the central agent: Redis and RabbitMQ outside the cluster, and one dynamic
 * pollster (bus-probe.yaml in `pollstersDir`) so that every agent publishes: oslo.messaging connects
 * to the bus only when there is something to send, and an agent that polls nothing never does.
 * `pollsters_definitions_dirs` goes in [DEFAULT]: ceilometer registers its polling options in
 * [DEFAULT] and [polling] alike but reads this one from [DEFAULT] (19 on Debian 12, 24 on Debian 13;
 * polling/manager.py), and ignores it in [polling].
 */
export function ceilometerConfig(pollingYaml: string, pollstersDir: string): string {
  return `[DEFAULT]
transport_url = rabbit://guest:guest@${NETWORK_ADDRESS}:${AMQP_PORT}/
pollsters_definitions_dirs = ${pollstersDir}

[coordination]
backend_url = redis://${NETWORK_ADDRESS}:${REDIS_PORT}

[polling]
partitioning_group_prefix = ${PARTITIONING_PREFIX}
cfg_file = ${pollingYaml}
`;
}

/** polling.yaml's interval (s) for the bus probe. */
export const BUS_PROBE_INTERVAL_S = 10;
/**
 * How long after its worker starts the ceilometer agent's bus check judges a missing connection
 * (ms): polling.yaml's shortest interval + POLLING_ROUND_S (agents/ceilometer.ts, firstPublishWithinS).
 */
export const BUS_CHECK_JUDGES_AFTER_MS = (BUS_PROBE_INTERVAL_S + POLLING_ROUND_S) * 1000;

/** The dynamic pollster's meter: one gauge from a host command, no OpenStack service asked. */
export const BUS_PROBE_METER = 'controller.bus_probe';

/** bus-probe.yaml: a host-command dynamic pollster (ceilometer's own kind of pollster for a node's facts). */
export const BUS_PROBE_POLLSTER = `---
- name: ${BUS_PROBE_METER}
  sample_type: gauge
  unit: probe
  value_attribute: value
  response_entries_key: items
  host_command: "echo '{\\"items\\": [{\\"id\\": \\"probe\\", \\"value\\": 1}]}'"
`;

/**
 * polling.yaml: the probe every BUS_PROBE_INTERVAL_S over 60 static resources. Tooz partitions
 * static resources among the group's live members by a hash ring: each of three members gets some
 * (were the ring's shares even, the chance that one gets none would be about 3 x (2/3)^60), so each
 * agent publishes, and holds its bus connection.
 */
export function busProbePolling(): string {
  const resources = Array.from({ length: 60 }, (_, i) => `probe-${String(i + 1).padStart(2, '0')}`);
  return `---
sources:
  - name: bus_probe
    interval: ${BUS_PROBE_INTERVAL_S}
    meters:
      - ${BUS_PROBE_METER}
    resources: [${resources.join(', ')}]
`;
}

/**
 * Keystone's oslo.cache settings measured by the token scenarios (test/e2e/tokens.ts), by name:
 * the `[cache]` options each one sets besides `enabled` and `memcache_servers`. Each release's
 * Debian packages ship all three backends (python3-memcache, python3-pymemcache).
 */
export const CACHE_SETTINGS = {
  // What docs/keystone.md recommends, from the figures of `npm run bench:failover`: the pooled
  // client shares a dead server among its connections; a dead server is left alone 30 s.
  recommended: ['backend = oslo_cache.memcache_pool', 'memcache_socket_timeout = 0.5', 'memcache_dead_retry = 30', 'memcache_pool_connection_get_timeout = 1'],
  // oslo.cache's defaults with the pooled backend (socket timeout 1 s, dead retry 300 s).
  'memcache_pool-defaults': ['backend = oslo_cache.memcache_pool'],
  // python-memcached without the pool: each connection learns a server is dead on its own.
  'dogpile.memcached-defaults': ['backend = dogpile.cache.memcached'],
  // pymemcache's HashClient: dogpile passes it no socket timeout (dogpile.cache 1.1.8 on Debian 12, 1.3.3 on 13).
  'dogpile.pymemcache-defaults': ['backend = dogpile.cache.pymemcache'],
} as const satisfies Record<string, readonly string[]>;
export type CacheSetting = keyof typeof CACHE_SETTINGS;

/**
 * Keystone's caching on every node, as an operator following the seed sets it: the three
 * controllers' memcached servers listed, caching on, tokens and the catalog cached.
 */
export function keystoneCacheSection(setting: CacheSetting): string {
  return `[cache]
enabled = true
memcache_servers = ${NODES.map((node) => `${node.address}:${MEMCACHED_PORT}`).join(',')}
${CACHE_SETTINGS[setting].join('\n')}

[token]
caching = true

[catalog]
caching = true
`;
}

/** The fence device: the test's agent (use your power switch's), every node in its host list. */
export function fenceDevice(files: ThreeLayoutFiles): LayoutPrimitive {
  return { id: 'fence', agent: 'stonith:fence_ocftest', params: [`map=${files.fenceMap}`, `pcmk_host_list=${NODES.map((n) => n.name).join(',')}`],
    ops: [['monitor', 'interval=60s']] };
}

/** Fencing on, no quorum means stop, fencing bounded, as name=value. */
export const PROPERTIES = ['stonith-enabled=true', 'no-quorum-policy=stop', 'stonith-timeout=30s', 'cluster-recheck-interval=1min'] as const;
/** Resources stay where they run when a node comes back (stickiness), so a rejoin moves nothing. */
export const RESOURCE_DEFAULTS = ['resource-stickiness=100'] as const;

/**
 * Cluster options: fencing on, no quorum means stop, fencing bounded, the fence device; resources
 * stay where they run when a node comes back (stickiness), so a rejoin moves nothing.
 */
export function clusterCommands(files: ThreeLayoutFiles): string[][] {
  const fence = fenceDevice(files);
  return [
    // The fence device first: crmsh 5 checks the whole configuration (crm_verify) before each
    // commit, and Pacemaker 3 counts fencing on without a fence device as an error.
    ['primitive', fence.id, fence.agent, 'params', ...fence.params, ...fence.ops.flatMap((op) => ['op', ...op])],
    ['property', ...PROPERTIES],
    ['rsc_defaults', ...RESOURCE_DEFAULTS],
  ];
}

/** The same cluster options and fence device with pcs 0.11 (`pcs stonith create` takes the agent without `stonith:`). */
export function pcsClusterCommands(files: ThreeLayoutFiles): string[][] {
  const fence = fenceDevice(files);
  return [
    ['stonith', 'create', fence.id, fence.agent.replace(/^stonith:/, ''), ...fence.params, 'op', ...fence.ops.flat()],
    ['property', 'set', ...PROPERTIES],
    ['resource', 'defaults', 'update', ...RESOURCE_DEFAULTS],
  ];
}

/** The layout once, as data, for one colocation variant; crmCommands and pcsCommands write it in each client's syntax. */
export function layout(files: ThreeLayoutFiles, variant: Variant): LayoutStep[] {
  const colocation: LayoutStep[] = variant === 'vip-follows-haproxy'
    // The VIP depends on HAProxy, so it starts after it. The seed's crmsh order (vip first, then
    // haproxy-clone) restarts every HAProxy instance whenever the VIP moves: measured, see docs/pacemaker.md.
    ? [{ kind: 'colocation', id: 'vip-with-haproxy', rsc: 'vip', withRsc: 'haproxy-clone' },
      { kind: 'order', id: 'vip-after-haproxy', order: 'Mandatory', first: 'haproxy-clone', then: 'vip' }]
    : [{ kind: 'colocation', id: 'haproxy-with-vip', rsc: 'haproxy-clone', withRsc: 'vip' },
      { kind: 'order', id: 'haproxy-after-vip', order: 'Optional', first: 'vip', then: 'haproxy-clone' }];
  return [
    { kind: 'primitive', id: 'vip', agent: 'ocf:heartbeat:IPaddr2', params: [`ip=${VIP}`, 'cidr_netmask=24', 'nic=eth0'], ops: [['monitor', 'interval=2s']] },
    { kind: 'primitive', id: 'haproxy', agent: 'ocf:openstack:haproxy', params: [`config=${files.haproxyConfig}`, `stats_socket=${files.haproxySocket}`],
      ops: [['monitor', 'interval=1s', 'timeout=20s']], clone: { id: 'haproxy-clone', meta: ['interleave=true'] } },
    ...colocation,
    { kind: 'primitive', id: 'p_memcached', agent: 'ocf:openstack:memcached', params: [`listen=interface:${MEMCACHED_INTERFACE}`], ops: [['monitor', 'interval=10s', 'timeout=20s']],
      clone: { id: 'cl_memcached', meta: ['interleave=true'] } },
    { kind: 'primitive', id: 'p_keystone', agent: 'ocf:openstack:keystone', params: [`config=${files.keystoneConfig}`, 'listen=0.0.0.0', `port=${KEYSTONE_PORT}`, 'processes=1',
      'os_username=admin', 'os_tenant_name=admin', `os_password_file=${files.passwordFile}`, `os_auth_url=http://${VIP}:${FRONTEND_PORT}/v3`],
      ops: [['start', 'timeout=90s'], ['monitor', 'interval=10s', 'timeout=30s']], clone: { id: 'cl_keystone', meta: ['interleave=true'] } },
    { kind: 'primitive', id: 'p_ceilometer', agent: 'ocf:openstack:ceilometer', params: [`config=${files.ceilometerConfig}`, `amqp_server_port=${AMQP_PORT}`],
      ops: [['monitor', 'interval=10s', 'timeout=30s']], clone: { id: 'cl_ceilometer', meta: ['interleave=true'] } },
  ];
}

export function layoutPrimitives(files: ThreeLayoutFiles, variant: Variant): LayoutPrimitive[] {
  return primitivesOf(layout(files, variant));
}

/** Each entry is one `crm configure ...` command line, split into words. */
export function crmCommands(files: ThreeLayoutFiles, variant: Variant): string[][] {
  // crmsh makes a clone in two commits (the primitive, then the clone). A primitive that starts
  // in between keeps its recurring monitor with a primitive's environment (no clone meta
  // attributes) once cloned: Pacemaker leaves the running instance and its monitor as they are.
  // Measured: that node's ceilometer never checked its coordination backend (coordination_check=auto
  // checks clones only) and Redis stopped was never seen there. Nothing starts in maintenance mode.
  return crmCommandsOf(layout(files, variant));
}

/** A layout's `crm configure ...` lines, in maintenance mode (see crmCommands). */
export function crmCommandsOf(steps: readonly LayoutStep[]): string[][] {
  return [['property', 'maintenance-mode=true'], ...crmLines(steps), ['property', 'maintenance-mode=false']];
}

/** Each entry is one `pcs ...` command line (pcs 0.11 and 0.12), split into words (see pcsLines). */
export function pcsCommands(files: ThreeLayoutFiles, variant: Variant): string[][] {
  return pcsLines(layout(files, variant));
}
