// Paired measurement of two commands: runs alternate (ours, reference, ours, ...) so that both see
// the same machine; each run's wall time is taken here and its peak RSS by GNU time.
import { spawnSync } from 'node:child_process';

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
  readonly rssKiB: number;
}

function runOnce(command: Command): Sample {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', 'rss=%M', ...command.argv], { env: { ...command.env }, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const expected = command.expectCode ?? 0;
  const status = result.status ?? -1;
  // GNU time prints "Command exited with non-zero status N" and exits with N itself.
  if (status !== expected) {
    throw new Error(`${command.argv.join(' ')} exited ${status}, expected ${expected}: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const rss = /rss=(\d+)/.exec(result.stderr);
  return { wallMs, rssKiB: rss ? Number(rss[1]) : Number.NaN };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface PairResult {
  readonly name: string;
  readonly referenceName: string;
  readonly ours: { wallMs: number; rssKiB: number };
  readonly reference: { wallMs: number; rssKiB: number };
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
    rssKiB: median(samples.map((s) => s.rssKiB)),
  });
  return { name: pair.name, referenceName: pair.referenceName, ours: summary(ours), reference: summary(reference) };
}

export function formatResult(result: PairResult, runs: number): string {
  const wallRatio = result.ours.wallMs / result.reference.wallMs;
  const rssRatio = result.ours.rssKiB / result.reference.rssKiB;
  return [
    `${result.name} (median of ${runs} paired runs)`,
    `  ours:      ${result.ours.wallMs.toFixed(1)} ms  ${(result.ours.rssKiB / 1024).toFixed(1)} MiB peak RSS`,
    `  reference: ${result.reference.wallMs.toFixed(1)} ms  ${(result.reference.rssKiB / 1024).toFixed(1)} MiB peak RSS  (${result.referenceName})`,
    `  ratio:     wall ${wallRatio.toFixed(2)}x  memory ${rssRatio.toFixed(2)}x  (target: at most 2x each)`,
  ].join('\n');
}
