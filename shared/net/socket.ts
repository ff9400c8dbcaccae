// Network probes with a bounded time: one request, one answer, no retries.
// In the compiled binary they use Bun's native sockets: node:net costs a monitor about 12 ms of
// start-up (measured); under Node (unit tests) node:net is loaded on first use.

export interface Exchange {
  readonly host: string;
  readonly port: number;
  readonly request: string | Uint8Array;
  /**
   * True once the bytes received so far are a complete answer. `closed` is true when the peer has
   * closed the connection (an answer delimited by the close, such as an HTTP body without length).
   */
  readonly complete: (received: string, closed: boolean) => boolean;
  readonly timeoutMs: number;
}

/** The same exchange over a Unix stream socket (an admin socket such as HAProxy's stats socket). */
export interface UnixExchange extends Omit<Exchange, 'host' | 'port'> {
  /** The socket's path. */
  readonly unix: string;
}

/** Where to connect: a TCP address or a Unix socket path. */
type Target = { readonly host: string; readonly port: number } | { readonly unix: string };

/** What a socket implementation reports back to one exchange. */
interface Events {
  connected(write: (data: string | Uint8Array) => void): void;
  data(text: string): void;
  failed(error: { code?: string; message: string }): void;
  closed(): void;
}

interface BunSocket {
  write(data: string | Uint8Array): number;
  end(): void;
}

interface BunRuntime {
  connect(options: ({ hostname: string; port: number } | { unix: string }) & {
    socket: {
      open(socket: BunSocket): void;
      data(socket: BunSocket, data: Uint8Array): void;
      close(socket: BunSocket): void;
      error(socket: BunSocket, error: Error): void;
      connectError?(socket: BunSocket, error: Error): void;
    };
  }): Promise<BunSocket>;
}

const bun = (globalThis as { Bun?: BunRuntime }).Bun;

/** Open a connection and report to `events`; returns a function that closes it. */
async function open(target: Target, events: Events): Promise<() => void> {
  if (bun) {
    const decoder = new TextDecoder();
    let socket: BunSocket | undefined;
    try {
      socket = await bun.connect({
        ...('unix' in target ? { unix: target.unix } : { hostname: target.host, port: target.port }),
        socket: {
          open: (s) => events.connected((data) => void s.write(data)),
          data: (_s, data) => events.data(decoder.decode(data, { stream: true })),
          close: () => events.closed(),
          error: (_s, error) => events.failed(error as NodeJS.ErrnoException),
          connectError: (_s, error) => events.failed(error as NodeJS.ErrnoException),
        },
      });
    } catch (error) {
      events.failed(error as NodeJS.ErrnoException);
    }
    return () => socket?.end();
  }
  const { connect } = await import('node:net');
  const socket = 'unix' in target ? connect({ path: target.unix }) : connect({ host: target.host, port: target.port });
  socket.setEncoding('utf8');
  socket.on('connect', () => events.connected((data) => socket.write(data)));
  socket.on('data', (text: string) => events.data(text));
  socket.on('error', (error: NodeJS.ErrnoException) => events.failed(error));
  socket.on('end', () => events.closed());
  return () => socket.destroy();
}

/** Send a request over TCP and collect the answer; rejects with a short, human reason. */
export function tcpExchange(exchange: Exchange): Promise<string> {
  const { host, port } = exchange;
  return exchangeWith({ host, port }, exchange);
}

/** Send a request over a Unix stream socket and collect the answer; rejects with a short, human reason. */
export function unixExchange(exchange: UnixExchange): Promise<string> {
  return exchangeWith({ unix: exchange.unix }, exchange);
}

/**
 * One connection with a bounded time. `events` get a `settle` that ends it: the first call decides
 * the answer and closes the socket, whenever the socket opened; later calls do nothing.
 */
function boundedConnection<T>(target: Target, timeoutMs: number, onTimeout: () => T | Error, events: (settle: (result: T | Error) => void) => Events): Promise<T> {
  return new Promise((resolve, reject) => {
    let finished = false;
    let close: (() => void) | undefined;
    const settle = (result: T | Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      close?.();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const timer = setTimeout(() => settle(onTimeout()), timeoutMs);
    void open(target, events(settle)).then((closer) => {
      close = closer;
      if (finished) closer();
    });
  });
}

function exchangeWith(target: Target, exchange: Omit<Exchange, 'host' | 'port'>): Promise<string> {
  const { request, complete, timeoutMs } = exchange;
  let received = '';
  return boundedConnection<string>(target, timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`), (settle) => ({
    connected: (write) => write(request),
    data: (text) => {
      received += text;
      if (complete(received, false)) settle(received);
    },
    failed: (error) => settle(new Error(describeSocketError(error))),
    closed: () => settle(complete(received, true) ? received : new Error('connection closed before a complete answer')),
  }));
}

function describeSocketError(error: { code?: string; message: string }): string {
  switch (error.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': return 'connection reset';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'address unreachable';
    case 'EADDRNOTAVAIL': return 'address not available here';
    case 'ENOENT': return 'no such socket';
    case 'EACCES': return 'permission denied';
    default: return error.code ?? error.message;
  }
}

/** Is something already accepting connections on host:port? */
export function isListening(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return boundedConnection({ host, port }, timeoutMs, () => false, (settle) => ({
    connected: () => settle(true),
    data: () => undefined,
    failed: () => settle(false),
    closed: () => settle(false),
  }));
}

/** Where to connect to reach a daemon listening on `address` (the wildcard means loopback). */
export function connectAddress(address: string): string {
  if (address === '' || address === '0.0.0.0' || address === '*') return '127.0.0.1';
  if (address === '::' || address === '[::]') return '::1';
  return address.replace(/^\[(.*)\]$/, '$1');
}
