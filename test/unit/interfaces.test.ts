import test from 'ava';
import { interfaceAddress, interfaceNameProblem, namedInterface } from '../../shared/net/interfaces.ts';

test('"interface:NAME" names an interface; an address or a host name does not', (t) => {
  t.is(namedInterface('interface:eth1'), 'eth1');
  t.is(namedInterface('interface:eth0:1'), 'eth0:1');
  t.is(namedInterface('interface:'), '');
  for (const value of ['192.0.2.11', 'fd00:10::11', '[::1]', 'controller1', 'controller1.example.org', '']) t.is(namedInterface(value), undefined, value);
});

test('interface names as Linux allows them: 1 to 15 bytes, no "/", whitespace or NUL, not "." or ".."', (t) => {
  for (const name of ['eth1', 'ens3', 'bond0.100', 'br-mgmt', 'eth0:1', 'a', '0123456789abcde']) t.is(interfaceNameProblem(name), undefined, name);
  for (const name of ['', '0123456789abcdef', 'a/b', 'a b', 'a\tb', 'a\0b', '.', '..', 'é'.repeat(8)]) t.truthy(interfaceNameProblem(name), JSON.stringify(name));
});

test('the loopback interface gives 127.0.0.1; an interface this machine lacks is missing', (t) => {
  t.deepEqual(interfaceAddress('lo'), { address: '127.0.0.1' });
  t.deepEqual(interfaceAddress('nosuchif0'), { missing: 'interface' });
});
