// Can a daemon bind this address here? The kernel's own view of this network namespace:
// /proc/net/fib_trie (IPv4 local routes), /proc/net/if_inet6 (IPv6 addresses) and the
// ip_nonlocal_bind sysctls. No `ip` output parsing, no node:net (hot-path cost in the binary).
import { readFileSync } from 'node:fs';
import { addressFamily, isWildcard, kernelForm, parseIPv4, parseIPv6, unbracket } from './address.ts';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The IPv4 local routes of this namespace: [network, prefix length] for every "host LOCAL" leaf
 * of /proc/net/fib_trie. A /32 is an assigned address; a shorter prefix is a local range
 * (127.0.0.0/8, or an AnyIP route such as `ip route add local 10.0.0.0/24 dev lo`).
 */
function ipv4LocalRoutes(): Array<[number, number]> {
  const trie = readText('/proc/net/fib_trie');
  if (trie === undefined) return [];
  const routes: Array<[number, number]> = [];
  let leaf: number | undefined;
  for (const line of trie.split('\n')) {
    const address = /^\s*\|-- (\S+)$/.exec(line);
    if (address) {
      leaf = parseIPv4(address[1]!);
      continue;
    }
    const entry = /^\s*\/(\d+) \S+ LOCAL$/.exec(line);
    if (entry && leaf !== undefined) routes.push([leaf, Number(entry[1])]);
  }
  return routes;
}

function inPrefix(address: number, network: number, prefix: number): boolean {
  if (prefix === 0) return true;
  const size = 2 ** (32 - prefix);
  return Math.floor(address / size) === Math.floor(network / size);
}

/** IPv6 addresses assigned here, as 32 hex digits, leaving out those whose duplicate-address detection failed. */
function ipv6LocalAddresses(): string[] {
  const table = readText('/proc/net/if_inet6');
  if (table === undefined) return [];
  const DAD_FAILED = 0x08;
  return table.split('\n').flatMap((line) => {
    const [hex, , , , flags] = line.trim().split(/\s+/);
    if (!hex || hex.length !== 32 || flags === undefined) return [];
    return (parseInt(flags, 16) & DAD_FAILED) !== 0 ? [] : [hex.toLowerCase()];
  });
}

/** Is the address assigned to an interface in this network namespace (the kernel's view)? */
export function isLocalAddress(address: string): boolean {
  const bare = kernelForm(address);
  const v4 = parseIPv4(bare);
  if (v4 !== undefined) return ipv4LocalRoutes().some(([network, prefix]) => inPrefix(v4, network, prefix));
  const v6 = parseIPv6(bare);
  if (v6 !== undefined) return ipv6LocalAddresses().includes(v6);
  return false;
}

/** The sysctl that lets a daemon bind an address of this family that is not (yet) local. */
export function nonLocalBindSysctl(address: string): string {
  return addressFamily(kernelForm(address)) === 'ipv6' ? 'net.ipv6.ip_nonlocal_bind' : 'net.ipv4.ip_nonlocal_bind';
}

/** Is the family's ip_nonlocal_bind sysctl 1 in this network namespace? */
export function nonLocalBindAllowed(address: string): boolean {
  const path = `/proc/sys/${nonLocalBindSysctl(address).replaceAll('.', '/')}`;
  return readText(path)?.trim() === '1';
}

/**
 * undefined when a daemon can bind `address` here: a wildcard, a local address, or the family's
 * ip_nonlocal_bind is 1. Otherwise the reason, naming the address, the sysctl and the constraint
 * that would have prevented it. Host names are not resolved and not checked (undefined).
 */
export function vipProblem(address: string): string | undefined {
  const shown = unbracket(address.trim());
  const bare = kernelForm(address);
  if (isWildcard(bare) || addressFamily(bare) === undefined) return undefined;
  if (isLocalAddress(bare) || nonLocalBindAllowed(bare)) return undefined;
  const sysctl = nonLocalBindSysctl(bare);
  // Short enough for a 256-byte exit reason with what the agent puts before it.
  return `address ${shown} is not assigned to any interface of this node and ${sysctl} is 0: `
    + 'pcs constraint colocation add RSC with VIP INFINITY; pcs constraint order start VIP then RSC; '
    + `or ${sysctl} = 1 on every node`;
}
