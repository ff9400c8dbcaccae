// Address syntax as operators write it in parameters and configuration files. Pure parsing, no
// node:net: its import costs a monitor about 12 ms in the binary (measured).

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Remove the brackets operators put around IPv6 literals ("[::1]"). */
export function unbracket(address: string): string {
  return address.replace(/^\[(.*)\]$/, '$1');
}

/** An IPv4 dotted quad as a 32-bit number; undefined when it is not one. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** An IPv6 literal as 32 lowercase hex digits (the /proc/net/if_inet6 form); undefined when it is not one. */
export function parseIPv6(text: string): string | undefined {
  let bare = unbracket(text).replace(/%[^%]+$/, '');
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const tail = /:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (tail) {
    const v4 = parseIPv4(tail[1]!);
    if (v4 === undefined) return undefined;
    bare = `${bare.slice(0, tail.index)}:${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = bare.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (!all.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  return all.map((group) => group.toLowerCase().padStart(4, '0')).join('');
}

export type AddressFamily = 'ipv4' | 'ipv6';

const V4_MAPPED = '00000000000000000000ffff';

/** The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:1.2.3.4): the kernel treats it as IPv4. */
function mappedIPv4(address: string): string | undefined {
  const v6 = parseIPv6(address);
  if (v6 === undefined || !v6.startsWith(V4_MAPPED)) return undefined;
  const value = parseInt(v6.slice(24), 16);
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** The address in its kernel form: unbracketed, and IPv4-mapped IPv6 as plain IPv4. */
export function kernelForm(address: string): string {
  const bare = unbracket(address.trim());
  return mappedIPv4(bare) ?? bare;
}

/** The family of an IP literal; undefined for anything else (a host name). */
export function addressFamily(address: string): AddressFamily | undefined {
  if (parseIPv4(address) !== undefined) return 'ipv4';
  if (parseIPv6(address) !== undefined) return 'ipv6';
  return undefined;
}

/** The wildcard addresses: binding them needs nothing. */
export function isWildcard(address: string): boolean {
  const bare = unbracket(address.trim());
  return bare === '' || bare === '*' || bare === '0.0.0.0' || parseIPv6(bare) === '0'.repeat(32);
}

/** An IPv4 or IPv6 literal (brackets allowed around IPv6), or a host name. */
export function isAddressOrHostname(text: string): boolean {
  return addressFamily(unbracket(text)) !== undefined || HOSTNAME.test(text);
}
