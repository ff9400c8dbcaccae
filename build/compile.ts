// npm run build: compile the one self-contained binary with bun and lay out the OCF tree
// dist/resource.d/openstack/, one symlink per agent (the binary picks the agent by argv0).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentNames } from '../agents/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// OCF_OPENSTACK_DIST puts a build elsewhere (the tests read the same variable).
const dist = process.env.OCF_OPENSTACK_DIST ?? join(root, 'dist');
const binary = join(dist, 'ocf-openstack');
const providerDir = join(dist, 'resource.d', 'openstack');

rmSync(dist, { recursive: true, force: true });
mkdirSync(providerDir, { recursive: true });
execFileSync(
  join(root, 'node_modules', '.bin', 'bun'),
  ['build', '--compile', '--minify', '--bytecode', '--splitting', '--format=esm', '--target=bun-linux-x64', join(root, 'shared', 'entry', 'main.ts'), '--outfile', binary],
  { stdio: 'inherit', cwd: root },
);
for (const agent of agentNames) symlinkSync('../../ocf-openstack', join(providerDir, agent));
process.stdout.write(`built ${binary} with agents: ${agentNames.join(', ')}\n`);
