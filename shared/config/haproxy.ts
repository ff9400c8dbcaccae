// The addresses an HAProxy configuration binds: its `bind` lines, as HAProxy reads them
// (str2sa_range: optional family prefix, the port after the last colon, comma-separated lists).
import { readFileSync } from 'node:fs';

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

// Prefixes naming a socket that is not an IP address (Unix, abstract, inherited fd, socketpair).
const NOT_IP = /^(unix|abns|fd|sockpair)@/i;
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

/**
 * Whether the configuration sets `grace` (global, defaults or a proxy): HAProxy then keeps its
 * listeners open that long after a soft stop before it closes them. undefined when the file
 * cannot be read.
 */
export function readUsesGrace(path: string): boolean | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return text.split('\n').some((line) => configWords(line)[0] === 'grace');
}
