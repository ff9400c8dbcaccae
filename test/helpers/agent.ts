// Driving the compiled binary the way Pacemaker does: an OCF environment, one action, an exit code.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built tree; OCF_OPENSTACK_DIST lets a second build live beside the first. */
export const distDir = process.env.OCF_OPENSTACK_DIST ?? join(projectRoot, 'dist');
export const binaryPath = join(distDir, 'ocf-openstack');

export function agentPath(agent: string): string {
  return join(distDir, 'resource.d', 'openstack', agent);
}

export interface AgentCall {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The text after `ocf-exit-reason:`, when the agent gave one. */
  readonly reason: string | undefined;
  readonly elapsedMs: number;
}

export interface CallOptions {
  readonly instance: string;
  readonly rscTmp: string;
  readonly params?: Readonly<Record<string, string>>;
  /** OCF_RESKEY_CRM_meta_interval in ms; monitor with 0 is a probe. Default 10000. */
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
}

export function ocfEnvironment(agent: string, options: CallOptions): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    OCF_ROOT: '/usr/lib/ocf',
    OCF_RA_VERSION_MAJOR: '1',
    OCF_RA_VERSION_MINOR: '1',
    OCF_RESOURCE_TYPE: agent,
    OCF_RESOURCE_PROVIDER: 'openstack',
    OCF_RESOURCE_INSTANCE: options.instance,
    OCF_RESKEY_CRM_meta_interval: String(options.intervalMs ?? 10_000),
    OCF_RESKEY_CRM_meta_timeout: String(options.timeoutMs ?? 20_000),
    HA_RSCTMP: options.rscTmp,
    ...options.env,
  };
  for (const [name, value] of Object.entries(options.params ?? {})) env[`OCF_RESKEY_${name}`] = value;
  return env;
}

export function callAgent(agent: string, action: string, options: CallOptions): Promise<AgentCall> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(agentPath(agent), [action], { env: ocfEnvironment(agent, options), timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      const reason = /^ocf-exit-reason:(.*)$/m.exec(stderr)?.[1];
      resolve({ code, stdout, stderr, reason, elapsedMs: Date.now() - started });
    });
  });
}

/** A scratch directory that is removed when the test ends, pass or fail. */
export function scratchDir(t: ExecutionContext, prefix = 'ocf-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A TCP port nobody listens on right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface Program {
  readonly code: number | null;
  readonly output: string;
}

/** Run a program to its end (for ocf-tester, ip, sysctl); output is stdout and stderr together. */
export function runProgram(file: string, args: readonly string[], env?: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<Program> {
  return new Promise((resolve) => {
    const child = spawn(file, [...args], { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve({ code: -1, output: `${output}${error.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * ocf-tester from resource-agents, as operators run it. ocf-tester evaluates -o values in a
 * shell, so only plain values go through it.
 */
export function ocfTester(agent: string, instance: string, params: Readonly<Record<string, string>>, env: Readonly<Record<string, string>>): Promise<Program> {
  const args = ['-v', '-n', instance, ...Object.entries(params).flatMap(([name, value]) => ['-o', `${name}=${value}`]), agentPath(agent)];
  return runProgram('/usr/sbin/ocf-tester', args, { ...process.env, ...env });
}
