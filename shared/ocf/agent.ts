// An agent is data (its parameters and actions with timeouts) plus handlers, as in ClusterLabs'
// ocf.py. Everything else (meta-data, parameter typing, exit codes, logging) is derived.
import type { Deadline } from './deadline.ts';
import type { OcfEnvironment } from './environment.ts';
import type { Logger } from './log.ts';
import type { Outcome } from './outcome.ts';
import type { ParameterSpecs, ParameterValues } from './parameters.ts';

/**
 * One depth of monitor, chosen by the operation's OCF_CHECK_LEVEL (OCF 1.1: 0 lightest, 10, 20
 * heaviest). Meta-data lists one monitor action per depth with its recommended interval and
 * timeout; pcs makes one operation of each.
 */
export interface MonitorDepth {
  /** The name handlers and monitor_check know it by ("process", "api", "token"). */
  readonly name: string;
  readonly level: number;
  /** Recommended interval and timeout, in seconds. */
  readonly interval: number;
  readonly timeout: number;
  /** What this depth checks, for documentation. */
  readonly checks: string;
}

/**
 * One check a monitor makes. A check whose failure can be shared (a database, credentials, a
 * message bus every node uses) is `shared`: its failure is judged by the cluster's evidence
 * (shared/cluster/evidence.ts): each node publishes the check's state, and the peers' states say
 * whether the fault is this node's (recovered) or everyone's (reported, OCF_DEGRADED). A check
 * that is not shared fails as this node's fault.
 */
export interface CheckDeclaration {
  /** Short and stable: it names the node attribute the state is published as ("token", "bus"). */
  readonly name: string;
  /** How reasons name it ("token check"). */
  readonly title: string;
  readonly shared: boolean;
  /** What it checks, for documentation. */
  readonly checks: string;
}

export interface ActionContext<P extends ParameterSpecs> {
  readonly env: OcfEnvironment;
  readonly params: ParameterValues<P>;
  readonly log: Logger;
  /** When this action must be done: Pacemaker's timeout less a margin. */
  readonly deadline: Deadline;
  /**
   * monitor: the depth OCF_CHECK_LEVEL selects, or without it the monitor's default depth
   * (monitor_check). Other actions: the default depth. Read on first use (it reads parameters).
   */
  readonly depth: MonitorDepth;
}

export type Handler<P extends ParameterSpecs> = (context: ActionContext<P>) => Promise<Outcome>;

export interface ActionDeclaration<P extends ParameterSpecs> {
  /** The recommended timeout, in seconds, shown in meta-data and used when Pacemaker gives none. */
  readonly timeout: number;
  readonly run: Handler<P>;
}

export interface MonitorDeclaration<P extends ParameterSpecs> {
  /** Level 0 first, levels ascending. */
  readonly depths: readonly MonitorDepth[];
  /** The depth of an operation without OCF_CHECK_LEVEL: monitor_check's meaning, as before depths existed. */
  readonly defaultDepth: (context: Pick<ActionContext<P>, 'params' | 'env'>) => string;
  /**
   * Whether a depth can run with these parameters (keystone's token check needs credentials). A
   * level asked for by OCF_CHECK_LEVEL that cannot runs the next lower one, as an unimplemented one does.
   */
  readonly available?: (depth: MonitorDepth, context: Pick<ActionContext<P>, 'params' | 'env'>) => boolean;
  /** The checks monitor makes beyond the process, and which of them the cluster's evidence judges. */
  readonly checks?: readonly CheckDeclaration[];
  readonly run: Handler<P>;
}

export type ActionName = 'start' | 'stop' | 'monitor' | 'validate-all' | 'reload';

export interface Agent<P extends ParameterSpecs = ParameterSpecs> {
  readonly name: string;
  readonly shortdesc: string;
  readonly longdesc: string;
  readonly parameters: P;
  readonly actions: { readonly [A in Exclude<ActionName, 'monitor'>]?: ActionDeclaration<P> } & {
    readonly start: ActionDeclaration<P>;
    readonly stop: ActionDeclaration<P>;
    readonly monitor: MonitorDeclaration<P>;
    readonly 'validate-all': ActionDeclaration<P>;
  };
}

// Agents differ in their parameters; the runner handles any of them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAgent = Agent<any>;

export function defineAgent<P extends ParameterSpecs>(agent: Agent<P>): Agent<P> {
  return agent;
}
