import test from 'ava';
import { bindAddresses, configWords, parseBindAddress } from '../../shared/config/haproxy.ts';

test('bind elements as HAProxy reads them: port after the last colon, brackets, family prefixes', (t) => {
  t.deepEqual(parseBindAddress(':80'), { address: '', port: '80' });
  t.deepEqual(parseBindAddress('*:80'), { address: '', port: '80' });
  t.deepEqual(parseBindAddress('192.0.2.10:8000-8010'), { address: '192.0.2.10', port: '8000-8010' });
  t.deepEqual(parseBindAddress('[::1]:443'), { address: '::1', port: '443' });
  t.deepEqual(parseBindAddress(':::80'), { address: '::', port: '80' });
  t.deepEqual(parseBindAddress('fd00::10:80'), { address: 'fd00::10', port: '80' });
  t.deepEqual(parseBindAddress('ipv6@[fd00::10]:80'), { address: 'fd00::10', port: '80' });
  t.deepEqual(parseBindAddress('ipv4@10.0.0.1:80'), { address: '10.0.0.1', port: '80' });
  t.deepEqual(parseBindAddress('quic4@10.0.0.1:443'), { address: '10.0.0.1', port: '443' });
  t.is(parseBindAddress('/run/haproxy/api.sock'), undefined);
  t.is(parseBindAddress('unix@/run/haproxy/api.sock'), undefined);
  t.is(parseBindAddress('abns@api'), undefined);
  t.is(parseBindAddress('fd@3'), undefined);
});

test('configuration words: comments, quotes and escapes', (t) => {
  t.deepEqual(configWords('  bind 10.0.0.1:80 ssl crt /a.pem # public API'), ['bind', '10.0.0.1:80', 'ssl', 'crt', '/a.pem']);
  t.deepEqual(configWords('# bind 10.0.0.1:80'), []);
  t.deepEqual(configWords(`http-request return string "a # b" 'c d' e\\ f`), ['http-request', 'return', 'string', 'a # b', 'c d', 'e f']);
});

test('every bind line of a configuration, with line numbers; Unix sockets and other keywords ignored', (t) => {
  const config = [
    'global',
    '    stats socket /run/haproxy/admin.sock mode 660 level admin',
    '    stats socket ipv4@127.0.0.1:9999 level admin',
    'frontend keystone_public',
    '    bind 192.0.2.10:5000,192.0.2.11:5001 transparent',
    '    bind [2001:db8::10]:5000 v6only',
    '#   bind 192.0.2.99:5000',
    '    bind :80',
    '    bind *:443 ssl crt /etc/haproxy/api.pem',
    '    bind /run/haproxy/local.sock mode 600',
    '    bind ipv6@:::8080',
    '    default_backend keystone',
    'backend keystone',
    '    server c1 192.0.2.21:5000 check',
  ].join('\n');
  t.deepEqual(bindAddresses(config), [
    { address: '192.0.2.10', port: '5000', line: 5 },
    { address: '192.0.2.11', port: '5001', line: 5 },
    { address: '2001:db8::10', port: '5000', line: 6 },
    { address: '', port: '80', line: 8 },
    { address: '', port: '443', line: 9 },
    { address: '::', port: '8080', line: 11 },
  ]);
  t.deepEqual(bindAddresses(''), []);
});
