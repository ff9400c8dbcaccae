// Which processes are this resource's: the one place that decides it. Pidfile reading, probes,
// monitor, stop, start's "already running" and the search for the resource marker all ask here.
//
// THE RULE. A process is this resource's only if everything agrees:
//
//   check                      threat it answers
//   ------------------------   ------------------------------------------------------------------
//   executable                 /proc/PID/exe is the daemon's binary (or, for a script, the
//                              interpreter its #! line names). A pidfile in a directory the service
//                              user owns (Debian's /run/memcached) may name any pid: sshd, corosync,
//                              a kernel thread (no exe at all). Without this check root would probe
//                              them as "running" and SIGTERM/SIGKILL them with their whole tree.
//   owner                      the real uid (/proc/PID/status) is the one root launched it as (the
//                              pidfile's uid=, written by root, else the resource's user). Any local
//                              user can run /usr/bin/memcached with the marker in its environment;
//                              only root can make a process of another uid.
//   start time + boot          for the pid a launch record names: /proc/PID/stat's start time and
//                              this boot's id equal what root recorded at launch (pids are recycled).
//   session / parentage        with a launch record of this boot, a process found by its marker must
//                              have started after that launch (its workers, what a daemon that
//                              daemonized itself left); with no launch record at all, it must lead
//                              a session of its own (root launches daemons as session leaders) or
//                              belong to the session of one that passes every other check.
//                              Descendants of a process of ours are ours: only the kernel sets
//                              parentage.
//   network namespace          a marker search counts only processes in the agent's own network
//                              namespace (another cluster node or a container on the same kernel
//                              runs the same resource's daemon, with the same marker).
//   marker                     OCF_OPENSTACK_RESOURCE=AGENT:RESOURCE in /proc/PID/environ. Anyone
//                              can set it, so it proves nothing alone: it only tells this resource's
//                              daemon from another resource's running the same program as the same
//                              user. A launch record's process may have overwritten it (uwsgi's
//                              procname, setproctitle): there start time, boot, exe and uid decide.
//
// ORDER AND BOUNDS. Reading /proc/PID/environ (and cmdline) takes the target's mm lock: a process
// stuck in D state holding it blocks the read. So candidates are narrowed first by what never
// takes that lock (the exe link, the uid in status, the session in stat, the namespace link), and
// the environ of the few left is read asynchronously, off the event loop, raced against the
// action's deadline: a read that does not answer in time is abandoned (its thread stays blocked
// until the process exits, the agent does not wait for it) and the process is not taken for ours.
// A search says when it was not whole (the walk cut by the deadline, environments unanswered):
// stop never calls a resource stopped on such a look. An unanswered candidate may be our daemon
// stuck in D state, and a stop that fails (fencing) is what a stuck daemon needs. Nothing here
// reads cmdline.
//
// A FAILING START'S OWN LAUNCH. What the process root has just launched (its unreaped child) put
// in a session of its own is found by marker, uid, namespace and start time only, whatever program
// it runs (a launcher may daemonize another program): only to stop it as part of that failed start.
//
// RESIDUAL. The service user itself can run the daemon's binary with the marker as a session
// leader; when no launch record exists (the pidfile was removed) that process passes, and root
// treats it as the daemon: it may report it running and signal it. That is the service user's own
// process running the service's program: no other user's process is reached.
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Deadline } from '../ocf/deadline.ts';
import { readPidfile, type PidRecord } from './pidfile.ts';
import { bootId, executable, isAlive, processTree, RESOURCE_MARKER, startTime } from './proc.ts';

/** What a process of this resource must be. */
export interface Expected {
  /** The paths /proc/PID/exe may show: the binary's real path, or its #! interpreter's. */
  readonly executables: readonly string[];
  /** When the binary could not be resolved: its name, matched against the exe's base name. */
  readonly name?: string;
  /** The uid it runs as when no launch record says so (the resource's user, or root). */
  readonly uid: number | undefined;
  /** This resource's marker, AGENT:RESOURCE. */
  readonly marker: string;
}

