// A counting HTTP client loop, run where the test puts it (inside a namespace): what a client of
// the VIP sees during a fault, as requests answered and failed and the longest gap between answers.
import { spawn } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import type { Namespaces } from './namespaces.ts';

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
  /** With `record`: every request as [sent at (Date.now()), its whole time (ms), 1 answered with 200 / 0 not]. */
  readonly marks?: [number, number, 0 | 1][];
}

export interface ClientOptions {
  readonly path?: string;
  /** Each request's whole time, in ms. */
  readonly timeoutMs?: number;
  /** Pause between two requests, in ms (keeps the loop from taking a core). */
  readonly pauseMs?: number;
  readonly limit?: number;
  readonly maxMs?: number;
  /** Keep every request's time and outcome (ClientCounts.marks), for a timeline; at most `limit` of them. */
  readonly record?: boolean;
}

// A client: one new connection per request (agent:false), until its stdin closes, at most
// `limit` attempts or `maxMs`; prints "ready" after its first answer and its counts as JSON at the
// end (with every request's [sent at, ms, ok] when `record` is 1). Answers other than 200 count as
// answers, not successes: the gap is between two 200s.
const CLIENT = `
import http from 'node:http';
const [host, port, path, timeoutMs, pauseMs, limit, maxMs, record] = process.argv.slice(-8);
const answers = {}, errors = {}, marks = [];
let failed = 0, sent = 0, stop = false, ready = false, lastOk = 0, longestGapMs = 0, gapStartedAt = 0;
process.stdin.on('end', () => { stop = true; }).resume();
const until = Date.now() + Number(maxMs);
while (!stop && sent < Number(limit) && Date.now() < until) {
  sent++;
  const sentAt = Date.now();
  const ok = await new Promise((done) => {
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
        done(response.statusCode === 200);
      });
    });
    const deadline = setTimeout(() => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), Number(timeoutMs));
    request.on('close', () => clearTimeout(deadline));
    request.on('error', (error) => { failed++; errors[error.code ?? error.message] = (errors[error.code ?? error.message] ?? 0) + 1; done(false); });
  });
  if (record === '1') marks.push([sentAt, Date.now() - sentAt, ok ? 1 : 0]);
  if (Number(pauseMs) > 0) await new Promise((resolve) => setTimeout(resolve, Number(pauseMs)));
}
// An outage still going on at the end counts up to the end.
if (lastOk && Date.now() - lastOk > longestGapMs) { longestGapMs = Date.now() - lastOk; gapStartedAt = lastOk; }
process.stdout.write(JSON.stringify({ answers, failed, errors, sent, longestGapMs, gapStartedAt, ...(record === '1' ? { marks } : {}) }) + '\\n');
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
  const args = [host, String(port), options.path ?? '/', String(options.timeoutMs ?? 2000), String(options.pauseMs ?? 0), String(options.limit ?? 50_000), String(options.maxMs ?? 30_000), options.record ? '1' : '0'];
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
export function clientLoop(t: ExecutionContext, ns: Namespaces, host: string, port: number, limit = 50_000, maxMs = 30_000): ClientLoop {
  const loop = spawnClient(['nsenter', '-t', String(ns.pid), '-n'], host, port, { limit, maxMs });
  t.teardown(() => loop.kill());
  return loop;
}
