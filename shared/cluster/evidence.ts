// Local or shared, decided by the cluster's evidence. A node alone cannot tell whether a failing
// check is its own fault (recover it here) or a fault every node shares (report it, OCF_DEGRADED):
// the peers can. Each node publishes the state of each shared check through Pacemaker's attribute
// daemon as a private node attribute (attrd_updater -p: kept in memory, never written to the CIB,
// starts no transition); a node whose check fails reads the same attribute of the peers and:
//   - a peer confirmed "ok" AFTER this node's failure began: this node's fault, 1 (5 once a restart
//     of this node's daemon did not repair it);
//   - every peer that reported since reports "failing": shared, 190, naming the nodes;
//   - no evidence (a primitive, a lone instance, silent or stale peers, attrd not answering): 190,
//     the safe default.
// Clocks: times are the nodes' wall clocks (epoch seconds), kept in step by NTP as the seeds run it;
// the rule counts a peer's "ok" only when confirmed more than SKEW_S after this node's failure began,
// so a few seconds of skew never turn a shared fault into a local one.
import type { ActionContext, CheckDeclaration } from '../ocf/agent.ts';
import { processAgeMs } from '../ocf/deadline.ts';
import { OCF, type OcfCode } from '../ocf/exit-codes.ts';
import { degraded, failure, shownText, type Outcome } from '../ocf/outcome.ts';
import type { ParameterSpecs } from '../ocf/parameters.ts';
import { readState, writeState } from '../process/state-file.ts';

/** Clock skew between nodes the rule tolerates, in seconds (NTP keeps them well within it). */
export const SKEW_S = 5;

/** Longest reason published: the attribute is a summary, the log and crm_mon have the rest. */
const REASON_MAX = 80;

/** What one node published for one check. Times are epoch seconds. */
export interface PublishedState {
  readonly state: 'ok' | 'failing';
  /** When the node's check entered this state. */
  readonly since: number;
  /** When the node last confirmed it (its last publish). */
  readonly confirmed: number;
  /** The publisher's monitor interval, in seconds: a state not confirmed for two of them is stale. */
  readonly every: number;
  readonly reason: string;
}

