// backend_url parsing, group names, RESP and MONITOR parsing, /proc/net/tcp decoding.
import test from 'ava';
import { clientKey, parseBackendUrl, partitioningGroup } from '../../shared/coordination/tooz.ts';
import { encodeCommand, parseMonitorLine, parseReplies, RedisError } from '../../shared/net/redis.ts';
import { decodeAddress, parseTcpTable, tcpConnectionsOf } from '../../shared/net/tcp-connections.ts';

test('backend URLs as tooz takes them', (t) => {
  const redis = parseBackendUrl('redis://:s3cret@10.0.0.5:6380?db=2&timeout=10');
  t.is(redis.kind, 'redis');
  if (redis.kind === 'redis') {
    t.deepEqual(redis.target, { host: '10.0.0.5', port: 6380, password: 's3cret', db: 2 });
    t.is(redis.membershipTimeoutMs, 10_000);
    t.false(redis.shown.includes('s3cret'));
  }
  const memcached = parseBackendUrl('memcached://[::1]');
  t.like(memcached, { kind: 'memcached', host: '::1', port: 11211, membershipTimeoutMs: 30_000 });
  t.like(parseBackendUrl('zookeeper://zk1:2181'), { kind: 'other' });
  t.like(parseBackendUrl('redis://h:6379?sentinel=mymaster'), { kind: 'other' });
  t.throws(() => parseBackendUrl('redis://h:port'), { message: /not a valid URL/ });
  t.throws(() => parseBackendUrl('localhost:6379'), { message: /not a URL/ });
  t.throws(() => parseBackendUrl('redis://h?timeout=soon'), { message: /timeout=soon/ });
});

test('memcached timeouts as tooz reads them: int() seconds, the last non-blank value, beats every half of the smallest', (t) => {
  t.like(parseBackendUrl('memcached://h'), { membershipTimeoutMs: 30_000, membershipOption: 'timeout', heartbeatIntervalMs: 15_000 });
  t.like(parseBackendUrl('memcached://h?timeout=3'), { membershipTimeoutMs: 3000, heartbeatIntervalMs: 1500 });
  // membership_timeout alone: leader and lock keep 30 s, the beat follows the smallest.
  t.like(parseBackendUrl('memcached://h?membership_timeout=10'), { membershipTimeoutMs: 10_000, membershipOption: 'membership_timeout', heartbeatIntervalMs: 5000 });
  t.like(parseBackendUrl('memcached://h?membership_timeout=10&lock_timeout=4'), { membershipTimeoutMs: 10_000, heartbeatIntervalMs: 2000 });
  t.like(parseBackendUrl('memcached://h?timeout=30&timeout=2'), { membershipTimeoutMs: 2000 }, 'the last value, as tooz.utils.collapse');
  t.like(parseBackendUrl('memcached://h?timeout='), { membershipTimeoutMs: 30_000 }, 'a blank value is dropped, as parse_qs does');
  for (const bad of ['timeout=2.5', 'timeout=1e1', 'timeout=0x1e', 'lock_timeout=0', 'leader_timeout=2592001']) {
    t.throws(() => parseBackendUrl(`memcached://h?${bad}`), { message: /is not a whole number of seconds from 1 to 2592000 \(tooz reads it with int\(\)\)/ }, bad);
  }
  // Redis keeps fractions (its driver reads membership_timeout with float()).
  t.like(parseBackendUrl('redis://h?membership_timeout=2.5'), { membershipTimeoutMs: 2500 });
});

test('partitioning group names follow ceilometer', (t) => {
  t.is(partitioningGroup(['central'], 'X', 'global'), 'central-X-global');
  t.is(partitioningGroup(['compute', 'central'], '', 'global'), 'central-compute-global');
  t.is(clientKey('::ffff:127.0.0.1', 5), '127.0.0.1:5');
  t.is(clientKey('[::1]', 5), '::1:5');
});

test('RESP: commands in bytes, replies incomplete until whole', (t) => {
  t.is(encodeCommand(['GET', 'é']), '*2\r\n$3\r\nGET\r\n$2\r\né\r\n');
  t.is(parseReplies(':1\r\n$5\r\nhel', 2), undefined);
  const replies = parseReplies(':1\r\n$5\r\nhello\r\n$-1\r\n-ERR no\r\n*2\r\n+OK\r\n:-2\r\n', 5)!;
  t.deepEqual(replies.slice(0, 3), [1, 'hello', null]);
  t.true(replies[3] instanceof RedisError);
  t.deepEqual(replies[4], ['OK', -2]);
});

test('MONITOR lines give the client and the words', (t) => {
  t.deepEqual(parseMonitorLine('1795360604.782338 [0 127.0.0.1:58198] "PSETEX" "_tooz_beats:e9" "30000" "Not dead!"'),
    { client: '127.0.0.1:58198', words: ['PSETEX', '_tooz_beats:e9', '30000', 'Not dead!'] });
  t.is(parseMonitorLine('+OK'), undefined);
});

test('/proc/net/tcp rows decode; our own test connection is found', async (t) => {
  t.is(decodeAddress('0100007F'), '127.0.0.1');
  t.is(decodeAddress('00000000000000000000000001000000'), '::1');
  const rows = parseTcpTable('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 12345 1\n');
  t.like(rows[0], { localAddress: '127.0.0.1', localPort: 8080, remotePort: 54321, state: 'ESTABLISHED', inode: '12345' });
  const { createServer, connect } = await import('node:net');
  const server = createServer((socket) => socket.on('data', () => undefined));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const client = connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => client.on('connect', resolve));
  t.teardown(() => client.destroy());
  const mine = tcpConnectionsOf([process.pid]).filter((c) => c.remotePort === port);
  t.is(mine.length, 1);
  t.like(mine[0], { state: 'ESTABLISHED', localPort: client.localPort, pid: process.pid });
});

test('a backend URL is shown without its password, whatever characters the password has', (t) => {
  for (const password of ['Zq;8x=Lm', 'a b', 'p^|{}[]\\x', 'pässwörd', 'S3cret']) {
    const url = `redis://:${password}@192.0.2.7:6379?db=1`;
    const backend = parseBackendUrl(url);
    t.is(backend.shown, 'redis://:****@192.0.2.7:6379?db=1', password);
    t.false(backend.shown.includes(encodeURIComponent(password)), password);
    if (backend.kind === 'redis') t.is(backend.target.password, password);
  }
  t.is(parseBackendUrl('redis://tooz:Zq;8x=Lm@192.0.2.7?password=other').shown, 'redis://tooz:****@192.0.2.7?password=****');
});

test('a backend URL the parser refuses or whose host is invalid never puts its password in the reason', (t) => {
  const invalidHost = t.throws(() => parseBackendUrl('redis://:S3cret@redis_1.internal:6379'));
  t.regex(invalidHost.message, /invalid host/);
  t.false(invalidHost.message.includes('S3cret'));
  const refused = t.throws(() => parseBackendUrl('redis://:Zq;8x=Lm@h:port'));
  t.regex(refused.message, /not a valid URL/);
  t.false(refused.message.includes('Zq;8x=Lm'));
  t.true(refused.message.includes('h:port'), 'the rest of the URL is still shown');
  const noScheme = t.throws(() => parseBackendUrl(':S3cret@h:6379'));
  t.false(noScheme.message.includes('S3cret'));
});

test('a backend URL keeps a port that http would call its default', (t) => {
  t.like(parseBackendUrl('memcached://192.0.2.7:80'), { kind: 'memcached', port: 80 });
});
