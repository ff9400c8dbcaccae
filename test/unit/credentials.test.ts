// Credentials found in URLs and configuration options, as the logger must blank them out.
import test from 'ava';
import { configCredentials, urlPasswords, urlWithoutUserinfo } from '../../shared/ocf/credentials.ts';
import { parseOsloIni } from '../../shared/config/oslo-ini.ts';
import { Logger, type LogSinks } from '../../shared/ocf/log.ts';

test('passwords in URLs, as written and percent-decoded', (t) => {
  t.deepEqual(urlPasswords('redis://:Zq;8x=Lm@192.0.2.7:6379'), ['Zq;8x=Lm']);
  t.deepEqual(urlPasswords('redis://:p%40ss%3Bw@h:6379'), ['p%40ss%3Bw', 'p@ss;w']);
  t.deepEqual(urlPasswords('redis://h:6379'), []);
  t.deepEqual(urlPasswords('redis://user@h:6379'), [], 'a user name alone is no secret');
  t.deepEqual(urlPasswords('not a url'), []);
  // oslo.messaging: several hosts, each with its own credentials.
  const rabbit = urlPasswords('rabbit://ceilometer:R4b;b=1t@192.0.2.1:5672,ceilometer:Sec%20ond@192.0.2.2:5672/vhost');
  t.true(rabbit.includes('R4b;b=1t'));
  t.true(rabbit.includes('Sec%20ond') && rabbit.includes('Sec ond'));
  // An unencoded "/" or "#" ends the parsers' authority early: the whole tail is a secret too.
  t.true(urlPasswords('redis://:ab/cd#ef@h:6379').includes('ab/cd#ef'));
  t.true(urlPasswords('redis://h:6379?sentinel=m&sentinel_password=Sn;t').includes('Sn;t'));
});

test('a refused URL is shown without what precedes its last "@"', (t) => {
  t.is(urlWithoutUserinfo('redis://:S3cret@redis_1.internal:6379'), 'redis://****@redis_1.internal:6379');
  t.is(urlWithoutUserinfo('redis://h:port'), 'redis://h:port');
  t.false(urlWithoutUserinfo(':S3cret@h').includes('S3cret'));
});

test('every credential of a ceilometer.conf is found: transport_url, backend_url, password options', (t) => {
  const config = parseOsloIni([
    '[DEFAULT]',
    'transport_url = rabbit://openstack:Tr;an=sp0rt@192.0.2.1:5672,openstack:Tr%7Bsec%7D@192.0.2.2:5672/',
    '[coordination]',
    'backend_url = redis://:Zq;8x=Lm@192.0.2.7:6379',
    '[service_credentials]',
    'auth_type = password',
    'username = ceilometer',
    'password = Serv1ce^Pw',
    '[identity]',
    'password_hash_algorithm = bcrypt',
  ].join('\n'));
  const found = configCredentials([...config.values()].flatMap((options) => [...options]));
  for (const secret of ['Tr;an=sp0rt', 'Tr%7Bsec%7D', 'Tr{sec}', 'Zq;8x=Lm', 'Serv1ce^Pw']) t.true(found.includes(secret), secret);
  for (const plain of ['password', 'ceilometer', 'bcrypt']) t.false(found.includes(plain), plain);

  const lines: string[] = [];
  const sinks: LogSinks = { writeStderr: (line) => lines.push(line), appendFile: () => undefined, syslog: async () => undefined };
  const log = new Logger({ facility: undefined, file: undefined, debugFile: undefined, debug: false, dateFormat: '', tag: 't' }, sinks, false);
  for (const secret of found) log.addSecret(secret);
  log.error('transport rabbit://openstack:Tr;an=sp0rt@192.0.2.1:5672 and Tr{sec}; backend :Zq;8x=Lm@');
  t.is(lines[0], 'ERROR: transport rabbit://openstack:****@192.0.2.1:5672 and ****; backend :****@');
});