/** A published state: `ok|SINCE|CONFIRMED|EVERY|REASON`, compact, one line, no quotes. */
export function encodeState(s: PublishedState): string {
  const reason = [...s.reason.replace(/[\x00-\x1f\x7f"|\\]+/g, ' ').trim()].slice(0, REASON_MAX).join('');
  return `${s.state}|${Math.floor(s.since)}|${Math.floor(s.confirmed)}|${Math.max(1, Math.round(s.every))}|${reason}`;
}

export function decodeState(text: string): PublishedState | undefined {
  const match = /^(ok|failing)\|(\d{1,12})\|(\d{1,12})\|(\d{1,7})\|(.*)$/s.exec(text);
  if (!match) return undefined;
  return { state: match[1] as 'ok' | 'failing', since: Number(match[2]), confirmed: Number(match[3]), every: Number(match[4]), reason: match[5]! };
}

/** The node attribute of one check of one resource: the clone's instances share it (":N" dropped). */
export function attributeName(instance: string, check: string): string {
  const resource = instance.replace(/:\d+$/, '');
  return `ocf-openstack-${resource}-${check}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 120);
}

export interface PeerState extends PublishedState {
  readonly node: string;
}

export type Verdict =
  /** A peer passes, confirmed after this node's failure began. */
  | { readonly kind: 'local'; readonly passing: readonly PeerState[] }
  /** Every peer that reported since this node's failure began reports failing too. */
  | { readonly kind: 'shared'; readonly failing: readonly PeerState[] }
  /** Nothing to go by. */
  | { readonly kind: 'none' };

/** Whether a peer's state is still current: confirmed within two of its intervals, and not from the future. */
function current(peer: PublishedState, now: number, skew: number): boolean {
  return peer.confirmed <= now + skew && now - peer.confirmed <= 2 * peer.every + skew;
}

/**
 * Whether a peer's pass tells against this node: confirmed after this node's failure began, and
 * passing throughout it (its pass began before this failure did) or for longer than one of its
 * intervals, or than `settleS` when longer. A pass that has only just begun is the end of a shared
 * fault as often as not: when the database comes back, the peers pass at once while a check here
 * begun before may still fail; that is no evidence yet, and the next monitor decides. `settleS` is
 * for a check whose recovery lags by more than an interval (a message bus client reconnects at its
 * next publish, after a growing pause).
 */
function passesAgainst(peer: PublishedState, since: number, now: number, skew: number, settleS: number): boolean {
  if (peer.state !== 'ok' || peer.confirmed <= since + skew) return false;
  return peer.since <= since + skew || now - peer.since > Math.max(peer.every, settleS) + skew;
}

/**
 * The rule, a pure function: this node's check has failed since `since` (epoch s); `peers` are the
 * other nodes' published states (this node's own excluded), `now` the time of judgement.
 * `lookedFrom` (epoch s, default `since`) is when the look that found the failure began: a check
 * that hangs until its timeout (10 s for Keystone's token) finds a failure that was there when it
 * began, and a peer's failing report confirmed meanwhile is as much since it. Only "shared" is
 * widened so: a pass still has to come after `since` to tell against this node. `settleS`: see
 * passesAgainst (seconds; 0: one of the peer's intervals).
 */
export function judge(since: number, peers: readonly PeerState[], now: number, skew = SKEW_S, lookedFrom = since, settleS = 0): Verdict {
  const live = peers.filter((peer) => current(peer, now, skew));
  const passing = live.filter((peer) => passesAgainst(peer, since, now, skew, settleS)).sort((a, b) => b.confirmed - a.confirmed);
  if (passing.length > 0) return { kind: 'local', passing };
  const reported = live.filter((peer) => peer.confirmed >= Math.min(since, lookedFrom) - skew);
  if (reported.length > 0 && reported.every((peer) => peer.state === 'failing')) {
    return { kind: 'shared', failing: [...reported].sort((a, b) => a.node.localeCompare(b.node)) };
  }
  return { kind: 'none' };
}

/** hh:mm:ss, UTC (the nodes' logs and crm_mon are read side by side; NTP keeps them in step). */
export function clock(epochS: number): string {
  return new Date(epochS * 1000).toISOString().slice(11, 19);
}

export interface Judgement {
  readonly code: OcfCode;
  readonly reason: string;
}

/**
 * The exit code and reason for a failing shared check: `problem` as the check found it, `since`
 * when it began here, `restarted` whether this node's daemon was restarted since (a local fault a
 * restart did not repair is 5: Pacemaker bans this node), `unrepairable` when the agent knows the
 * cause is a file of this node a restart cannot repair.
 */
export function outcomeOf(check: Pick<CheckDeclaration, 'title'>, self: string, since: number, verdict: Verdict, problem: string, options: { restarted?: boolean; unrepairable?: boolean } = {}): Judgement {
  switch (verdict.kind) {
    case 'local': {
      const peer = verdict.passing[0]!;
      const others = verdict.passing.length > 1 ? ` and ${verdict.passing.length - 1} more` : '';
      const hopeless = options.unrepairable || options.restarted;
      const tail = options.restarted && !options.unrepairable ? ', not repaired by a restart' : '';
      return {
        code: hopeless ? OCF.ERR_INSTALLED : OCF.ERR_GENERIC,
        reason: `${check.title} fails here since ${clock(since)}, passes on ${peer.node} at ${clock(peer.confirmed)}${others}: this node's fault${tail}: ${problem}`,
      };
    }
    case 'shared': {
      const nodes = [self, ...verdict.failing.map((peer) => peer.node)].sort();
      return { code: OCF.DEGRADED, reason: `${check.title} fails on ${nodes.join(', ')} since ${clock(since)}, shared: ${problem}` };
    }
    case 'none':
      return { code: OCF.DEGRADED, reason: problem };
  }
}

