// A minimal HTTP/1.1 client for health checks: one request, one answer, a bounded time.
// It runs over shared/net/socket.ts (Bun's native sockets in the binary) rather than node:http, whose
// import alone costs a monitor more than the whole check (node:net is about 12 ms, measured).
// Plain HTTP only: agents check the instance they run on its own socket; TLS is the business of
// the load balancer in front of it. An https URL is refused with a clear reason.
import { indexOfCrLf } from './crlf.ts';
import { tcpExchange } from './socket.ts';

export interface HttpRequest {
  readonly method?: 'GET' | 'POST' | 'HEAD';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
}

export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

interface Target {
  readonly host: string;
  readonly port: number;
  /** The Host header: the authority as written in the URL. */
  readonly authority: string;
  readonly path: string;
}

function targetOf(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`"${url}" is not a URL`);
  }
  if (parsed.protocol === 'https:') throw new Error(`${url}: https is not supported by this client (plain HTTP only)`);
  if (parsed.protocol !== 'http:') throw new Error(`${url}: only http URLs are supported`);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? 80 : Number(parsed.port),
    authority: parsed.host,
    path: `${parsed.pathname || '/'}${parsed.search}`,
  };
}

const utf8 = new TextEncoder();

function byteLength(text: string): number {
  return utf8.encode(text).length;
}

/** The request bytes: never a header value with a line break (no request smuggling by parameters). */
export function formatRequest(request: HttpRequest, target: Target): string {
  const method = request.method ?? (request.body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string> = {
    Host: target.authority,
    'User-Agent': 'ocf-openstack',
    Accept: 'application/json',
    Connection: 'close',
    ...request.headers,
  };
  if (request.body !== undefined) headers['Content-Length'] = String(byteLength(request.body));
  const lines = [`${method} ${target.path} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`header ${name.replace(/[\r\n]/g, ' ')} contains a line break`);
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n${request.body ?? ''}`;
}

interface Head {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Everything after the blank line that ends the head. */
  readonly rest: string;
}

/** The final (non-1xx) response head, once complete; undefined while incomplete. */
function parseHead(received: string): Head | undefined {
  let text = received;
  for (;;) {
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [statusLine = '', ...fieldLines] = text.slice(0, end).split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})\b/.exec(statusLine);
    if (!match) throw new Error(`not an HTTP answer: ${statusLine.slice(0, 60)}`);
    const status = Number(match[1]);
    text = text.slice(end + 4);
    if (status >= 100 && status < 200) continue; // 100 Continue and friends precede the answer
    const headers: Record<string, string> = {};
    for (const line of fieldLines) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    return { status, headers, rest: text };
  }
}

/** A chunked body decoded, or undefined while the last chunk has not arrived. */
export function decodeChunked(text: string): string | undefined {
  const bytes = utf8.encode(text);
  const chunks: Uint8Array[] = [];
  let at = 0;
  const decoder = new TextDecoder();
  for (;;) {
    const lineEnd = indexOfCrLf(bytes, at);
    if (lineEnd < 0) return undefined;
    const sizeText = decoder.decode(bytes.subarray(at, lineEnd)).split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size "${sizeText.slice(0, 20)}"`);
    const size = Number.parseInt(sizeText, 16);
    at = lineEnd + 2;
    if (size === 0) {
      // Optional trailer fields, then the final blank line.
      const text = decoder.decode(bytes.subarray(at));
      if (!(text.startsWith('\r\n') || text.includes('\r\n\r\n'))) return undefined;
      return decoder.decode(concat(chunks));
    }
    if (bytes.length < at + size + 2) return undefined;
    chunks.push(bytes.subarray(at, at + size));
    at += size + 2;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}

/** The response once `received` holds all of it (closed: the peer has closed); undefined while incomplete. */
export function parseResponse(received: string, closed: boolean, method = 'GET'): HttpResponse | undefined {
  const head = parseHead(received);
  if (!head) return undefined;
  const { status, headers, rest } = head;
  if (method === 'HEAD' || status === 204 || status === 304) return { status, headers, body: '' };
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
    const body = decodeChunked(rest);
    return body === undefined ? undefined : { status, headers, body };
  }
  const lengthText = headers['content-length'];
  if (lengthText !== undefined) {
    const length = Number(lengthText.split(',')[0]);
    if (!Number.isInteger(length) || length < 0) throw new Error(`bad Content-Length "${lengthText}"`);
    const bytes = utf8.encode(rest);
    if (bytes.length < length) return undefined;
    return { status, headers, body: new TextDecoder().decode(bytes.subarray(0, length)) };
  }
  // Neither length nor chunks: the body ends when the server closes the connection.
  return closed ? { status, headers, body: rest } : undefined;
}

/** One request; rejects with a short, human reason (refused, timed out, not HTTP). */
export async function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const target = targetOf(request.url);
  const method = request.method ?? (request.body === undefined ? 'GET' : 'POST');
  let response: HttpResponse | undefined;
  let malformed: Error | undefined;
  const complete = (received: string, closed: boolean) => {
    try {
      response = parseResponse(received, closed, method);
    } catch (error) {
      malformed = error as Error;
      return true;
    }
    return response !== undefined;
  };
  await tcpExchange({ host: target.host, port: target.port, request: formatRequest(request, target), complete, timeoutMs: request.timeoutMs });
  if (malformed) throw malformed;
  if (!response) throw new Error('incomplete HTTP answer');
  return response;
}

export function getJson(url: string, timeoutMs: number, headers: Readonly<Record<string, string>> = {}): Promise<HttpResponse> {
  return httpRequest({ method: 'GET', url, headers, timeoutMs });
}

export function postJson(url: string, value: unknown, timeoutMs: number, headers: Readonly<Record<string, string>> = {}): Promise<HttpResponse> {
  return httpRequest({ method: 'POST', url, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(value), timeoutMs });
}

/** The body as JSON, or undefined when it is not JSON. */
export function jsonBody(response: HttpResponse): unknown {
  try {
    return JSON.parse(response.body) as unknown;
  } catch {
    return undefined;
  }
}
