import test from 'ava';
import { readFileSync } from 'node:fs';
import { addressFamily, isAddressOrHostname, isWildcard, parseIPv4, parseIPv6 } from '../../shared/net/address.ts';
import { isLocalAddress, nonLocalBindAllowed, nonLocalBindSysctl, vipProblem } from '../../shared/net/vip.ts';

test('IPv4 and IPv6 literals are parsed into their kernel forms; anything else is not an address', (t) => {
  t.is(parseIPv4('192.0.2.1'), 0xc0000201);
  t.is(parseIPv4('256.0.0.1'), undefined);
  t.is(parseIPv4('1.2.3'), undefined);
  t.is(parseIPv4('01.2.3.4x'), undefined);
  t.is(parseIPv6('::1'), `${'0'.repeat(31)}1`);
  t.is(parseIPv6('[fd00:10::10]'), 'fd000010000000000000000000000010');
  t.is(parseIPv6('FE80::1%eth0'), 'fe800000000000000000000000000001');
  t.is(parseIPv6('::ffff:1.2.3.4'), '00000000000000000000ffff01020304');
  t.is(parseIPv6('1:2:3:4:5:6:7:8'), '00010002000300040005000600070008');
  t.is(parseIPv6('1:2:3:4:5:6:7:8::'), undefined);
  t.is(parseIPv6('1::2::3'), undefined);
  t.is(parseIPv6('12345::'), undefined);
  t.is(addressFamily('controller.example'), undefined);
  t.is(addressFamily('10.0.0.1'), 'ipv4');
  t.is(addressFamily('2001:db8::1'), 'ipv6');
});

test('wildcards need nothing', (t) => {
  for (const wildcard of ['*', '0.0.0.0', '::', '[::]', '', '0:0:0:0:0:0:0:0']) {
    t.true(isWildcard(wildcard), wildcard);
    t.is(vipProblem(wildcard), undefined, wildcard);
  }
  t.false(isWildcard('127.0.0.1'));
});

test('loopback addresses are local in the kernel view, including the whole local 127.0.0.0/8 route', (t) => {
  t.true(isLocalAddress('127.0.0.1'));
  t.true(isLocalAddress('127.45.6.7'));
  t.is(vipProblem('127.0.0.1'), undefined);
  const hasIPv6Loopback = readFileSync('/proc/net/if_inet6', 'utf8').split('\n').some((line) => line.startsWith(`${'0'.repeat(31)}1 `));
  t.is(isLocalAddress('::1'), hasIPv6Loopback);
  t.is(isLocalAddress('[::1]'), hasIPv6Loopback);
});

test('an address on no interface here is usable only with the family\'s ip_nonlocal_bind', (t) => {
  // TEST-NET-2 and the IPv6 documentation prefix: never assigned on a build machine.
  for (const [address, sysctl] of [['198.51.100.77', 'net.ipv4.ip_nonlocal_bind'], ['2001:db8::77', 'net.ipv6.ip_nonlocal_bind'], ['::ffff:198.51.100.77', 'net.ipv4.ip_nonlocal_bind']] as const) {
    t.false(isLocalAddress(address), address);
    t.is(nonLocalBindSysctl(address), sysctl);
    const allowed = readFileSync(`/proc/sys/${sysctl.replaceAll('.', '/')}`, 'utf8').trim() === '1';
    t.is(nonLocalBindAllowed(address), allowed);
    const problem = vipProblem(address);
    if (allowed) {
      t.is(problem, undefined);
    } else {
      t.true(problem?.startsWith(`address ${address} is not assigned to any interface of this node and ${sysctl} is 0`), problem);
      t.regex(problem ?? '', /pcs constraint colocation add .* with .*; pcs constraint order start .* then /);
    }
  }
});

test('host names are not resolved and not checked', (t) => {
  t.false(isLocalAddress('localhost'));
  t.is(vipProblem('controller.example'), undefined);
});

test('address syntax: IP literals (bracketed or not) and host names, nothing else', (t) => {
  for (const good of ['10.0.0.11', '[fd00::1]', 'fd00::1', '::', 'controller-1.example.org', 'localhost', '::ffff:10.0.0.1']) t.true(isAddressOrHostname(good), good);
  for (const bad of ['', '10.0.0.256:80', 'a b', 'host;rm -rf /', '-l', '[::1', 'under_score']) t.false(isAddressOrHostname(bad), bad);
});