// ---- the plumbing: this node's memory of its publishes, and attrd_updater ----

type Context = Pick<ActionContext<ParameterSpecs>, 'env' | 'log' | 'deadline'>;

/** What this node published last for a check, kept in HA_RSCTMP (survives the daemon's restarts). */
interface Kept {
  readonly state: 'ok' | 'failing';
  readonly since: number;
  /** When it was last published, epoch ms. */
  readonly published: number;
  /**
   * The daemon's pid when the failure was first judged this node's: another pid now means a restart
   * did not repair it. Not when it began: a restart during a shared fault (for another reason) is no
   * restart tried against a fault of this node.
   */
  readonly pid?: number;
  /** What the failure was last found as, when its caller named it (Failed.cause): forgetFailure's key. */
  readonly cause?: string;
}

function keptFile(context: Context, check: CheckDeclaration): string {
  return `${context.env.rscTmp}/${attributeName(context.env.instance, check.name)}.evidence`;
}

function recall(file: string): Kept | undefined {
  const kept = readState(file) as Partial<Kept> | undefined;
  if ((kept?.state !== 'ok' && kept?.state !== 'failing') || typeof kept.since !== 'number' || typeof kept.published !== 'number') return undefined;
  return kept as Kept;
}

function keep(context: Context, file: string, kept: Kept): void {
  try {
    writeState(file, kept);
  } catch (error) {
    context.log.debug(`cannot keep the evidence state in ${file}: ${(error as Error).message}`);
  }
}

/** This node's name when the evidence applies: run by Pacemaker (which names the node) as a clone. */
export function evidenceNode(env: Context['env']): string | undefined {
  const node = env.variables.OCF_RESKEY_CRM_meta_on_node;
  return node && (env.cloneMax ?? 1) > 1 ? node : undefined;
}

/** The monitor interval in seconds, for publishing and staleness; probes count as 10 s. */
function intervalS(env: Context['env']): number {
  return Math.max(1, Math.round((env.intervalMs || 10_000) / 1000));
}

interface Ran {
  readonly code: number | undefined;
  readonly stdout: string;
}

/** attrd_updater with a bounded time; undefined when it could not run or answer. node:child_process is loaded here only. */
async function attrd(args: readonly string[], timeoutMs: number): Promise<Ran | undefined> {
  if (timeoutMs < 100) return undefined;
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    // A minimal environment: no OCF_RESKEY_* (passwords) reaches it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key === 'PATH' || key.startsWith('PCMK_')));
    execFile('attrd_updater', [...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error && typeof (error as { code?: unknown }).code !== 'number') return resolve(undefined);
      resolve({ code: error ? (error as { code: number }).code : 0, stdout });
    });
  });
}

/** Publish this node's state; false when attrd did not take it. */
export async function publish(context: Context, name: string, state: PublishedState): Promise<boolean> {
  const ran = await attrd(['-p', '-n', name, '-U', encodeState({ ...state, reason: shownText(state.reason, (text) => context.log.redact(text)) })], context.deadline.bound(2000));
  if (ran?.code !== 0) context.log.debug(`attrd_updater did not take ${name}: no evidence published`);
  return ran?.code === 0;
}

/**
 * `attrd_updater -Q -A` output: one line per node, `name="N" host="H" value="V"` (Pacemaker 2.1;
 * the fields read by name, in any order, so that a reordering or an added field is no surprise).
 */
