// Paired measurement of two commands: runs alternate (ours, reference, ours, ...) so that both see
// the same machine; each run's wall and CPU time are taken by rusage.py, its peak RSS by GNU time.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Command {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The exit code a correct run ends with (a monitor of a running daemon: 0). */
  readonly expectCode?: number;
}

export interface Pair {
  readonly name: string;
  readonly ours: Command;
  readonly reference: Command;
  readonly referenceName: string;
}

export interface Sample {
  readonly wallMs: number;
  /** User and system CPU time of the command and its children, by GNU time. */
  readonly cpuMs: number;
  readonly rssKiB: number;
}

const RUSAGE = join(dirname(fileURLToPath(import.meta.url)), 'rusage.py');

function runOnce(command: Command): Sample {
  const result = spawnSync('/usr/bin/python3', [RUSAGE, ...command.argv], { env: { ...command.env }, encoding: 'utf8' });
  const expected = command.expectCode ?? 0;
  const status = result.status ?? -1;
  // GNU time prints "Command exited with non-zero status N" and exits with N itself.
  if (status !== expected) {
    throw new Error(`${command.argv.join(' ')} exited ${status}, expected ${expected}: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const rss = /rss=(\d+)/.exec(result.stderr);
  const times = /wall_us=(\d+) cpu_us=(\d+)/.exec(result.stderr);
  if (!times) throw new Error(`no timing from ${RUSAGE}: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { wallMs: Number(times[1]) / 1000, cpuMs: Number(times[2]) / 1000, rssKiB: rss ? Number(rss[1]) : Number.NaN };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface PairResult {
  readonly name: string;
  readonly referenceName: string;
  readonly ours: Sample;
  readonly reference: Sample;
}

export function measurePair(pair: Pair, runs: number, warmup = 3): PairResult {
  for (let i = 0; i < warmup; i++) {
    runOnce(pair.ours);
    runOnce(pair.reference);
  }
  const ours: Sample[] = [];
  const reference: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first, so neither always runs on a warmer cache.
    if (i % 2 === 0) {
      ours.push(runOnce(pair.ours));
      reference.push(runOnce(pair.reference));
    } else {
      reference.push(runOnce(pair.reference));
      ours.push(runOnce(pair.ours));
    }
  }
  const summary = (samples: Sample[]) => ({
    wallMs: median(samples.map((s) => s.wallMs)),
    cpuMs: median(samples.map((s) => s.cpuMs)),
    rssKiB: median(samples.map((s) => s.rssKiB)),
  });
  return { name: pair.name, referenceName: pair.referenceName, ours: summary(ours), reference: summary(reference) };
}

export function formatResult(result: PairResult, runs: number): string {
  const wallRatio = result.ours.wallMs / result.reference.wallMs;
  const rssRatio = result.ours.rssKiB / result.reference.rssKiB;
  const cpuRatio = result.ours.cpuMs / result.reference.cpuMs;
  return [
    `${result.name} (median of ${runs} paired runs)`,
    `  ours:      ${result.ours.wallMs.toFixed(1)} ms wall  ${result.ours.cpuMs.toFixed(1)} ms CPU  ${(result.ours.rssKiB / 1024).toFixed(1)} MiB peak RSS`,
    `  reference: ${result.reference.wallMs.toFixed(1)} ms wall  ${result.reference.cpuMs.toFixed(1)} ms CPU  ${(result.reference.rssKiB / 1024).toFixed(1)} MiB peak RSS  (${result.referenceName})`,
    `  ratio:     wall ${wallRatio.toFixed(2)}x  CPU ${cpuRatio.toFixed(2)}x  memory ${rssRatio.toFixed(2)}x  (target: at most 2x each)`,
  ].join('\n');
}
