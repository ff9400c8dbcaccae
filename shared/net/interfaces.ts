// A parameter that names a network interface instead of an address ("interface:eth1"): one clone
// definition, and each node's instance takes its own node's address on that interface. The kernel's
// list of addresses comes from getifaddrs (node:os networkInterfaces), in the kernel's order; the
// list of interfaces, with or without an address, from /proc/net/dev (this network namespace's).
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

const PREFIX = 'interface:';

/**
 * The interface a parameter value names ("interface:NAME"), undefined for any other value (an
 * address or a host name: a host name never contains ":", an IPv6 address never starts with
 * "interface"). The name is not checked here: see interfaceNameProblem.
 */
export function namedInterface(value: string): string | undefined {
  return value.startsWith(PREFIX) ? value.slice(PREFIX.length) : undefined;
}

/**
 * Why NAME cannot be a Linux interface name (1 to 15 bytes, IFNAMSIZ; no "/", whitespace or NUL;
 * not "." or ".."), undefined when it can. An alias label such as "eth0:1" is a name here.
 */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === '' || Buffer.byteLength(name) > 15) return 'an interface name has 1 to 15 bytes';
  if (/[\s/\0]/.test(name) || name === '.' || name === '..') return 'an interface name has no "/", whitespace or NUL and is not "." or ".."';
  return undefined;
}

/** What interfaceAddress found: the address to use, or why there is none on this node. */
export type InterfaceAddress = { readonly address: string } | { readonly missing: 'interface' | 'address' };

/**
 * The address a daemon told to use interface `name` binds on this node: its first IPv4 address as
 * the kernel lists them (the address the node was given at boot comes before a VIP that IPaddr2
 * adds later; not so if the node's own address is removed and added again while a VIP is there:
 * give an address then), else its first IPv6 address that is not
 * link-local (one of those would need a scope). `missing: 'interface'` when this node has no such
 * interface, `missing: 'address'` when it has one with no usable address. Never throws.
 */
export function interfaceAddress(name: string): InterfaceAddress {
  let entries: ReturnType<typeof networkInterfaces>[string];
  try {
    entries = networkInterfaces()[name];
  } catch {
    entries = undefined;
  }
  if (!entries?.length) return { missing: interfaceExists(name) ? 'address' : 'interface' };
  const v4 = entries.find((entry) => entry.family === 'IPv4');
  if (v4) return { address: v4.address };
  const v6 = entries.find((entry) => entry.family === 'IPv6' && !/^fe[89ab]/i.test(entry.address));
  return v6 ? { address: v6.address } : { missing: 'address' };
}

/** Is there an interface NAME (or, for an alias label "eth0:1", its device "eth0") in this network namespace? */
function interfaceExists(name: string): boolean {
  const device = name.split(':')[0]!;
  try {
    return readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).some((line) => line.split(':')[0]!.trim() === device);
  } catch {
    return false;
  }
}
