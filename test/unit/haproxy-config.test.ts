import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../helpers/agent.ts';
import { bindAddresses, configWords, haproxyTimeMs, parseBindAddress, readSoftStopFacts, softStopFacts } from '../../shared/config/haproxy.ts';

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

test('HAProxy times: milliseconds by default, units us to d; anything else unknown', (t) => {
  t.is(haproxyTimeMs('500'), 500);
  t.is(haproxyTimeMs('3s'), 3000);
  t.is(haproxyTimeMs('2m'), 120_000);
  t.is(haproxyTimeMs('1500us'), 1.5);
  t.is(haproxyTimeMs('1h'), 3_600_000);
  t.is(haproxyTimeMs('3 s'), undefined);
  t.is(haproxyTimeMs('-1s'), undefined);
  t.is(haproxyTimeMs('3x'), undefined);
});

test('soft stop facts: the last grace read wins, one it does not take as Infinity; TCP only while the TCP table shows every socket', (t) => {
  const frontend = 'frontend api\n    bind 192.0.2.10:5000,[::1]:5000\n    server ctl1 192.0.2.12:5000 check\n';
  t.deepEqual(softStopFacts(`global\n    daemon\n${frontend}`), { graceMs: 0, tcpOnly: true });
  t.deepEqual(softStopFacts(`global\n    grace 500 # ms\n    grace 3s\n${frontend}`), { graceMs: 3000, tcpOnly: true });
  t.deepEqual(softStopFacts(`global\n    grace 1m30s\n${frontend}`), { graceMs: Infinity, tcpOnly: true });
  t.deepEqual(softStopFacts(`global\n    # grace 3s\n${frontend}`), { graceMs: 0, tcpOnly: true });
  for (const bind of ['/run/haproxy/api.sock', 'unix@/run/api.sock', 'uxst@/run/api.sock', 'uxdg@/run/log.sock', 'abns@api', 'abnsz@api',
    'quic4@192.0.2.10:443', 'udp@192.0.2.10:514', 'mptcp4@192.0.2.10:80', 'ipv4@192.0.2.10:80,fd@3']) {
    t.false(softStopFacts(`${frontend}frontend other\n    bind ${bind}\n`).tcpOnly, bind);
  }
  for (const line of ['bind 192.0.2.11:80 namespace api', 'server ctl2 192.0.2.13:5000 namespace backends', 'default-server namespace backends']) {
    t.false(softStopFacts(`${frontend}    ${line}\n`).tcpOnly, line);
  }
  t.true(softStopFacts(`${frontend}frontend other\n    bind ipv4@192.0.2.11:80,tcp6@[::1]:81\n`).tcpOnly);
});

test('soft stop facts of every file HAProxy reads: files and the .cfg files of a directory; undefined when one cannot be read', (t) => {
  const dir = scratchDir(t, 'haproxy-facts-');
  writeFileSync(join(dir, 'haproxy.cfg'), 'global\n    daemon\nfrontend api\n    bind 192.0.2.10:5000\n');
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(join(dir, 'conf.d', '10-grace.cfg'), 'global\n    grace 2s\n');
  writeFileSync(join(dir, 'conf.d', '20-stats.cfg.disabled'), 'frontend stats\n    bind /run/stats.sock\n');
  t.deepEqual(readSoftStopFacts([join(dir, 'haproxy.cfg')]), { graceMs: 0, tcpOnly: true });
  t.deepEqual(readSoftStopFacts([join(dir, 'haproxy.cfg'), join(dir, 'conf.d')]), { graceMs: 2000, tcpOnly: true });
  writeFileSync(join(dir, 'conf.d', '30-stats.cfg'), 'frontend stats\n    bind /run/stats.sock\n');
  t.deepEqual(readSoftStopFacts([join(dir, 'haproxy.cfg'), join(dir, 'conf.d')]), { graceMs: 2000, tcpOnly: false });
  t.is(readSoftStopFacts([join(dir, 'haproxy.cfg'), join(dir, 'missing.cfg')]), undefined);
});
