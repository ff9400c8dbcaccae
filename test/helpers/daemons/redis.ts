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

async function launch(t: ExecutionContext, port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  t.teardown(async () => {
    kill(child.pid, 'SIGKILL');
    await waitFor(() => !isAlive(child.pid!), 5000);
  });
  const until = Date.now() + 10_000;
  while (!(await answersPing(port))) {
    if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

export async function startRedis(t: ExecutionContext): Promise<RedisServer> {
  const dir = scratchDir(t, 'ocf-redis-');
  const port = await freePort();
  let child = await launch(t, port, dir);
  const server = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() { return child.pid!; },
    async stop() {
      const pid = child.pid!;
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
