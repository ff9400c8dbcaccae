// The addresses an HAProxy configuration binds: its `bind` lines, as HAProxy reads them
// (str2sa_range: optional family prefix, the port after the last colon, comma-separated lists).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface BindAddress {
  /** The address as written, without brackets; '' for a wildcard (`bind :80`, `bind *:80`). */
  readonly address: string;
  /** The port or port range as written ('' when absent). */
  readonly port: string;
  /** 1-based line number in the configuration. */
  readonly line: number;
}

/**
 * Split one configuration line into words the way HAProxy does: whitespace separates, `#` starts
 * a comment, quotes group, a backslash escapes the next character.
 */
export function configWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === '#') {
      break;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

// Prefixes naming a socket that is not an IP address (Unix stream or datagram, abstract, inherited fd, socketpair).
const NOT_IP = /^(unix|uxst|uxdg|abns|abnsz|fd|sockpair)@/i;
// Prefixes forcing an IP family or protocol; what follows is an ordinary address.
const IP_PREFIX = /^(ipv4|ipv6|udp|udp4|udp6|tcp|tcp4|tcp6|quic4|quic6|stream|dgram)@/i;

/** One element of a bind list ("1.2.3.4:80", "[::1]:443", ":80") as address and port; undefined for a non-IP socket. */
export function parseBindAddress(text: string): { address: string; port: string } | undefined {
  if (text.startsWith('/') || NOT_IP.test(text)) return undefined;
  let rest = text;
  while (IP_PREFIX.test(rest)) rest = rest.replace(IP_PREFIX, '');
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(rest);
  if (bracketed) return { address: bracketed[1]!, port: bracketed[2] ?? '' };
  const colon = rest.lastIndexOf(':');
  if (colon < 0) return { address: rest === '*' ? '' : rest, port: '' };
  const address = rest.slice(0, colon);
  return { address: address === '*' ? '' : address, port: rest.slice(colon + 1) };
}

/** Every IP address the configuration's `bind` lines name, in order (wildcards as ''). */
export function bindAddresses(config: string): BindAddress[] {
  const found: BindAddress[] = [];
  config.split('\n').forEach((text, index) => {
    const words = configWords(text);
    if (words[0] !== 'bind' || words[1] === undefined) return;
    for (const element of words[1].split(',')) {
      const parsed = element === '' ? undefined : parseBindAddress(element);
      if (parsed) found.push({ ...parsed, line: index + 1 });
    }
  });
  return found;
}

/** The bind addresses of a configuration file; undefined when it cannot be read. */
export function readBindAddresses(path: string): BindAddress[] | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return bindAddresses(text);
}

// Bind prefixes whose sockets are not in the kernel's TCP table: UDP, QUIC, datagram, MPTCP.
const NOT_TCP = /^(udp|udp4|udp6|quic4|quic6|dgram|mptcp|mptcp4|mptcp6)@/i;

/** What a soft stop (SIGUSR1) of HAProxy with this configuration may look like from outside. */
export interface SoftStopFacts {
  /**
   * Milliseconds HAProxy keeps its listeners open after the soft stop (`grace`): 0 when not set,
   * Infinity when set with a value this reader does not take (HAProxy takes some with a warning).
   */
  readonly graceMs: number;
  /**
   * Whether the kernel's TCP table of HAProxy's own network namespace shows every socket it
   * listens on or serves with: no `bind` that is not TCP (Unix, UDP, QUIC...), and no `namespace`
   * option on a `bind`, `server` or `default-server` line (that socket lives in another namespace).
   */
  readonly tcpOnly: boolean;
}

/**
 * An HAProxy time: a whole number with an optional unit (us, ms, s, m, h, d; milliseconds without
 * one), as HAProxy's parse_time_err reads it. Milliseconds; undefined for anything else, including
 * what HAProxy takes with a warning ("1m30s" read as 1 m).
 */
export function haproxyTimeMs(text: string): number | undefined {
  const match = /^(\d+)(us|ms|s|m|h|d)?$/.exec(text);
  if (!match) return undefined;
  const unit = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms']!;
  return Number(match[1]) * unit;
}

/**
 * SoftStopFacts of a configuration's text (several files: their texts joined). `grace` is a global
 * keyword since HAProxy 2.5 and the last one read wins.
 */
export function softStopFacts(config: string): SoftStopFacts {
  let graceMs = 0;
  let tcpOnly = true;
  for (const line of config.split('\n')) {
    const words = configWords(line);
    if (words[0] === 'grace') graceMs = (words[1] === undefined ? undefined : haproxyTimeMs(words[1])) ?? Infinity;
    if (['bind', 'server', 'default-server'].includes(words[0] ?? '') && words.includes('namespace')) tcpOnly = false;
    if (words[0] === 'bind' && words[1] !== undefined) {
      for (const element of words[1].split(',')) {
        if (element !== '' && (parseBindAddress(element) === undefined || NOT_TCP.test(element))) tcpOnly = false;
      }
    }
  }
  return { graceMs, tcpOnly };
}

/**
 * The SoftStopFacts of the configuration HAProxy reads: each file, or each `.cfg` file of a
 * directory (as `haproxy -f DIR` reads them, in name order). undefined when one cannot be read.
 */
export function readSoftStopFacts(paths: readonly string[]): SoftStopFacts | undefined {
  const texts: string[] = [];
  try {
    for (const path of paths) {
      const files = statSync(path).isDirectory() ? readdirSync(path).filter((name) => name.endsWith('.cfg')).sort().map((name) => join(path, name)) : [path];
      for (const file of files) texts.push(readFileSync(file, 'utf8'));
    }
  } catch {
    return undefined;
  }
  return softStopFacts(texts.join('\n'));
}
