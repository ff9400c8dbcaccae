// A minimal Redis client speaking RESP over shared/net/socket.ts (Bun's native sockets in the binary):
// a pipeline of commands in one round trip, and a bounded look at the MONITOR stream.
// Values are read as UTF-8 text: enough for keys, counters and ids; binary values are not kept exact.
import { indexOfCrLf } from './crlf.ts';
import { tcpExchange } from './socket.ts';

export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  readonly username?: string;
  readonly db?: number;
}

/** An error reply (-ERR ...) as a value, so one failed command does not hide the others. */
export class RedisError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

export type RespValue = string | number | null | RedisError | RespValue[];

const encoder = new TextEncoder();

/** A command as a RESP array of bulk strings (lengths in bytes). */
export function encodeCommand(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${encoder.encode(arg).length}\r\n${arg}\r\n`).join('')}`;
}

interface Parsed {
  readonly value: RespValue;
  readonly end: number;
}

const decoder = new TextDecoder();

/** One RESP value starting at `at`, or undefined when more bytes are needed. */
function parseValue(bytes: Uint8Array, at: number): Parsed | undefined {
  const end = indexOfCrLf(bytes, at);
  if (end < 0) return undefined;
  const type = String.fromCharCode(bytes[at]!);
  const line = decoder.decode(bytes.subarray(at + 1, end));
  const next = end + 2;
  switch (type) {
    case '+': return { value: line, end: next };
    case '-': return { value: new RedisError(line), end: next };
    case ':': return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (bytes.length < next + length + 2) return undefined;
      return { value: decoder.decode(bytes.subarray(next, next + length)), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const item = parseValue(bytes, position);
        if (!item) return undefined;
        items.push(item.value);
        position = item.end;
      }
      return { value: items, end: position };
    }
    default:
      throw new Error(`not a Redis reply: ${JSON.stringify(decoder.decode(bytes.subarray(at, Math.min(bytes.length, at + 40))))}`);
  }
}

/** The first `count` replies in `text`, or undefined when the text holds fewer. */
export function parseReplies(text: string, count: number): RespValue[] | undefined {
  const bytes = encoder.encode(text);
  const replies: RespValue[] = [];
  let position = 0;
  while (replies.length < count) {
    const parsed = parseValue(bytes, position);
    if (!parsed) return undefined;
    replies.push(parsed.value);
    position = parsed.end;
  }
  return replies;
}

/** AUTH and SELECT, when the target needs them, before the commands of a connection. */
function preamble(target: RedisTarget): string[][] {
  const commands: string[][] = [];
  if (target.password) commands.push(target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password]);
  if (target.db) commands.push(['SELECT', String(target.db)]);
  return commands;
}

function checkPreamble(replies: RespValue[]): void {
  for (const reply of replies) {
    if (reply instanceof RedisError) throw new Error(`Redis refused: ${reply.message}`);
  }
}

/** Send the commands in one pipeline and return their replies (error replies as RedisError values). */
export async function redisCommands(target: RedisTarget, commands: readonly (readonly string[])[], timeoutMs: number): Promise<RespValue[]> {
  const setup = preamble(target);
  const all = [...setup, ...commands];
  const answer = await tcpExchange({
    host: target.host,
    port: target.port,
    request: all.map(encodeCommand).join(''),
    complete: (text) => {
      try {
        return parseReplies(text, all.length) !== undefined;
      } catch {
        return true; // not Redis: stop reading, parse again below for the error
      }
    },
    timeoutMs,
  });
  const replies = parseReplies(answer, all.length)!;
  checkPreamble(replies.slice(0, setup.length));
  return replies.slice(setup.length);
}

/** One command seen by MONITOR: the client's address and the command's words. */
export interface MonitoredCommand {
  readonly client: string;
  readonly words: readonly string[];
}

/** Parse a MONITOR line: `+1700000000.123456 [0 127.0.0.1:58198] "PSETEX" "key" "30000" "v"`. */
export function parseMonitorLine(line: string): MonitoredCommand | undefined {
  const match = /^\+?\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
  if (!match) return undefined;
  const words: string[] = [];
  const quoted = /"((?:[^"\\]|\\.)*)"/g;
  for (let word = quoted.exec(match[2]!); word; word = quoted.exec(match[2]!)) {
    words.push(word[1]!.replace(/\\(x[0-9a-f]{2}|.)/g, (_all, escaped: string) =>
      escaped.length === 3 ? String.fromCharCode(Number.parseInt(escaped.slice(1), 16)) : escaped));
  }
  return { client: match[1]!, words };
}

/**
 * Watch the MONITOR stream until `found` accepts a command or the time is up. Resolves with the
 * accepted command, or undefined when none came in time. MONITOR costs the server a little for as
 * long as it runs, so the watch is always bounded.
 */
export async function watchCommands(
  target: RedisTarget,
  found: (command: MonitoredCommand) => boolean,
  timeoutMs: number,
): Promise<MonitoredCommand | undefined> {
  const setup = preamble(target);
  let accepted: MonitoredCommand | undefined;
  let refused: string | undefined;
  let consumed = 0;
  const complete = (text: string) => {
    for (;;) {
      const end = text.indexOf('\r\n', consumed);
      if (end < 0) return false;
      const line = text.slice(consumed, end);
      consumed = end + 2;
      if (line.startsWith('-')) {
        refused = line.slice(1);
        return true;
      }
      const command = parseMonitorLine(line);
      if (command && found(command)) {
        accepted = command;
        return true;
      }
    }
  };
  try {
    await tcpExchange({
      host: target.host, port: target.port, request: [...setup, ['MONITOR']].map(encodeCommand).join(''), complete, timeoutMs,
    });
  } catch (error) {
    if (/^no answer within/.test((error as Error).message)) return undefined;
    throw error;
  }
  if (refused !== undefined) throw new Error(`Redis refused MONITOR: ${refused}`);
  return accepted;
}
