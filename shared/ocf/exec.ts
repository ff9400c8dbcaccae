// External programs: always an argument vector, never a shell. execa is loaded only here, on
// first use, so the monitor and meta-data paths that spawn nothing never pay for it.

export interface ProgramResult {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Why it could not run at all (ENOENT, EACCES), when it could not. */
  readonly failedToRun?: string;
}

/** No uid or gid here: a program run as a service user needs its supplementary groups too (supervise.ts asUser). */
export interface RunOptions {
  readonly timeoutMs: number;
  readonly input?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Run a program to completion; never rejects: the caller decides what a failure means. */
export async function runProgram(file: string, args: readonly string[], options: RunOptions): Promise<ProgramResult> {
  const { execa } = await import('execa');
  const result = await execa(file, args, {
    shell: false,
    reject: false,
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    stripFinalNewline: true,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    ...(options.env ? { env: options.env, extendEnv: false } : {}),
  });
  const failedToRun = result.failed && result.exitCode === undefined && !result.timedOut && !result.isTerminated
    ? (result.cause instanceof Error ? result.cause.message : result.shortMessage)
    : undefined;
  return {
    exitCode: result.exitCode,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut: result.timedOut,
    ...(failedToRun ? { failedToRun } : {}),
  };
}

/**
 * Split an `additional_parameters` string into arguments the way a POSIX shell splits words,
 * honouring quotes and backslashes, but evaluating nothing: `$(...)`, `;`, globs and variables
 * arrive verbatim. Returns an error text for an unterminated quote.
 */
export function splitArguments(text: string): string[] | { error: string } {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { error: 'unterminated single quote' };
      word += text.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`\n'.includes(text[j + 1]!)) j++;
        word += text[j];
      }
      if (j >= text.length) return { error: 'unterminated double quote' };
      inWord = true;
      i = j;
    } else if (c === '\\') {
      if (i + 1 < text.length) word += text[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
