// Tooz coordination as OpenStack services use it for workload partitioning: the backend_url, the
// partitioning group, and whether one member (one process) is a live member of that group, read
// natively from the backend (Redis RESP, memcached text protocol) with the key layout of tooz's
// redis and memcached drivers.
import { closeSync, constants, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { shownQuery, urlWithoutUserinfo } from '../ocf/credentials.ts';
import { tcpExchange } from '../net/socket.ts';
import { redisCommands, RedisError, watchCommands, type RedisTarget } from '../net/redis.ts';

interface BackendBase {
  /** The URL with any password blanked, for messages. */
  readonly shown: string;
}

export interface RedisBackend extends BackendBase {
  readonly kind: 'redis';
  readonly target: RedisTarget;
  /** tooz's key namespace (the `namespace` URL option), "_tooz" by default. */
  readonly namespace: string;
  /** How long a member's heartbeat keeps it alive (membership_timeout, else timeout, else 30 s). */
  readonly membershipTimeoutMs: number;
}

export interface MemcachedBackend extends BackendBase {
  readonly kind: 'memcached';
  readonly host: string;
  readonly port: number;
  readonly membershipTimeoutMs: number;
  /** The URL option the membership timeout came from: membership_timeout, else timeout. */
  readonly membershipOption: 'membership_timeout' | 'timeout';
  /**
   * How often tooz beats, in ms, at best: its memcached driver's heartbeat() returns the smallest
   * of membership_timeout, leader_timeout and lock_timeout (each `timeout` unless given, 30 s by
   * default), and tooz.coordination.Heart then waits half of that less the beat's own time, so
   * beats come every (smallest + beat time) / 2 (tooz 3.1.0 and 6.3.0).
   */
  readonly heartbeatIntervalMs: number;
}

/** A backend tooz supports but this module cannot look into (zookeeper, etcd, a unix socket, sentinel). */
export interface OtherBackend extends BackendBase {
  readonly kind: 'other';
  readonly why: string;
}

export type Backend = RedisBackend | MemcachedBackend | OtherBackend;

export type Checkable = RedisBackend | MemcachedBackend;

const TOOZ_DEFAULT_TIMEOUT_S = 30;

/** An option as tooz reads the query (parse_qs drops blank values; tooz.utils.collapse keeps the last). */
function option(options: URLSearchParams, name: string): string | undefined {
  return options.getAll(name).filter((value) => value !== '').at(-1);
}

function seconds(options: URLSearchParams, name: string): number | undefined {
  const raw = option(options, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`option ${name}=${raw} is not a number of seconds`);
  return value;
}

/**
 * tooz's memcached driver reads its timeouts with int(): "2.5" would end every worker at start.
 * memcached takes an expiry over 30 days as a Unix time (the key gone at once); 0 would beat
 * without pause.
 */
function wholeSeconds(options: URLSearchParams, name: string): number | undefined {
  const raw = option(options, name);
  if (raw === undefined) return undefined;
  if (!/^\s*\+?\d{1,7}\s*$/.test(raw) || Number(raw) < 1 || Number(raw) > 2_592_000) {
    throw new Error(`option ${name}=${raw.slice(0, 20)} is not a whole number of seconds from 1 to 2592000 (tooz reads it with int())`);
  }
  return Number(raw);
}

function membershipTimeoutMs(options: URLSearchParams): number {
  const timeout = seconds(options, 'timeout') ?? TOOZ_DEFAULT_TIMEOUT_S;
  return Math.round((seconds(options, 'membership_timeout') ?? timeout) * 1000);
}

/** What tooz's memcached driver makes of its timeouts (each `timeout` unless given): the membership timeout and the beat interval, in ms. */
function memcachedTimeouts(options: URLSearchParams): Pick<MemcachedBackend, 'membershipTimeoutMs' | 'membershipOption' | 'heartbeatIntervalMs'> {
  const timeout = wholeSeconds(options, 'timeout') ?? TOOZ_DEFAULT_TIMEOUT_S;
  const membership = wholeSeconds(options, 'membership_timeout');
  const smallest = Math.min(membership ?? timeout, ...['leader_timeout', 'lock_timeout'].map((name) => wholeSeconds(options, name) ?? timeout));
  return {
    membershipTimeoutMs: (membership ?? timeout) * 1000,
    membershipOption: membership === undefined ? 'timeout' : 'membership_timeout',
    heartbeatIntervalMs: (smallest * 1000) / 2,
  };
}

/**
 * Parse `[coordination] backend_url` as tooz does; throws with the reason when it is not a URL tooz
 * takes. Neither `shown` nor a reason ever holds the password: register urlPasswords(url) with the
 * logger as well, for whatever else may quote the URL.
 */
export function parseBackendUrl(url: string): Backend {
  const match = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url.trim());
  if (!match) throw new Error(`"${urlWithoutUserinfo(url)}" is not a URL (expected e.g. redis://HOST:6379)`);
  const scheme = match[1]!.toLowerCase();
  let parsed: URL;
  try {
    // As a non-special scheme, as urllib (tooz) reads it: no default port, a backslash inside a password.
    parsed = new URL(`${scheme}://${url.trim().slice(match[0].length)}`);
  } catch {
    throw new Error(`"${urlWithoutUserinfo(url)}" is not a valid URL`);
  }
  // Shown from the parsed parts: a password the parser percent-encoded cannot slip through.
  const userinfo = parsed.username || parsed.password ? `${parsed.username}${parsed.password ? ':****' : ''}@` : '';
  const path = parsed.pathname === '/' ? '' : parsed.pathname;
  const shown = `${scheme}://${userinfo}${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${path}${shownQuery(parsed.searchParams)}`;
  if (!/^[a-z0-9.[\]:-]*$/i.test(parsed.hostname)) throw new Error(`"${shown}" has an invalid host`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port === '' ? undefined : Number(parsed.port);
  const options = parsed.searchParams;
  switch (scheme) {
    case 'redis': {
      if (host === '') return { kind: 'other', shown, why: 'a unix socket' };
      if (options.has('sentinel')) return { kind: 'other', shown, why: 'a Redis sentinel' };
      const db = option(options, 'db');
      if (db !== undefined && !/^\d+$/.test(db)) throw new Error(`"${shown}": db=${db} is not a database number`);
      const target: RedisTarget = {
        host, port: port ?? 6379,
        ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
        ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
        ...(db ? { db: Number(db) } : {}),
      };
      return { kind: 'redis', shown, target, namespace: option(options, 'namespace') ?? '_tooz', membershipTimeoutMs: membershipTimeoutMs(options) };
    }
    case 'memcached':
      if (host === '') throw new Error(`"${shown}" names no memcached host`);
      return { kind: 'memcached', shown, host, port: port ?? 11211, ...memcachedTimeouts(options) };
    default:
      return { kind: 'other', shown, why: `the ${scheme} driver` };
  }
}

/**
 * The group ceilometer's polling agent joins: sorted namespaces joined by "-", the partitioning
 * prefix when set, and the discovery's group ("global" for central discoveries, the host for the
 * compute agent's local instances).
 */
export function partitioningGroup(namespaces: readonly string[], prefix: string, discoveryGroup: string): string {
  const base = [...namespaces].sort().join('-');
  return `${prefix ? `${base}-${prefix}` : base}-${discoveryGroup}`;
}

export type Membership =
  | { readonly state: 'member'; readonly heartbeatAgeMs?: number }
  | { readonly state: 'no-group' }
  | { readonly state: 'not-member' }
  | { readonly state: 'no-heartbeat' };

/** Is `member` in `group` with a heartbeat that has not expired? Throws when the backend cannot be asked. */
export async function membershipOf(backend: Checkable, group: string, member: string, timeoutMs: number): Promise<Membership> {
  return backend.kind === 'redis' ? redisMembership(backend, group, member, timeoutMs) : memcachedMembership(backend, group, member, timeoutMs);
}

async function redisMembership(backend: RedisBackend, group: string, member: string, timeoutMs: number): Promise<Membership> {
  const groupKey = `${backend.namespace}_group:${group}`;
  const beatKey = `${backend.namespace}_beats:${member}`;
  const replies = await redisCommands(backend.target, [['EXISTS', groupKey], ['HEXISTS', groupKey, member], ['PTTL', beatKey]], timeoutMs);
  const failed = replies.find((reply) => reply instanceof RedisError) as RedisError | undefined;
  if (failed) throw new Error(`Redis error: ${failed.message}`);
  const [groupExists, isMember, ttl] = replies as number[];
  if (groupExists === 0) return { state: 'no-group' };
  if (isMember === 0) return { state: 'not-member' };
  if (ttl! < 0 && ttl !== -1) return { state: 'no-heartbeat' };
  return ttl! >= 0 ? { state: 'member', heartbeatAgeMs: Math.max(0, backend.membershipTimeoutMs - ttl!) } : { state: 'member' };
}

function memcachedExchange(backend: MemcachedBackend, request: string, complete: (text: string) => boolean, timeoutMs: number): Promise<string> {
  return tcpExchange({ host: backend.host, port: backend.port, request, complete, timeoutMs });
}

async function memcachedMembership(backend: MemcachedBackend, group: string, member: string, timeoutMs: number): Promise<Membership> {
  // tooz keeps the group as one msgpack map of member ids; the member's key expires unless beaten.
  const answer = await memcachedExchange(
    backend,
    `get _TOOZ_GROUP_${group}\r\nmg _TOOZ_MEMBER_${member} t\r\n`,
    (text) => /END\r\n(?:HD[^\r\n]*|EN|[A-Z_]*ERROR[^\r\n]*)\r\n$/.test(text),
    timeoutMs,
  );
  if (/^(?:CLIENT_|SERVER_)?ERROR/m.test(answer)) throw new Error(`memcached error: ${/ERROR[^\r\n]*/.exec(answer)![0]}`);
  const groupValue = /^VALUE \S+ \d+ \d+\r\n/.exec(answer);
  if (!groupValue) return { state: 'no-group' };
  if (!answer.slice(groupValue[0].length, answer.lastIndexOf('END\r\n')).includes(member)) return { state: 'not-member' };
  const beat = /HD(?: t(-?\d+))?\r\n$/.exec(answer);
  if (!beat) return { state: 'no-heartbeat' };
  const ttlS = beat[1] === undefined ? -1 : Number(beat[1]);
  return ttlS >= 0 ? { state: 'member', heartbeatAgeMs: Math.max(0, backend.membershipTimeoutMs - ttlS * 1000) } : { state: 'member' };
}

/** Does the backend answer at all? undefined when it does, otherwise why not. */
export async function unreachable(backend: Checkable, timeoutMs: number): Promise<string | undefined> {
  try {
    if (backend.kind === 'redis') {
      const [pong] = await redisCommands(backend.target, [['PING']], timeoutMs);
      return pong === 'PONG' ? undefined : `unexpected answer to PING: ${String(pong instanceof RedisError ? pong.message : pong)}`;
    }
    const answer = await memcachedExchange(backend, 'version\r\n', (text) => text.includes('\r\n'), timeoutMs);
    return answer.startsWith('VERSION ') ? undefined : `unexpected answer to "version": ${answer.trim().slice(0, 80)}`;
  } catch (error) {
    return (error as Error).message;
  }
}

/** "host:port" as backends print a client (IPv6 with or without brackets), in one spelling. */
export function clientKey(address: string, port: number): string {
  return `${address.replace(/^\[(.*)\]$/, '$1').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1')}:${port}`;
}

function clientKeyOf(printed: string): string | undefined {
  const match = /^(.*):(\d+)$/.exec(printed.replace(/^tcp6?:/, ''));
  return match ? clientKey(match[1]!, Number(match[2])) : undefined;
}

/** Which member a process is: seen in the backend as the heartbeat sent over one of its connections. */
export interface LearnedMember {
  readonly member: string;
  readonly pid: number;
}

/**
 * Find the member id of one of our processes. ceilometer's member id is a random UUID made when
 * its worker starts, stored nowhere but in the backend; the only link to a process is the
 * connection its heartbeat arrives on. So: watch the backend's command stream (Redis MONITOR,
 * memcached "watch mutations" with "stats conns") for a heartbeat from a client address that is
 * one of our processes' connections (`ourClients`: clientKey -> pid). Bounded by timeoutMs (a
 * heartbeat comes every half membership timeout); undefined when none came.
 */
export async function learnMember(backend: Checkable, ourClients: () => ReadonlyMap<string, number>, timeoutMs: number): Promise<LearnedMember | undefined> {
  if (backend.kind === 'redis') {
    const beatPrefix = `${backend.namespace}_beats:`;
    let learned: LearnedMember | undefined;
    await watchCommands(backend.target, ({ client, words }) => {
      if (words[0]?.toUpperCase() !== 'PSETEX' || !words[1]?.startsWith(beatPrefix)) return false;
      const key = clientKeyOf(client);
      const pid = key === undefined ? undefined : ourClients().get(key);
      if (pid === undefined) return false;
      learned = { member: words[1].slice(beatPrefix.length), pid };
      return true;
    }, timeoutMs);
    return learned;
  }
  return learnMemcachedMember(backend, ourClients, timeoutMs);
}

async function learnMemcachedMember(backend: MemcachedBackend, ourClients: () => ReadonlyMap<string, number>, timeoutMs: number): Promise<LearnedMember | undefined> {
  const until = Date.now() + timeoutMs;
  // memcached names a client by its file descriptor in the watch stream; stats conns maps those to addresses.
  const conns = await memcachedExchange(backend, 'stats conns\r\n', (text) => text.endsWith('END\r\n'), timeoutMs);
  const clients = ourClients();
  const ourFds = new Map<string, number>();
  for (const [, fd, printed] of conns.matchAll(/^STAT (\d+):addr (\S+)\r$/gm)) {
    const pid = clients.get(clientKeyOf(printed!) ?? '');
    if (pid !== undefined) ourFds.set(fd!, pid);
  }
  if (ourFds.size === 0) return undefined;
  let learned: LearnedMember | undefined;
  let consumed = 0;
  try {
    await memcachedExchange(backend, 'watch mutations\r\n', (text) => {
      for (let end = text.indexOf('\n', consumed); end >= 0; end = text.indexOf('\n', consumed)) {
        const line = text.slice(consumed, end);
        consumed = end + 1;
        const store = /\bkey=_TOOZ_MEMBER_(\S+) status=stored .*\bcfd=(\d+)/.exec(line);
        const pid = store ? ourFds.get(store[2]!) : undefined;
        if (store && pid !== undefined) {
          learned = { member: store[1]!, pid };
          return true;
        }
      }
      return false;
    }, Math.max(0, until - Date.now()));
  } catch (error) {
    if (!/^no answer within/.test((error as Error).message)) throw error;
  }
  return learned;
}

/** The member id learned for a resource, kept in HA_RSCTMP beside its pidfile. */
export function recallMember(path: string): LearnedMember | undefined {
  try {
    const [pid, member] = readFileSync(path, 'utf8').trim().split(/\s+/);
    return pid && member && /^\d+$/.test(pid) && /^[\w.:-]+$/.test(member) ? { pid: Number(pid), member } : undefined;
  } catch {
    return undefined;
  }
}

/** Written like a pidfile: a fresh O_EXCL|O_NOFOLLOW file renamed over the path. */
export function rememberMember(path: string, learned: LearnedMember): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, `${learned.pid} ${learned.member}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

export function forgetMember(path: string): void {
  rmSync(path, { force: true });
}
