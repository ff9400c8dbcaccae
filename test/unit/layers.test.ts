// shared/'s folders are layers (shared/README.md): each imports only the folders below it, so the
// OCF runtime never depends on processes, the network or the agents. Read from the sources' own
// import lines, static and dynamic.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { projectRoot } from '../helpers/agent.ts';

const ALLOWED: Record<string, readonly string[]> = {
  ocf: [],
  process: ['ocf'],
  net: ['ocf'],
  config: ['ocf'],
  coordination: ['ocf', 'net'],
  cluster: ['ocf', 'process'],
  entry: ['ocf', 'process', 'net', 'config', 'coordination', 'cluster', 'agents'],
};

const shared = join(projectRoot, 'shared');

/** Where each relative import of `file` lands: the folder under shared/, or "agents", or another top-level folder. */
function importedFolders(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((match) => {
    const target = relative(projectRoot, resolve(dirname(file), match[1]!)).split('/');
    return target[0] === 'shared' ? target[1]! : target[0]!;
  });
}

test('every folder of shared/ is listed with what it may import, and holds no module at the top', (t) => {
  const entries = readdirSync(shared, { withFileTypes: true });
  t.deepEqual(entries.filter((e) => e.isDirectory()).map((e) => e.name).sort(), Object.keys(ALLOWED).sort());
  t.deepEqual(entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => e.name), []);
});

for (const [folder, allowed] of Object.entries(ALLOWED)) {
  test(`shared/${folder}/ imports only ${allowed.length ? allowed.join(', ') : 'itself'}`, (t) => {
    const files = readdirSync(join(shared, folder)).filter((name) => name.endsWith('.ts'));
    t.true(files.length > 0);
    for (const name of files) {
      const outside = importedFolders(join(shared, folder, name)).filter((target) => target !== folder && !allowed.includes(target) && target !== 'package.json');
      t.deepEqual(outside, [], `shared/${folder}/${name}`);
    }
  });
}
