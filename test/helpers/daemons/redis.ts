// A real redis-server for one test: a free loopback port, no persistence, a scratch directory,
// killed at teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import type { ExecutionContext } from 'ava';
import { freePort, scratchDir } from '../agent.ts';
import { isAlive, kill, waitFor } from '../processes.ts';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Stop it (SIGKILL) and wait until it is gone. */
  stop(): Promise<void>;
  /** Start it again on the same port, empty (nothing was saved). */
  restart(): Promise<void>;
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let received = '';
    socket.setTimeout(1000, () => { socket.destroy(); resolve(false); });
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      received += chunk;
      if (received.includes('\r\n')) { socket.destroy(); resolve(received.startsWith('+PONG')); }
    });
    socket.on('error', () => resolve(false));
  });
}

/** Redis exited before it answered: its port was taken between freePort() and its bind (tests run in parallel). */
class RedisExited extends Error {}

async function launch(t: ExecutionContext, port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output = (output + chunk.toString()).slice(-2000); });
  let exited: string | undefined;
  child.on('exit', (code, signal) => { exited = `exit ${code ?? signal}`; });
  t.teardown(async () => {
    kill(child.pid, 'SIGKILL');
    await waitFor(() => !isAlive(child.pid!), 5000);
  });
  // 30 s: a ceilometer test file starts a dozen Python agents at once, and on 2 cores (Debian 13's
  // root, 2026-11-30) a Redis that said "Ready" did not answer within 10 s while they loaded.
  const until = Date.now() + 30_000;
  while (!(await answersPing(port))) {
    if (exited) throw new RedisExited(`redis-server on port ${port} exited (${exited}): ${output.trim().split('\n').pop() ?? ''}`);
    if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer PING within 30 s: ${output.trim().split('\n').pop() ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

export async function startRedis(t: ExecutionContext): Promise<RedisServer> {
  const dir = scratchDir(t, 'ocf-redis-');
  let port = await freePort();
  let child: ChildProcess | undefined;
  // Another test may take the free port before Redis binds it: a fresh port then, at most three times.
  for (let attempt = 1; !child; attempt++) {
    try {
      child = await launch(t, port, dir);
    } catch (error) {
      if (!(error instanceof RedisExited) || attempt === 3) throw error;
      port = await freePort();
    }
  }
  const server = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() { return child!.pid!; },
    async stop() {
      const pid = child!.pid!;
      kill(pid, 'SIGKILL');
      await waitFor(() => !isAlive(pid), 5000);
    },
    async restart() {
      child = await launch(t, port, dir);
    },
  };
  return server;
}

/** One Redis command through redis-cli, its output as text. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { runProgram } = await import('../agent.ts');
  const result = await runProgram('/usr/bin/redis-cli', ['-p', String(port), ...args]);
  return result.output.trim();
}
