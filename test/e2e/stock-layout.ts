// The seed's controller layout as an operator on Debian runs it without this suite (issue 20): the
// distribution's own init scripts as Pacemaker `lsb:` resources, in the same places as ours
// (three-layout.ts): HAProxy cloned, the VIP colocated with it and ordered after it (the recommended
// variant), memcached, Keystone and the central ceilometer agent cloned. The seed's pcs lines and
// Red Hat's use `systemd:` units instead; no systemd runs as PID 1 here (nor in CI's machines or
// build/debian-root.sh's roots), so `lsb:` stands for them: both classes ask the init system
// whether the daemon's pid is alive and nothing more (Pacemaker's systemd class: the unit's
// ActiveState; lsb: the script's `status`, by its pidfile or pidof).
//
// Each init script is pointed at the layout's files the way an operator would point it: through
// /etc/default (HAProxy's CONFIG, Keystone's uwsgi socket), or by the file at the path the script
// reads (/etc/memcached.conf, /etc/ceilometer/ceilometer.conf), bound in each node's mount
// namespace. Monitor intervals are ours, so that what differs is the check, not how often it runs.
import { VIP } from '../helpers/clusters/three-nodes.ts';
import type { LayoutStep } from './layout-steps.ts';
import { KEYSTONE_PORT, MEMCACHED_PORT, type ThreeLayoutFiles } from './three-layout.ts';

/** The two layouts issue 20 compares, by name. */
export const LAYOUTS = ['stock', 'ours'] as const;
export type LayoutName = typeof LAYOUTS[number];
/** How the bench and docs/faults.md name each layout. */
export const LAYOUT_TITLES: Record<LayoutName, string> = { stock: 'stock (lsb: init scripts)', ours: 'ours (ocf:openstack:)' };

/** The stock layout, as data (layout-steps.ts writes it for crmsh and pcs). */
export function stockLayout(): LayoutStep[] {
  return [
    { kind: 'primitive', id: 'vip', agent: 'ocf:heartbeat:IPaddr2', params: [`ip=${VIP}`, 'cidr_netmask=24', 'nic=eth0'], ops: [['monitor', 'interval=2s']] },
    { kind: 'primitive', id: 'haproxy', agent: 'lsb:haproxy', params: [], ops: [['monitor', 'interval=1s', 'timeout=20s']], clone: { id: 'haproxy-clone', meta: ['interleave=true'] } },
    { kind: 'colocation', id: 'vip-with-haproxy', rsc: 'vip', withRsc: 'haproxy-clone' },
    { kind: 'order', id: 'vip-after-haproxy', order: 'Mandatory', first: 'haproxy-clone', then: 'vip' },
    { kind: 'primitive', id: 'p_memcached', agent: 'lsb:memcached', params: [], ops: [['monitor', 'interval=10s', 'timeout=20s']], clone: { id: 'cl_memcached', meta: ['interleave=true'] } },
    { kind: 'primitive', id: 'p_keystone', agent: 'lsb:keystone', params: [], ops: [['start', 'timeout=90s'], ['monitor', 'interval=10s', 'timeout=30s']],
      clone: { id: 'cl_keystone', meta: ['interleave=true'] } },
    { kind: 'primitive', id: 'p_ceilometer', agent: 'lsb:ceilometer-agent-central', params: [], ops: [['monitor', 'interval=10s', 'timeout=30s']],
      clone: { id: 'cl_ceilometer', meta: ['interleave=true'] } },
  ];
}

/**
 * The files each node's init scripts read, by the path the script reads (bound over it in the
 * node's mount namespace), for the node at `address`:
 * - /etc/default/haproxy: CONFIG, the layout's haproxy.cfg (the script runs `haproxy -f $CONFIG -D`);
 * - /etc/default/keystone: uwsgi's socket on the node's own address and KEYSTONE_PORT, as ours
 *   listens (the script's default `--http-socket :5000` takes every address, HAProxy's VIP port
 *   among them), and the package's uwsgi ini;
 * - /etc/memcached.conf: Debian's, listening on the node's own address.
 * The layout's ceilometer.conf is bound over /etc/ceilometer/ceilometer.conf as it is, and
 * keystone-uwsgi.ini (stockUwsgiIni) goes into the node's /etc/keystone.
 */
export function stockNodeFiles(files: ThreeLayoutFiles, address: string): Record<string, string> {
  return {
    '/etc/default/haproxy': `CONFIG="${files.haproxyConfig}"\n`,
    '/etc/default/keystone': `DAEMON_ARGS="--http-socket ${address}:${KEYSTONE_PORT} --ini /etc/keystone/keystone-uwsgi.ini"\n`,
    '/etc/memcached.conf': `-d\nlogfile /var/log/memcached.log\n-m 64\n-p ${MEMCACHED_PORT}\n-u memcache\n-l ${address}\n`,
  };
}

/** The package's keystone-uwsgi.ini with one process per node (ours runs processes=1; the package's 8 on each of three nodes would not fit 2 cores). */
export function stockUwsgiIni(packaged: string): string {
  if (!/^processes\s*=/m.test(packaged)) throw new Error('keystone-uwsgi.ini sets no processes');
  return packaged.replace(/^processes\s*=.*$/m, 'processes = 1');
}
