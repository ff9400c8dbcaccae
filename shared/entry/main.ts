// The multi-call binary: invoked through a symlink named after an agent, it is that agent;
// invoked as ocf-openstack, it is the command for people (yargs, loaded only then).
import { basename } from 'node:path';
import { isAgentName, loadAgent } from '../../agents/index.ts';
import { writeStderr } from '../ocf/output.ts';
import { runAgent } from '../ocf/run.ts';

async function main(): Promise<number> {
  const invokedAs = basename(process.argv0 || process.argv[1] || '');
  const args = process.argv.slice(2);
  if (isAgentName(invokedAs)) return runAgent(await loadAgent(invokedAs), args[0], process.env);
  const { runCli } = await import('./cli.ts');
  return runCli(args);
}

// The promise chain rather than top-level await keeps the entry usable in any module format.
void main()
  .catch((error: unknown) => {
    writeStderr(`ocf-exit-reason:${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  })
  .then((code) => process.exit(code)); // all output was written synchronously (shared/ocf/output.ts)
