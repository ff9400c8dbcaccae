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
   * (performance.now(), a few hundred ms on a loaded machine) is spent already.
   */
  static forAction(timeoutMs: number): Deadline {
    return new Deadline(Date.now() - performance.now() + timeoutMs - Math.min(2000, timeoutMs / 10));
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
