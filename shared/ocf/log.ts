// Logging with ocf-shellfuncs semantics (ocf_log, ha_log, ha_debug):
// syslog through `logger` when HA_LOGFACILITY is set, HA_LOGFILE appended when set, debug lines
// only with HA_debug (to HA_DEBUGLOG when set), and stderr when neither facility nor file is set.
import { appendFileSync } from 'node:fs';
import type { LogSettings } from './environment.ts';
import { shownText } from './outcome.ts';
import { stdinIsTerminal, writeStderr } from './output.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'err' | 'crit';

const PRIORITY: Record<LogLevel, { label: string; syslog: string }> = {
  debug: { label: 'DEBUG', syslog: 'debug' },
  info: { label: 'INFO', syslog: 'info' },
  warn: { label: 'WARNING', syslog: 'warning' },
  err: { label: 'ERROR', syslog: 'err' },
  crit: { label: 'CRIT', syslog: 'crit' },
};

/** strftime for the few conversions HA_DATEFMT uses. */
export function formatDate(format: string, date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  const conversions: Record<string, string> = {
    Y: String(date.getFullYear()), m: pad(date.getMonth() + 1), d: pad(date.getDate()), b: months[date.getMonth()]!,
    H: pad(date.getHours()), M: pad(date.getMinutes()), S: pad(date.getSeconds()), T: time, F: `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`, '%': '%',
  };
  return format.replace(/%(.)/g, (whole, c: string) => conversions[c] ?? whole);
}

export interface LogSinks {
  writeStderr(line: string): void;
  appendFile(path: string, line: string): void;
  syslog(tag: string, priority: string, message: string): Promise<void>;
}

async function syslogThroughLogger(tag: string, priority: string, message: string): Promise<void> {
  const { runProgram } = await import('./exec.ts');
  await runProgram('logger', ['-t', tag, '-p', priority, '--', message], { timeoutMs: 5000 }).catch(() => undefined);
}

export const systemSinks: LogSinks = {
  writeStderr: (line) => writeStderr(`${line}\n`),
  appendFile: (path, line) => {
    try {
      appendFileSync(path, `${line}\n`);
    } catch {
      // A log file we cannot write must never change the outcome of an action.
    }
  },
  syslog: syslogThroughLogger,
};

export class Logger {
  private readonly secrets: string[] = [];
  private readonly pending: Promise<void>[] = [];

  private readonly settings: LogSettings;
  private readonly sinks: LogSinks;
  /** ha_log writes to stderr only when run from a terminal (`tty` tests stdin). */
  private readonly interactive: boolean;

  constructor(settings: LogSettings, sinks: LogSinks = systemSinks, interactive = stdinIsTerminal()) {
    this.settings = settings;
    this.sinks = sinks;
    this.interactive = interactive;
  }

  /** A value that must never be written anywhere (a password); blanked out of every line. */
  addSecret(value: string | undefined): void {
    if (!value || this.secrets.includes(value)) return;
    this.secrets.push(value);
    // Longest first: a secret that contains another is blanked whole, not around the shorter one.
    this.secrets.sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    return this.secrets.reduce((result, secret) => result.split(secret).join('****'), text);
  }

  debug(message: string): void { this.log('debug', message); }
  info(message: string): void { this.log('info', message); }
  warn(message: string): void { this.log('warn', message); }
  error(message: string): void { this.log('err', message); }

  log(level: LogLevel, message: string): void {
    const { settings, sinks } = this;
    if (level === 'debug' && !settings.debug) return;
    const line = `${PRIORITY[level].label}: ${shownText(message, (text) => this.redact(text))}`;
    if (this.interactive) {
      sinks.writeStderr(`${settings.tag}: ${line}`);
      return;
    }
    const stamp = formatDate(settings.dateFormat, new Date());
    if (settings.facility) {
      this.pending.push(sinks.syslog(settings.tag, `${settings.facility}.${PRIORITY[level].syslog}`, line));
    }
    if (level === 'debug') {
      if (settings.debugFile) sinks.appendFile(settings.debugFile, `${settings.tag}:\t${stamp}${line}`);
      else if (!settings.facility) sinks.writeStderr(`${settings.tag}:\t${stamp}${line}`);
      return;
    }
    if (settings.file) sinks.appendFile(settings.file, `${stamp} ${settings.tag}:    ${line}`);
    if (!settings.facility && !settings.file) sinks.writeStderr(`${stamp}${line}`);
    if (settings.debugFile && settings.debugFile !== settings.file) {
      sinks.appendFile(settings.debugFile, `${settings.tag}:\t${stamp}${line}`);
    }
  }

  /**
   * Wait for syslog writes still under way, at most `timeoutMs`: the runner calls this before the
   * process exits, and Pacemaker kills an action that outlives its timeout.
   */
  async flush(timeoutMs: number): Promise<void> {
    const pending = this.pending.splice(0);
    if (pending.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs))));
    await Promise.race([Promise.all(pending), expired]);
    clearTimeout(timer);
  }
}
