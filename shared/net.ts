// Network probes with a bounded time: one request, one answer, no retries.
import { connect } from 'node:net';

export interface Exchange {
  readonly host: string;
  readonly port: number;
  readonly request: string;
  /** True once the bytes received so far are a complete answer. */
  readonly complete: (received: string) => boolean;
  readonly timeoutMs: number;
}

/** Send a request over TCP and collect the answer; rejects with a short, human reason. */
export function tcpExchange(exchange: Exchange): Promise<string> {
  const { host, port, request, complete, timeoutMs } = exchange;
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect({ host, port });
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(received);
    };
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (complete(received)) done();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => done(new Error(describeSocketError(error))));
    socket.on('end', () => done(complete(received) ? undefined : new Error('connection closed before a complete answer')));
  });
}

function describeSocketError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': return 'connection reset';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'address unreachable';
    case 'EADDRNOTAVAIL': return 'address not available here';
    default: return error.code ?? error.message;
  }
}

/** Is something already accepting connections on host:port? */
export function isListening(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => done(true));
    socket.on('error', () => done(false));
  });
}

/** Where to connect to reach a daemon listening on `address` (the wildcard means loopback). */
export function connectAddress(address: string): string {
  if (address === '' || address === '0.0.0.0' || address === '*') return '127.0.0.1';
  if (address === '::' || address === '[::]') return '::1';
  return address.replace(/^\[(.*)\]$/, '$1');
}
