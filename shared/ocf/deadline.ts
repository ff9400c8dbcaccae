import { readFileSync } from 'node:fs';

/** A point in time an action must be done by; every wait in an action is bounded by one. */
export class Deadline {
  private readonly at: number;

  private constructor(at: number) {
    // Whole milliseconds: what remains is handed to APIs that want an integer (child_process's
    // timeout refuses 17965.01), and performance.now() or a fraction of a timeout is not one.
    this.at = Math.floor(at);
  }

  static after(ms: number): Deadline {
    return new Deadline(Date.now() + ms);
  }

  /**
   * The deadline of an action given Pacemaker's timeout: keep a margin (a tenth, at most 2 s) so
   * the agent reports its own reason before pacemaker-execd kills it. Pacemaker's clock started
   * when it ran the agent, not when the agent got here: the time since this process started
   * (a few hundred ms on a loaded machine, see processAgeMs) is spent already.
   */
  static forAction(timeoutMs: number): Deadline {
    return new Deadline(Date.now() - processAgeMs() + timeoutMs - Math.min(2000, timeoutMs / 10));
  }

  remaining(): number {
    return Math.max(0, this.at - Date.now());
  }

  expired(): boolean {
    return this.remaining() === 0;
  }

  /** The time one step may take: at most capMs, never past the deadline. */
  bound(capMs: number): number {
    return Math.min(capMs, this.remaining());
  }

  /** A deadline that keeps `reserveMs` of this one free for what comes after. */
  leaving(reserveMs: number): Deadline {
    return new Deadline(this.at - reserveMs);
  }
}

/**
 * How long ago this process was exec'd: its start time in /proc/self/stat (clock ticks since boot,
 * 100 a second on Linux) against /proc/uptime. performance.now() counts only from when the
 * JavaScript runtime came up, after the executable was loaded: on a loaded machine that start is
 * itself a few hundred ms that Pacemaker's timer has counted. performance.now() when /proc cannot say.
 */
export function processAgeMs(): number {
  const runtime = performance.now();
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const uptimeMs = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
    const age = uptimeMs - startTicks * 10;
    // A clock that disagrees (no /proc, a different tick rate) is not trusted beyond what the runtime knows.
    return Number.isFinite(age) && age >= runtime && age < runtime + 60_000 ? age : runtime;
  } catch {
    return runtime;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Pacemaker time specifications: plain seconds, or a number with ms/s/m/h units. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|msec|us|usec|s|sec|m|min|h|hr)?\s*$/i.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  const factor: Record<string, number> = {
    us: 0.001, usec: 0.001, ms: 1, msec: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hr: 3_600_000,
  };
  return Math.round(value * (factor[unit] ?? 1000));
}
