// A stand-in for Pacemaker's attribute daemon in integration tests: an `attrd_updater` on PATH that
// keeps each node's value of each attribute in a scratch directory, so the agents' evidence plumbing
// (publish, query every node) runs without a cluster. The three-node e2e runs the real one.
import type { ExecutionContext } from 'ava';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from './agent.ts';

export interface FakeAttrd {
  /** Variables for the agent: PATH with the stand-in first, and this node's name as Pacemaker gives it. */
  readonly env: Record<string, string>;
  /** Set a peer's value, as that peer's agent would have published it. */
  set(node: string, name: string, value: string): void;
  /** Every node's value of an attribute. */
  values(name: string): Record<string, string>;
}

export function fakeAttrd(t: ExecutionContext, self = 'node1'): FakeAttrd {
  const dir = scratchDir(t, 'ocf-fake-attrd-');
  const state = join(dir, 'state');
  writeFileSync(join(dir, 'attrd_updater'), `#!/bin/sh
# attrd_updater -p -n NAME -U VALUE | attrd_updater -n NAME -Q -A
name=; value=; query=
while [ $# -gt 0 ]; do
  case "$1" in -n) name=$2; shift ;; -U) value=$2; shift ;; -Q) query=1 ;; esac
  shift
done
mkdir -p '${state}'
if [ -n "$query" ]; then
  for f in '${state}'/"$name".*; do
    [ -e "$f" ] && printf 'name="%s" host="%s" value="%s"\\n' "$name" "\${f##*.}" "$(cat "$f")"
  done
  exit 0
fi
printf '%s' "$value" > '${state}'/"$name.${self}"
`, { mode: 0o755 });
  return {
    env: { PATH: `${dir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`, OCF_RESKEY_CRM_meta_on_node: self, OCF_RESKEY_CRM_meta_clone_max: '3' },
    set: (node, name, value) => {
      mkdirSync(state, { recursive: true });
      writeFileSync(join(state, `${name}.${node}`), value);
    },
    values: (name) => {
      const result: Record<string, string> = {};
      let files: string[] = [];
      try {
        files = readdirSync(state).filter((f) => f.startsWith(`${name}.`));
      } catch {
        // nothing published yet
      }
      for (const file of files) result[file.slice(name.length + 1)] = readFileSync(join(state, file), 'utf8');
      return result;
    },
  };
}