const INTERPRETER_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The interpreter the kernel runs for a script (its #! line, `env NAME` resolved); undefined for a binary. */
export function interpreterOf(path: string): string | undefined {
  let head = '';
  try {
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(256);
      head = buffer.toString('utf8', 0, readSync(fd, buffer, 0, 256, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const match = /^#!\s*(\S+)(?:[ \t]+(\S+))?/.exec(head);
  if (!match) return undefined;
  const [, program, argument] = match;
  if (basename(program!) === 'env' && argument && !argument.startsWith('-')) {
    for (const dir of INTERPRETER_PATH) {
      const found = realPath(join(dir, argument));
      if (found) return found;
    }
    return undefined;
  }
  return realPath(program!);
}

/** What this resource's processes must be, for a binary given by its resolved path (or its name when it cannot be found). */
export function expectedProcess(binary: string, resolved: string | undefined, uid: number | undefined, marker: string): Expected {
  if (resolved === undefined) return { executables: [], name: basename(binary), uid, marker };
  const interpreter = interpreterOf(resolved);
  return { executables: interpreter ? [resolved, interpreter] : [resolved], uid, marker };
}

/** The real uid of a live process (/proc/PID/status); undefined when gone. */
export function uidOf(pid: number): number | undefined {
  try {
    const match = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The session id (/proc/PID/stat field 6). */
export function sessionOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const session = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3];
    return session === undefined ? undefined : Number(session);
  } catch {
    return undefined;
  }
}

function networkNamespace(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** Does /proc/PID/exe show the daemon's program? A kernel thread has no exe: never. */
export function runsProgram(pid: number, expected: Expected): boolean {
  const exe = executable(pid);
  if (exe === undefined) return false;
  if (expected.executables.includes(exe)) return true;
  return expected.name !== undefined && basename(exe) === expected.name;
}

/** Why `pid` is not the program and owner expected; undefined when both agree. */
function programProblem(pid: number, expected: Expected, uid: number | undefined): string | undefined {
  if (!runsProgram(pid, expected)) {
    const exe = executable(pid);
    return exe === undefined ? 'it runs no program of its own (a kernel thread)' : `it runs ${exe}`;
  }
  const owner = uidOf(pid);
  if (uid === undefined || owner !== uid) return `it runs as uid ${owner ?? '?'}${uid === undefined ? '' : `, not ${uid}`}`;
  return undefined;
}

// One read per process (pid and start time) per agent call: a stuck read is never issued twice.
const environReads = new Map<string, Promise<string | undefined>>();

function readEnviron(pid: number): Promise<string | undefined> {
  const key = `${pid}:${startTime(pid)}`;
  let read = environReads.get(key);
  if (!read) {
    read = readFile(`/proc/${pid}/environ`, 'latin1').catch(() => undefined);
    environReads.set(key, read);
  }
  return read;
}

/** What a bounded read found: the value, `absent` (read, no marker), or `unanswered` (the read did not finish in time). */
export type MarkerRead = { readonly marker: string | undefined } | { readonly unanswered: true };

/**
 * The markers of `pids`, read off the event loop and abandoned at `byMs` from now: a process in D
 * state holding its mm lock cannot hold the agent past its deadline.
 */
export async function readMarkers(pids: readonly number[], byMs: number, read: (pid: number) => Promise<string | undefined> = readEnviron): Promise<Map<number, MarkerRead>> {
  const answers = new Map<number, MarkerRead>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, byMs))));
  const reads = pids.map((pid) => read(pid).then((raw) => {
    const entry = raw?.split('\0').find((item) => item.startsWith(`${RESOURCE_MARKER}=`));
    answers.set(pid, { marker: entry === undefined ? undefined : Buffer.from(entry.slice(RESOURCE_MARKER.length + 1), 'latin1').toString('utf8') });
  }));
  await Promise.race([Promise.all(reads), expired]);
  clearTimeout(timer);
  for (const pid of pids) if (!answers.has(pid)) answers.set(pid, { unanswered: true });
  return answers;
}

/** How long one environ read may take within an action: at most a second, never past its deadline. */
function readBound(deadline: Deadline): number {
  return deadline.bound(1000);
}

