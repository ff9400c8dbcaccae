// Run meta-data and monitor in this process and print every module specifier resolved on the way,
// one per line. Used by test/unit/hot-path.test.ts to prove the hot path leaves yargs and execa alone.
// Usage: node trace-hot-path.ts AGENT  (OCF_* variables from the environment)
import { registerHooks } from 'node:module';

const resolved: string[] = [];
registerHooks({
  resolve(specifier, context, nextResolve) {
    resolved.push(specifier);
    return nextResolve(specifier, context);
  },
});

const agentName = process.argv[2] ?? 'memcached';
const { loadAgent, isAgentName } = await import('../../agents/index.ts');
const { runAgent } = await import('../../shared/ocf/run.ts');
if (!isAgentName(agentName)) throw new Error(`no agent ${agentName}`);
const agent = await loadAgent(agentName);
const silent = { stdout: () => undefined, stderr: () => undefined };
const codes = [
  await runAgent(agent, 'meta-data', process.env, silent),
  await runAgent(agent, 'monitor', process.env, silent),
];
process.stdout.write(`${JSON.stringify({ codes, resolved })}\n`);