export function parseQuery(text: string, name: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const fields = new Map([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const host = fields.get('host') ?? fields.get('node');
    if (fields.get('name') === name && host !== undefined && fields.has('value')) values.set(host, fields.get('value')!);
  }
  return values;
}

/** Every node's published state of one check; empty when attrd does not answer (no evidence, never a failure). */
export async function readPeers(context: Context, name: string): Promise<Map<string, PublishedState>> {
  const ran = await attrd(['-n', name, '-Q', '-A'], context.deadline.bound(3000));
  const states = new Map<string, PublishedState>();
  if (ran?.code !== 0) return states;
  for (const [node, value] of parseQuery(ran.stdout, name)) {
    const state = decodeState(value);
    if (state) states.set(node, state);
  }
  return states;
}

/**
 * A shared check passed on this node: publish "ok" when it changed, or at most once per monitor
 * interval (a healthy monitor spawns nothing in between). Nothing outside a clone run by Pacemaker.
 */
export async function checkPassed(context: Context, check: CheckDeclaration, detail = 'passes'): Promise<void> {
  if (!check.shared || evidenceNode(context.env) === undefined) return;
  const file = keptFile(context, check);
  const kept = recall(file);
  const nowMs = Date.now();
  const every = intervalS(context.env);
  // A tenth of an interval early: monitors do not start on the exact second.
  if (kept?.state === 'ok' && nowMs - kept.published < every * 900) return;
  // A pass goes on only while it was published within a few intervals: after a stop, or monitors
  // that could not judge, it is a new pass, not one the peers could take as lasting through their failure.
  const since = kept?.state === 'ok' && nowMs - kept.published <= memoryMs(every) ? kept.since : Math.floor(nowMs / 1000);
  await publish(context, attributeName(context.env.instance, check.name), { state: 'ok', since, confirmed: Math.floor(nowMs / 1000), every, reason: detail });
  keep(context, file, { state: 'ok', since, published: nowMs });
}

export interface Failed {
  /** This node's daemon now: a different pid than when the failure began means it was restarted since. */
  readonly pid?: number;
  /** The agent knows a restart cannot repair it (a file of this node): a local fault is 5 at once. */
  readonly unrepairable?: boolean;
  /** Seconds a peer's recovered pass must have lasted before it tells against this node (judge's settleS). */
  readonly settleS?: number;
  /**
   * A symptom whose cause is this node's unless the peers show otherwise (Keystone's API not
   * answering at all): with no peer's state current, none to come (a primitive, peers stopped or
   * gone, attrd not answering), it is this node's fault (1) instead of the safe default 190.
   */
  readonly localWhenAlone?: boolean;
  /**
   * A name for what the failure was found as, kept with it, so that a check which finds the same
   * symptom gone can end this failure (forgetFailure) where no pass of `check` itself would come.
   */
  readonly cause?: string;
}

/** How long a state this node kept goes on unpublished (ms): a few monitor intervals, a restart in between included. */
function memoryMs(every: number): number {
  return (3 * every + 30) * 1000;
}

/** Whether the failure this node kept is still the same failure: published within memoryMs. */
function stillFailing(kept: Kept | undefined, nowMs: number, every: number): kept is Kept {
  return kept?.state === 'failing' && nowMs - kept.published <= memoryMs(every);
}

/**
 * A shared check that cannot be judged yet on this node (a daemon just restarted that has not had
 * its chance to pass): nothing is published, neither a pass the peers would take as evidence nor a
 * failure. A failure this node kept stays the same failure meanwhile, with the pid it began under:
 * when the check fails again after a restart, the restart is known not to have repaired it (5). A
 * pass it kept is left to age: the next pass is a new one once it is older than memoryMs.
 */
export function checkPending(context: Context, check: CheckDeclaration): void {
  if (!check.shared || evidenceNode(context.env) === undefined) return;
  const file = keptFile(context, check);
  const kept = recall(file);
  const nowMs = Date.now();
  if (stillFailing(kept, nowMs, intervalS(context.env))) keep(context, file, { ...kept, published: nowMs });
}

/**
 * A check failed on this node: the outcome the cluster's evidence gives. A check that is not
 * shared is this node's fault (1). A shared one is published as failing, then judged against the
 * peers' states (see judge): local 1 (or 5), shared 190 naming the nodes, no evidence 190.
 */
export async function checkFailed(context: Context, check: CheckDeclaration, problem: string, failed: Failed = {}): Promise<Outcome> {
  if (!check.shared) return failure(OCF.ERR_GENERIC, problem);
  const self = evidenceNode(context.env);
  if (self === undefined) return failed.localWhenAlone ? failure(OCF.ERR_GENERIC, problem) : degraded(problem);
  const file = keptFile(context, check);
  const kept = recall(file);
  const nowMs = Date.now();
  const now = Math.floor(nowMs / 1000);
  const every = intervalS(context.env);
  const ongoing = stillFailing(kept, nowMs, every);
  const since = ongoing ? kept.since : now;
  const name = attributeName(context.env.instance, check.name);
  // A failing check's monitor runs its interval after the last one ended, and this one took its
  // time: the state stays current for two intervals of that length, not of the interval alone.
  const ageMs = processAgeMs();
  const failingEvery = every + Math.ceil(ageMs / 1000);
  await publish(context, name, { state: 'failing', since, confirmed: now, every: failingEvery, reason: problem });
  const peers = [...(await readPeers(context, name))].filter(([node]) => node !== self).map(([node, state]) => ({ node, ...state }));
  // This action began before its check did (the process's start, as Pacemaker's timer counts it).
  const lookedFrom = Math.floor((nowMs - ageMs) / 1000);
  const judgedAt = Math.floor(Date.now() / 1000);
  const verdict = judge(since, peers, judgedAt, SKEW_S, lookedFrom, failed.settleS ?? 0);
  const localPid = ongoing && kept.pid !== undefined ? kept.pid : verdict.kind === 'local' ? failed.pid : undefined;
  // The cause is the latest finding's: a failure last found otherwise is not ended by forgetFailure.
  const { cause } = failed;
  keep(context, file, { state: 'failing', since, published: nowMs, ...(localPid === undefined ? {} : { pid: localPid }), ...(cause === undefined ? {} : { cause }) });
  const restarted = localPid !== undefined && failed.pid !== undefined && failed.pid !== localPid;
  if (verdict.kind === 'none' && failed.localWhenAlone && !peers.some((peer) => current(peer, judgedAt, SKEW_S))) {
    return failure(OCF.ERR_GENERIC, problem);
  }
  const judged = outcomeOf(check, self, since, verdict, problem, { restarted, ...(failed.unrepairable ? { unrepairable: true } : {}) });
  if (verdict.kind === 'none') context.log.debug(`${check.title}: no evidence from the peers (${peers.length} published): reported as shared`);
  return judged.code === OCF.DEGRADED ? degraded(judged.reason) : failure(judged.code, judged.reason);
}

/**
 * The symptom a failure of `check` was found as (Failed.cause) is gone: the failure this node kept
 * ends, so that a new one begins anew (its own start, not the old one's, against which the peers'
 * passes in between would count). One small file read when there is nothing to forget; nothing
 * spawned, nothing published (the peers see this node's failing state go stale, or its next pass).
 */
export function forgetFailure(context: Context, check: CheckDeclaration, cause: string): void {
  if (!check.shared || evidenceNode(context.env) === undefined) return;
  const file = keptFile(context, check);
  const kept = recall(file);
  if (kept?.state === 'failing' && kept.cause === cause) keep(context, file, { state: 'failing', since: kept.since, published: 0 });
}

/** For start and reload: what the peers say of a failing shared check, in words, for the log (never waited for). */
export async function peersSay(context: Context, check: CheckDeclaration): Promise<string> {
  const self = evidenceNode(context.env);
  if (!check.shared || self === undefined) return 'no peer evidence (not a clone run by Pacemaker)';
  const peers = [...(await readPeers(context, attributeName(context.env.instance, check.name)))].filter(([node]) => node !== self);
  if (peers.length === 0) return 'no peer has published it';
  return peers.map(([node, s]) => `${node} ${s.state} at ${clock(s.confirmed)}`).join(', ');
}
