// canReach: whether a service account can stat a file the agent writes for it (uwsgi's chain
// reload file beside the pidfile): every directory above must let it through.
import test from 'ava';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canReach } from '../../shared/process/users.ts';

const NOBODY = { uid: 65534, gid: 65534 };

test('a file is reachable when every directory above lets the account through: as anyone, as its owner, as its group', (t) => {
  const top = mkdtempSync(join(tmpdir(), 'ocf-reach-'));
  t.teardown(() => rmSync(top, { recursive: true, force: true }));
  const dir = join(top, 'rsctmp');
  mkdirSync(dir);
  const file = join(dir, 'keystone-p.pid.chain-reload');
  chmodSync(top, 0o755);
  chmodSync(dir, 0o1755); // as /run/resource-agents
  t.true(canReach(file, NOBODY));
  chmodSync(dir, 0o700); // as mkdtemp makes it
  t.false(canReach(file, NOBODY));
  t.true(canReach(file, { uid: 0, gid: 0 }), 'root goes everywhere');
  chownSync(dir, NOBODY.uid, 0);
  t.true(canReach(file, NOBODY), 'its owner, with u+x');
  chownSync(dir, 0, NOBODY.gid);
  chmodSync(dir, 0o710);
  t.true(canReach(file, NOBODY), 'its group, with g+x');
  chmodSync(top, 0o700);
  t.false(canReach(file, NOBODY), 'a directory further up closes the way');
  t.false(canReach(join(top, 'missing', 'file'), NOBODY), 'a directory that does not exist');
});
