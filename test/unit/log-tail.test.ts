// What of a daemon's own log the agents show (exit reasons): the part since a launch, bounded, and
// never a URL's password, known or not.
import test from 'ava';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../helpers/agent.ts';
import { withoutUrlUserinfo } from '../../shared/ocf/credentials.ts';
import { lastLogLine, logSince, logSize } from '../../shared/process/supervise.ts';

test('a URL\'s userinfo is blanked wherever it stands in a line', (t) => {
  t.is(withoutUrlUserinfo("(sqlite3.OperationalError) connecting to 'mysql+pymysql://keystone:s3cr%40t@db.example/keystone' failed"),
    "(sqlite3.OperationalError) connecting to 'mysql+pymysql://****@db.example/keystone' failed");
  t.is(withoutUrlUserinfo('rabbit://a:b@h1:5672,c:d@h2:5672/ and redis://:pw@192.0.2.10:6379'), 'rabbit://****@h2:5672/ and redis://****@192.0.2.10:6379');
  t.is(withoutUrlUserinfo('GET http://192.0.2.10:5000/v3 answered 500'), 'GET http://192.0.2.10:5000/v3 answered 500');
});

test('the log since a size taken before a launch; all of it after a truncation; at most maxBytes; userinfo blanked', (t) => {
  const dir = scratchDir(t, 'log-tail-');
  const log = join(dir, 'keystone.log');
  t.is(logSize(log), 0, 'no file yet: from its start');
  writeFileSync(log, 'an earlier run\n');
  const from = logSize(log);
  appendFileSync(log, 'connection = mysql+pymysql://keystone:pw@db/keystone\nDAMN ! worker 1 (pid: 7) died :( trying respawn ...\n');
  t.is(logSince(log, from), 'connection = mysql+pymysql://****@db/keystone\nDAMN ! worker 1 (pid: 7) died :( trying respawn ...\n');
  t.is(lastLogLine(log), 'DAMN ! worker 1 (pid: 7) died :( trying respawn ...');
  t.is(logSince(log, from, 10), 'spawn ...\n');
  writeFileSync(log, 'rotated\n');
  t.is(logSince(log, from), 'rotated\n', 'shorter than the offset: truncated by a rotation, read from its start');
  t.is(logSince(join(dir, 'missing.log')), undefined);
});
