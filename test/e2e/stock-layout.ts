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
import { readdirSync } from 'node:fs';
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
 * - /etc/default/keystone: uwsgi's socket on the node's own address and KEYSTONE_PORT (ours: 0.0.0.0,
 *   the same port; the script's default `--http-socket :5000` takes every address, HAProxy's VIP port
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

/**
 * The package's keystone-uwsgi.ini sized as ours runs Keystone (processes=1, and the agent's
 * threads=1, which it keeps for sqlite): the same uwsgi in both layouts, so that what differs is
 * the resource agent. The package's 8 processes of 32 threads on each of three nodes would not fit
 * 2 cores, and with one worker busy on a locked database the other threads would still answer.
 */
export function stockUwsgiIni(packaged: string): string {
  let ini = packaged;
  for (const [option, value] of [['processes', 1], ['threads', 1]] as const) {
    const line = new RegExp(`^${option}\\s*=.*$`, 'm');
    if (!line.test(ini)) throw new Error(`keystone-uwsgi.ini sets no ${option}`);
    ini = ini.replace(line, `${option} = ${value}`);
  }
  return ini;
}

/**
 * The uwsgi Debian's keystone init script runs: the last of /usr/bin/uwsgi_python3, _python35 ...
 * _python319 that exists, as its loop picks it (uwsgi_python311 on Debian 12, _python313 on 13).
 */
export function keystoneInitDaemon(binaries: readonly string[] = readdirSync('/usr/bin')): string {
  const found = binaries.filter((name) => /^uwsgi_python3\d*$/.test(name)).sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
  if (!found.length) throw new Error('no /usr/bin/uwsgi_python3*: the keystone init script would not start');
  return `/usr/bin/${found.at(-1)}`;
}

/**
 * Links from the pidfile each init script's `status` reads first to the one its `start` writes,
 * by link path. Debian's keystone and ceilometer-agent-central scripts (openstack-pkg-tools) run
 * `status_of_proc $DAEMON`, which reads /run/$(basename $DAEMON).pid, a file nothing writes, and
 * then asks `pidof` for $DAEMON over the whole machine:
 * - ceilometer-polling renames its processes ("ceilometer-polling: master process [...]"), pidof
 *   never finds them, and `status` says "not running" (3) while it runs: measured, Pacemaker
 *   restarts lsb:ceilometer-agent-central at every monitor on every node;
 * - any uwsgi_python3 process counts as Keystone: another uwsgi application of the controller, or
 *   here, where the three nodes share one PID namespace, another node's Keystone.
 * An operator who found that gives `status` the pidfile (this link), which is what the stock layout
 * does: its status then asks whether its own daemon's pid is alive, as systemd's unit would.
 * One gap stays, the harness's: a stopped Keystone's pidfile is removed, the link dangles and
 * `status` falls back to pidof, which finds the other nodes' Keystone (no fault here stops
 * Keystone on one node alone; node-lost's rejoined node is the one case).
 */
export function stockPidfileLinks(keystoneDaemon = keystoneInitDaemon()): Record<string, string> {
  return {
    [`/run/${keystoneDaemon.split('/').at(-1)}.pid`]: '/run/keystone/keystone.pid',
    '/run/ceilometer-polling.pid': '/run/ceilometer/ceilometer-agent-central.pid',
  };
}