export type PidStatus =
  | { readonly state: 'running'; readonly pid: number }
  | { readonly state: 'absent' }
  /** The process the pidfile names is gone (its pid may have been reused by another). */
  | { readonly state: 'stale'; readonly pid: number }
  /** A live process that is not ours: never signalled, and its pidfile never removed. */
  | { readonly state: 'foreign'; readonly pid: number; readonly owner?: string; readonly why?: string };

/**
 * What a pidfile says about our daemon, by the rule above. A launch record (start time, boot) names
 * exactly the process root launched; it must still run the program, as the uid recorded, and the
 * record's resource says whose it is. A pidfile with a pid alone (older versions) needs the program,
 * the owner and the marker.
 */
export async function pidfileStatus(path: string, expected: Expected, deadline: Deadline): Promise<PidStatus> {
  const record = readPidfile(path);
  if (record === undefined) return { state: 'absent' };
  return recordStatus(record, expected, deadline);
}

/** The verdict on a launch record (one with a start time), without reading any environment. */
function launchRecordStatus(record: PidRecord & { readonly start: string }, expected: Expected): PidStatus {
  const { pid } = record;
  if (!isAlive(pid) || record.boot !== bootId() || record.start !== startTime(pid)) return { state: 'stale', pid };
  if (record.resource !== undefined && record.resource !== expected.marker) return { state: 'foreign', pid, owner: record.resource };
  const why = programProblem(pid, expected, record.uid ?? expected.uid);
  return why ? { state: 'foreign', pid, why } : { state: 'running', pid };
}

/**
 * The process a launch record in the pidfile names, when it passes the rule; synchronous, for a
 * start polling the daemon it has just launched (whose pidfile root has just written).
 */
export function launchedPid(path: string, expected: Expected): number | undefined {
  const record = readPidfile(path);
  if (record?.start === undefined) return undefined;
  const status = launchRecordStatus({ ...record, start: record.start }, expected);
  return status.state === 'running' ? status.pid : undefined;
}

export async function recordStatus(record: PidRecord, expected: Expected, deadline: Deadline): Promise<PidStatus> {
  const { pid } = record;
  if (record.start !== undefined) return launchRecordStatus({ ...record, start: record.start }, expected);
  if (!isAlive(pid)) return { state: 'stale', pid };
  const why = programProblem(pid, expected, expected.uid);
  if (why) return { state: 'foreign', pid, why };
  const read = (await readMarkers([pid], readBound(deadline))).get(pid)!;
  if ('unanswered' in read) return { state: 'foreign', pid, why: 'its environment could not be read in time' };
  if (read.marker === expected.marker) return { state: 'running', pid };
  return read.marker === undefined ? { state: 'foreign', pid, why: 'it carries no marker' } : { state: 'foreign', pid, owner: read.marker };
}

/** The record processes found by their marker must descend from: a live or stale launch of this resource, never another's. */
function anchorOf(record: PidRecord | undefined, status: PidStatus, expected: Expected): PidRecord | undefined {
  if (record?.start === undefined || record.boot !== bootId()) return undefined;
  if (record.resource !== undefined && record.resource !== expected.marker) return undefined;
  return status.state === 'running' || status.state === 'stale' ? record : undefined;
}

export interface MarkedSearch {
  /** Processes that pass every check, topmost or not. */
  readonly pids: readonly number[];
  /** Candidates (program, owner, session agree) whose environment could not be read in time. */
  readonly unanswered: readonly number[];
  /** False when the deadline cut the walk through /proc short: processes may have been missed. */
  readonly complete: boolean;
}

/**
 * Every live process carrying this resource's marker that passes the rule: candidates narrowed by
 * program, owner, namespace and session first, their environment read last and bounded.
 * `record` is the pidfile's launch record (its session anchors what is found), `status` its verdict.
 */
