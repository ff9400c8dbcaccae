// A corosync + Pacemaker node inside namespaces of its own (../namespaces.ts): its private
// /etc/corosync, /var/lib/corosync, /var/lib/pacemaker, /var/log, /run and /dev/shm, its
// corosync.conf, its daemons started and waited for; and crm_mon's XML read back. Shared by the
// one-node cluster (one-node.ts) and the three-node cluster (three-nodes.ts).
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Namespaces } from '../namespaces.ts';
import { controllerState, designatedController } from '../parsers/crm-mon.ts';
import { waitFor } from '../processes.ts';

export interface CorosyncNode {
  readonly name: string;
  readonly address: string;
  readonly id: number;
}

/** Totem timing in ms; corosync's defaults when left out. */
export interface Totem {
  readonly token?: number;
  readonly consensus?: number;
}

export function corosyncConf(nodes: readonly CorosyncNode[], totem: Totem = {}): string {
  const timing = [
    ...(totem.token !== undefined ? [`    token: ${totem.token}`, '    token_coefficient: 0'] : []),
    ...(totem.consensus !== undefined ? [`    consensus: ${totem.consensus}`] : []),
  ];
  return `totem {
    version: 2
    cluster_name: ocf-openstack-test
    transport: knet
    crypto_cipher: none
    crypto_hash: none
${timing.map((line) => `${line}\n`).join('')}}
nodelist {
${nodes.map((node) => `    node {
        ring0_addr: ${node.address}
        name: ${node.name}
        nodeid: ${node.id}
    }
`).join('')}}
quorum {
    provider: corosync_votequorum
}
logging {
    to_logfile: yes
    logfile: /var/log/pacemaker/corosync.log
    to_syslog: no
    to_stderr: no
    timestamp: on
}
`;
}

function accountIds(name: string, file: string): number {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no ${name} in ${file}: is pacemaker installed?`);
  return Number(line.split(':')[2]);
}

/** Where a node's private state lives on the machine, under `dir`. */
export function nodeDirectories(dir: string): Record<string, string> {
  return {
    '/etc/corosync': join(dir, 'corosync-etc'),
    '/var/lib/corosync': join(dir, 'corosync-lib'),
    '/var/lib/pacemaker': join(dir, 'pacemaker-lib'),
    '/var/log': join(dir, 'var-log'),
  };
}

/** Where a node's corosync.log and pacemaker.log are, on the machine. */
export function logDirectory(dir: string): string {
  return join(dir, 'var-log', 'pacemaker');
}

/** Make the node's private directories under `dir` and mount them, with fresh /run and /dev/shm, inside `ns`. */
export async function preparePacemakerNode(ns: Namespaces, dir: string, conf: string): Promise<void> {
  const hacluster = accountIds('hacluster', '/etc/passwd');
  const haclient = accountIds('haclient', '/etc/group');
  const dirs = nodeDirectories(dir);
  for (const path of Object.values(dirs)) mkdirSync(path, { recursive: true });
  writeFileSync(join(dirs['/etc/corosync']!, 'corosync.conf'), conf);
  for (const sub of ['cib', 'pengine', 'blackbox', 'cores']) {
    const path = join(dirs['/var/lib/pacemaker']!, sub);
    mkdirSync(path, { recursive: true, mode: 0o750 });
    chownSync(path, hacluster, haclient);
  }
  mkdirSync(logDirectory(dir), { recursive: true });
  // What the tools expect to find in /var/log on a node (crmsh refuses to run without its log directory).
  for (const tool of ['crmsh', 'pcsd', 'cluster']) mkdirSync(join(dirs['/var/log']!, tool), { recursive: true });
  chownSync(logDirectory(dir), hacluster, haclient);
  await ns.run('ip', 'link', 'set', 'lo', 'up');
  await mountVolatile(ns);
  for (const [target, source] of Object.entries(dirs)) await ns.run('mount', '--bind', source, target);
}

/** /run and /dev/shm empty, as after a boot. */
export async function mountVolatile(ns: Namespaces): Promise<void> {
  for (const target of ['/run', '/dev/shm']) {
    await ns.exec('umount', ['-l', target]);
    await ns.run('mount', '-t', 'tmpfs', 'tmpfs', target);
  }
}

const DAEMON_ENV = {
  PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
  PCMK_logfile: '/var/log/pacemaker/pacemaker.log',
  PCMK_logfacility: 'none',
  HA_LOGFACILITY: 'none',
};

/** corosync, then pacemakerd once corosync answers. */
export async function startPacemaker(ns: Namespaces, dir: string): Promise<void> {
  ns.background('corosync', ['-f'], DAEMON_ENV);
  const up = await waitFor(async () => (await ns.exec('corosync-cfgtool', ['-s'])).code === 0, 30_000, 500);
  if (!up) throw new Error(`corosync did not come up:\n${readLog(dir, 'corosync.log')}`);
  ns.background('pacemakerd', [], DAEMON_ENV);
}

/** One of a node's logs (corosync.log, pacemaker.log); the node's directory as preparePacemakerNode got it. */
export function readLog(dir: string, name: string): string {
  try {
    return readFileSync(join(logDirectory(dir), name), 'utf8');
  } catch {
    return '';
  }
}

type Exec = (file: string, args: readonly string[]) => Promise<{ readonly code: number | null; readonly output: string }>;

/**
 * `crm ARGS` as an operator types it, then what `crm -w` waits for: the DC back in S_IDLE. crmsh 5's
 * -w first asks systemd whether pacemaker.service is active (systemctl is-active), which fails on
 * a node whose Pacemaker systemd did not start (these test nodes): "Pacemaker is not running. No
 * DC.", exit 1, after the change was committed. crmsh 4.4's -w asked crmadmin only, as this does.
 */
export async function crmAndWait(exec: Exec, args: readonly string[], timeoutMs = 120_000): Promise<{ readonly code: number | null; readonly output: string }> {
  const result = await exec('crm', args);
  if (result.code !== 0) return result;
  const idle = await waitFor(async () => {
    const dc = designatedController((await exec('crmadmin', ['--dc_lookup', '--output-as=xml'])).output);
    if (!dc) return false;
    return controllerState((await exec('crmadmin', ['--status', dc, '--output-as=xml'])).output) === 'S_IDLE';
  }, timeoutMs, 200);
  if (!idle) throw new Error(`crm ${args.join(' ')}: the DC did not become idle within ${timeoutMs} ms`);
  return result;
}
