// Address syntax as operators write it in parameters.
import { isIP } from 'node:net';

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An IPv4 or IPv6 literal (brackets allowed around IPv6), or a host name. */
export function isAddressOrHostname(text: string): boolean {
  const bare = text.replace(/^\[(.*)\]$/, '$1');
  return isIP(bare) !== 0 || HOSTNAME.test(text);
}
