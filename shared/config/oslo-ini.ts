// OpenStack configuration files as oslo.config reads them: INI sections, `#` and `;` comment
// lines, continuation lines, quotes stripped, and the last value of an option winning across all
// files given with --config-file and --config-dir (files in a directory in name order).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configCredentials, urlPasswords } from '../ocf/credentials.ts';
import { quoted } from '../ocf/outcome.ts';

export interface OsloConfig {
  /** The value an option ends with, or undefined when no file sets it. */
  get(section: string, option: string): string | undefined;
  /** The files that were read, in order. */
  readonly files: readonly string[];
  /** Every option with the value it ends with, any section (to find the credentials among them). */
  options(): Iterable<readonly [option: string, value: string]>;
}

/** Where the service reads its configuration from: files and directories in command-line order. */
export type ConfigSource = { readonly file: string } | { readonly dir: string };

type Sections = Map<string, Map<string, string>>;

function unquote(value: string): string {
  const first = value[0];
  return value.length >= 2 && (first === '"' || first === "'") && value.at(-1) === first ? value.slice(1, -1) : value;
}

/** Parse one file's text into `sections` (later values replace earlier ones); errors name the line. */
export function parseOsloIni(text: string, sections: Sections = new Map(), name = 'config'): Sections {
  let section: Map<string, string> | undefined;
  let last: { options: Map<string, string>; key: string } | undefined;
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!;
    const line = raw.trim();
    if (line === '' ) { last = undefined; continue; }
    if (line.startsWith('#') || line.startsWith(';')) continue;
    if (/^\s/.test(raw) && last) {
      // A continuation line extends the previous value (oslo.config's iniparser does the same).
      last.options.set(last.key, `${last.options.get(last.key)}\n${line}`);
      continue;
    }
    if (line.startsWith('[')) {
      const match = /^\[([^\]]+)\]$/.exec(line);
      if (!match) throw new Error(`${name} line ${index + 1}: invalid section header ${quoted(line)}`);
      const title = match[1]!.trim();
      section = sections.get(title) ?? new Map();
      sections.set(title, section);
      last = undefined;
      continue;
    }
    const separator = line.search(/[=:]/);
    if (separator <= 0) throw new Error(`${name} line ${index + 1}: expected "option = value", found ${quoted(line)}`);
    if (!section) throw new Error(`${name} line ${index + 1}: option outside of any section`);
    const key = line.slice(0, separator).trim();
    section.set(key, unquote(line.slice(separator + 1).trim()));
    last = { options: section, key };
  }
  return sections;
}

function filesOf(source: ConfigSource): string[] {
  if ('file' in source) return [source.file];
  let names: string[];
  try {
    names = readdirSync(source.dir);
  } catch {
    return []; // oslo.config ignores a missing --config-dir
  }
  return names.filter((name) => name.endsWith('.conf')).sort().map((name) => join(source.dir, name));
}

/**
 * Every credential a file's text may hold, found leniently line by line before the file is parsed:
 * password-like options (`option = value`, and a malformed `password S3cret` without "="), and the
 * passwords of every URL. A parse error quotes a line: its secrets must be known before.
 */
export function iniCredentials(text: string): string[] {
  const found = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const separator = line.search(/[=:]/);
    const [key, value] = separator > 0 ? [line.slice(0, separator).trim(), line.slice(separator + 1).trim()] : [line.split(/\s+/, 1)[0]!, line.slice(line.split(/\s+/, 1)[0]!.length).trim()];
    for (const secret of configCredentials([[key, unquote(value)], [key, value]])) found.add(secret);
    if (separator <= 0 && /pass|secret|key|token|auth/i.test(key) && value !== '') {
      // A line without "=" whose first word names a credential: every word after it may be the value.
      found.add(value);
      for (const word of value.split(/\s+/)) if (word.length >= 4) found.add(word);
    }
    for (const word of line.split(/[\s=]+/)) for (const password of urlPasswords(word)) found.add(password);
  }
  return [...found];
}

/**
 * Read the files (directories expanded) in order; a missing or unreadable --config-file is an
 * error, as it is for the service itself. Each file's credentials go to `secret` (the logger's
 * addSecret) before the file is parsed: nothing from a file is quoted before its secrets are known.
 */
export function readOsloConfig(sources: readonly ConfigSource[], secret: (value: string) => void): OsloConfig {
  const sections: Sections = new Map();
  const files = sources.flatMap(filesOf);
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code ?? (error as Error).message}`);
    }
    for (const value of iniCredentials(text)) secret(value);
    parseOsloIni(text, sections, file);
  }
  return {
    files,
    get: (section, option) => sections.get(section)?.get(option),
    options: () => [...sections.values()].flatMap((options) => [...options]),
  };
}

/** The --config-file and --config-dir options among a service's arguments, in order. */
export function configSourcesIn(args: readonly string[]): ConfigSource[] {
  const sources: ConfigSource[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const match = /^--config-(file|dir)(?:=(.*))?$/.exec(word);
    if (!match) continue;
    const value = match[2] ?? args[++i];
    if (value === undefined) continue;
    sources.push(match[1] === 'file' ? { file: value } : { dir: value });
  }
  return sources;
}

/** oslo.config's boolean spelling. */
export function isOsloTrue(value: string | undefined): boolean {
  return value !== undefined && ['true', '1', 'on', 'yes'].includes(value.trim().toLowerCase());
}