export async function markedProcesses(expected: Expected, record: PidRecord | undefined, status: PidStatus, deadline: Deadline, readMs = readBound(deadline)): Promise<MarkedSearch> {
  const anchor = anchorOf(record, status, expected);
  const uid = anchor?.uid ?? expected.uid;
  if (uid === undefined) return { pids: [], unanswered: [], complete: true };
  const { pids: candidates, complete } = walkProcesses(deadline, (pid) => runsProgram(pid, expected) && uidOf(pid) === uid && isAlive(pid)
    && !(anchor && Number(startTime(pid)) < Number(anchor.start)));
  const markers = await readMarkers(candidates, Math.min(readMs, deadline.remaining()));
  const marked = candidates.filter((pid) => carries(markers.get(pid)!, expected.marker));
  const unanswered = candidates.filter((pid) => 'unanswered' in markers.get(pid)!);
  // With a launch record of this boot, started after it (its workers, or a daemon that left its
  // session: memcached -d, uwsgi daemonize= double-forks); without one, a session leader that
  // passes every other check, and the members of its session.
  if (anchor) return { pids: marked, unanswered, complete };
  const sessions = new Set(marked.filter((pid) => sessionOf(pid) === pid));
  return { pids: marked.filter((pid) => sessions.has(sessionOf(pid) ?? -1)), unanswered, complete };
}

export interface ProcessIdentity {
  readonly pid: number;
  /** Its start time (/proc/PID/stat): the pid with it names one process, never a reused pid. */
  readonly start: string;
}

/**
 * What a start's own launch put in a session of its own (daemon(3), memcached -d), whatever program
 * it runs by now: processes carrying this resource's marker, of the uid root launched as, in this
 * network namespace, started no earlier than the launched process (`launched` must be our live,
 * unreaped child: its pid and start time are exact), in another session than its. The program is
 * not checked: a launcher (a wrapper script) may daemonize another program. Only a failing start
 * uses this, to stop what its own launch left; the service user's own process started in that
 * window with the marker is the residual above.
 */
export async function detachedFromLaunch(launched: { readonly pid: number; readonly uid: number }, marker: string, deadline: Deadline): Promise<ProcessIdentity[]> {
  const since = Number(startTime(launched.pid));
  const session = sessionOf(launched.pid);
  if (!Number.isFinite(since) || session === undefined) return [];
  const starts = new Map<number, string>();
  const { pids: candidates } = walkProcesses(deadline, (pid) => {
    if (pid === launched.pid || uidOf(pid) !== launched.uid) return false;
    const own = sessionOf(pid);
    const start = startTime(pid);
    if (own === undefined || own === session || start === undefined || Number(start) < since) return false;
    starts.set(pid, start);
    return true;
  });
  const markers = await readMarkers(candidates, readBound(deadline));
  // The start time is read with the other checks and compared after the environment: a pid reused
  // meanwhile is not the process read, and is never signalled for it.
  return candidates.filter((pid) => carries(markers.get(pid)!, marker) && startTime(pid) === starts.get(pid)).map((pid) => ({ pid, start: starts.get(pid)! }));
}

/**
 * The processes in /proc that `keep` accepts, in this agent's network namespace (another node or
 * container on this kernel runs the same resource), never the agent itself. The walk stops at the
 * deadline; `complete` says whether it got through /proc.
 */
function walkProcesses(deadline: Deadline, keep: (pid: number) => boolean): { pids: number[]; complete: boolean } {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return { pids: [], complete: false };
  }
  const ours = networkNamespace('self');
  const pids: number[] = [];
  for (const name of entries) {
    if (deadline.expired()) return { pids, complete: false };
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid !== process.pid && keep(pid) && networkNamespace(pid) === ours) pids.push(pid);
  }
  return { pids, complete: true };
}

function carries(read: MarkerRead, marker: string): boolean {
  return !('unanswered' in read) && read.marker === marker;
}

/** This resource's processes now: the pidfile's verified process, every marked one, and their descendants. */
export async function resourceProcesses(pidfile: string, expected: Expected, deadline: Deadline): Promise<{ pids: number[]; status: PidStatus; unanswered: readonly number[]; complete: boolean }> {
  const record = readPidfile(pidfile);
  const status = record === undefined ? { state: 'absent' as const } : await recordStatus(record, expected, deadline);
  const found = await markedProcesses(expected, record, status, deadline);
  const roots = [...(status.state === 'running' ? [status.pid] : []), ...found.pids];
  return { pids: [...new Set(roots.flatMap(processTree))], status, unanswered: found.unanswered, complete: found.complete };
}

/** A process's start time, as a number for ordering. */
export function startedAt(pid: number): number {
  return Number(startTime(pid) ?? 0);
}
