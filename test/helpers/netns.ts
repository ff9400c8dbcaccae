// Network namespaces a test makes and always removes: a node of its own, whose addresses and
// sysctls (net.ipv4.ip_nonlocal_bind is per namespace) the test sets without touching the host.
import { execFile, spawn } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { agentPath, ocfEnvironment, runProgram, type AgentCall, type CallOptions, type Program } from './agent.ts';

let counter = 0;

export interface Namespace {
  readonly name: string;
}

async function ip(args: readonly string[]): Promise<Program> {
  const result = await runProgram('/usr/sbin/ip', args, undefined, 20_000);
  if (result.code !== 0) throw new Error(`ip ${args.join(' ')}: ${result.output.trim()}`);
  return result;
}

/** A fresh network namespace with its loopback up, deleted when the test ends. */
export async function networkNamespace(t: ExecutionContext): Promise<Namespace> {
  const name = `ocft-${process.pid}-${++counter}`;
  await ip(['netns', 'add', name]);
  t.teardown(async () => {
    await runProgram('/usr/sbin/ip', ['netns', 'delete', name], undefined, 20_000);
  });
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  return { name };
}

/** Add an address (with its prefix, "198.51.100.10/32" or "fd00:10::10/128") to the namespace's lo: the VIP arrives. */
export async function addAddress(ns: Namespace, cidr: string): Promise<void> {
  await ip(['-n', ns.name, 'address', 'add', cidr, 'dev', 'lo']);
}

/** The VIP leaves. */
export async function removeAddress(ns: Namespace, cidr: string): Promise<void> {
  await ip(['-n', ns.name, 'address', 'delete', cidr, 'dev', 'lo']);
}

/** Set a sysctl inside the namespace only (net.* sysctls are per network namespace). */
export async function setSysctl(ns: Namespace, name: string, value: string): Promise<void> {
  await ip(['netns', 'exec', ns.name, '/usr/sbin/sysctl', '-q', '-w', `${name}=${value}`]);
}

/** Run a program inside the namespace to its end. */
export function runIn(ns: Namespace, file: string, args: readonly string[], env?: NodeJS.ProcessEnv, timeoutMs?: number): Promise<Program> {
  return runProgram('/usr/sbin/ip', ['netns', 'exec', ns.name, file, ...args], env, timeoutMs);
}

/** callAgent, with the agent running inside the namespace as Pacemaker would on that node. */
export function callAgentIn(ns: Namespace, agent: string, action: string, options: CallOptions): Promise<AgentCall> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile('/usr/sbin/ip', ['netns', 'exec', ns.name, agentPath(agent), action], { env: ocfEnvironment(agent, options), timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      const reason = /^ocf-exit-reason:(.*)$/m.exec(stderr)?.[1];
      resolve({ code, stdout, stderr, reason, elapsedMs: Date.now() - started });
    });
  });
}

export interface ClientCounts {
  /** Answers by body text. */
  readonly answers: Record<string, number>;
  readonly failed: number;
  /** Failures by error code. */
  readonly errors: Record<string, number>;
  /** Requests sent. */
  readonly sent: number;
  /** The longest time between two successful answers (HTTP 200), in ms: the outage. */
  readonly longestGapMs: number;
  /** When that gap began, as Date.now() in the client. */
  readonly gapStartedAt: number;
}

export interface ClientOptions {
  readonly path?: string;
  /** Each request's whole time, in ms. */
  readonly timeoutMs?: number;
  /** Pause between two requests, in ms (keeps the loop from taking a core). */
  readonly pauseMs?: number;
  readonly limit?: number;
  readonly maxMs?: number;
}

// A client: one new connection per request (agent:false), until its stdin closes, at most
// `limit` attempts or `maxMs`; prints "ready" after its first answer and its counts as JSON at the
// end. Answers other than 200 count as answers, not successes: the gap is between two 200s.
const CLIENT = `
import http from 'node:http';
const [host, port, path, timeoutMs, pauseMs, limit, maxMs] = process.argv.slice(-7);
const answers = {}, errors = {};
let failed = 0, sent = 0, stop = false, ready = false, lastOk = 0, longestGapMs = 0, gapStartedAt = 0;
process.stdin.on('end', () => { stop = true; }).resume();
const until = Date.now() + Number(maxMs);
while (!stop && sent < Number(limit) && Date.now() < until) {
  sent++;
  await new Promise((done) => {
    const request = http.get({ host, port: Number(port), path, agent: false, timeout: Number(timeoutMs) }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk) => { body += chunk; }).on('end', () => {
        const key = response.statusCode === 200 ? (path === '/' ? body.trim() : 'status 200') : 'status ' + response.statusCode;
        answers[key] = (answers[key] ?? 0) + 1;
        if (response.statusCode === 200) {
          const now = Date.now();
          if (lastOk && now - lastOk > longestGapMs) { longestGapMs = now - lastOk; gapStartedAt = lastOk; }
          lastOk = now;
        }
        if (!ready) { ready = true; process.stdout.write('ready\\n'); }
        done();
      });
    });
    const deadline = setTimeout(() => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), Number(timeoutMs));
    request.on('close', () => clearTimeout(deadline));
    request.on('error', (error) => { failed++; errors[error.code ?? error.message] = (errors[error.code ?? error.message] ?? 0) + 1; done(); });
  });
  if (Number(pauseMs) > 0) await new Promise((resolve) => setTimeout(resolve, Number(pauseMs)));
}
// An outage still going on at the end counts up to the end.
if (lastOk && Date.now() - lastOk > longestGapMs) { longestGapMs = Date.now() - lastOk; gapStartedAt = lastOk; }
process.stdout.write(JSON.stringify({ answers, failed, errors, sent, longestGapMs, gapStartedAt }) + '\\n');
`;

export interface ClientLoop {
  /** Resolves once the first answer came back. */
  readonly ready: Promise<void>;
  /** Stop the loop and collect its counts. */
  finish(): Promise<ClientCounts>;
  /** Kill it (teardown). */
  kill(): void;
}

/** Start a counting HTTP client loop; `enter` is the command that puts it where it runs (a namespace). */
export function spawnClient(enter: readonly string[], host: string, port: number, options: ClientOptions = {}): ClientLoop {
  const args = [host, String(port), options.path ?? '/', String(options.timeoutMs ?? 2000), String(options.pauseMs ?? 0), String(options.limit ?? 50_000), String(options.maxMs ?? 30_000)];
  const child = spawn(enter[0]!, [...enter.slice(1), process.execPath, '--input-type=module', '-e', CLIENT, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  let signalReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    signalReady = resolve;
    child.once('exit', () => reject(new Error(`client loop ended before its first answer: ${output}`)));
  });
  ready.catch(() => undefined);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (output.includes('ready\n')) signalReady();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    ready,
    async finish() {
      child.stdin.end();
      await exited;
      const last = output.trim().split('\n').pop() ?? '';
      return JSON.parse(last) as ClientCounts;
    },
    kill: () => void child.kill('SIGKILL'),
  };
}

/** Start a counting HTTP client loop against host:port inside the namespace. */
export function clientLoop(t: ExecutionContext, ns: Namespace, host: string, port: number, limit = 50_000, maxMs = 30_000): ClientLoop {
  const loop = spawnClient(['/usr/sbin/ip', 'netns', 'exec', ns.name], host, port, { limit, maxMs });
  t.teardown(() => loop.kill());
  return loop;
}
