// The TCP connections a set of processes holds, read from /proc (no netstat, no ss): socket
// inodes from /proc/PID/fd, addresses and states from /proc/PID/net/tcp and tcp6 (the process's
// own network namespace).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface TcpConnection {
  readonly pid: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The kernel's state name: ESTABLISHED, SYN_SENT, CLOSE_WAIT, ... */
  readonly state: string;
}

const STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

/** The kernel writes addresses as 32-bit words in host (little-endian) byte order. */
function wordBytes(hex: string): number[] {
  const bytes = [];
  for (let i = 6; i >= 0; i -= 2) bytes.push(Number.parseInt(hex.slice(i, i + 2), 16));
  return bytes;
}

export function decodeAddress(hex: string): string {
  if (hex.length === 8) return wordBytes(hex).join('.');
  const bytes = [0, 8, 16, 24].flatMap((offset) => wordBytes(hex.slice(offset, offset + 8)));
  // An IPv4 client of a dual-stack socket: ::ffff:a.b.c.d, written as the plain IPv4 address.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.');
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return compressIpv6(groups);
}

function compressIpv6(groups: string[]): string {
  let best = { start: -1, length: 0 };
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}

interface TableRow {
  readonly inode: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly state: string;
}

/** Parse the text of /proc/net/tcp or tcp6 into rows keyed by socket inode. */
export function parseTcpTable(text: string): TableRow[] {
  const rows: TableRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [localHex, localPortHex] = fields[1]!.split(':');
    const [remoteHex, remotePortHex] = fields[2]!.split(':');
    rows.push({
      inode: fields[9]!,
      localAddress: decodeAddress(localHex!),
      localPort: Number.parseInt(localPortHex!, 16),
      remoteAddress: decodeAddress(remoteHex!),
      remotePort: Number.parseInt(remotePortHex!, 16),
      state: STATES[fields[3]!.toUpperCase()] ?? fields[3]!,
    });
  }
  return rows;
}

/** The socket inodes of a process; undefined when its fds cannot be read (gone, or denied). */
function socketInodes(pid: number): Set<string> | undefined {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

function readTable(path: string): TableRow[] {
  try {
    return parseTcpTable(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}

/**
 * Every TCP connection the processes hold (each process seen in its own network namespace), and
 * the processes whose sockets could not be read (/proc/PID/fd denied, or the process gone).
 */
export function tcpConnectionsSeen(pids: readonly number[]): { connections: TcpConnection[]; unread: number[] } {
  const connections: TcpConnection[] = [];
  const unread: number[] = [];
  const tables = new Map<string, TableRow[]>();
  for (const pid of pids) {
    const inodes = socketInodes(pid);
    if (!inodes) unread.push(pid);
    if (!inodes?.size) continue;
    let namespace: string;
    try {
      namespace = readlinkSync(`/proc/${pid}/ns/net`);
    } catch {
      namespace = `pid ${pid}`;
    }
    let rows = tables.get(namespace);
    if (!rows) {
      rows = [...readTable(`/proc/${pid}/net/tcp`), ...readTable(`/proc/${pid}/net/tcp6`)];
      tables.set(namespace, rows);
    }
    for (const row of rows) {
      if (inodes.has(row.inode)) {
        const { inode: _inode, ...connection } = row;
        connections.push({ pid, ...connection });
      }
    }
  }
  return { connections, unread };
}

/** Every TCP connection the processes hold (each process seen in its own network namespace). */
export function tcpConnectionsOf(pids: readonly number[]): TcpConnection[] {
  return tcpConnectionsSeen(pids).connections;
}

/** The ESTABLISHED connections of the processes to a remote port (and address, when given). */
export function establishedTo(pids: readonly number[], remotePort: number, remoteAddress?: string): TcpConnection[] {
  return tcpConnectionsOf(pids).filter((c) =>
    c.state === 'ESTABLISHED' && c.remotePort === remotePort && (remoteAddress === undefined || c.remoteAddress === remoteAddress));
}
