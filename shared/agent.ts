// An agent is data (its parameters and actions with timeouts) plus handlers, as in ClusterLabs'
// ocf.py. Everything else (meta-data, parameter typing, exit codes, logging) is derived.
import type { Deadline } from './deadline.ts';
import type { OcfEnvironment } from './environment.ts';
import type { Logger } from './log.ts';
import type { Outcome } from './outcome.ts';
import type { ParameterSpecs, ParameterValues } from './parameters.ts';

export interface ActionContext<P extends ParameterSpecs> {
  readonly env: OcfEnvironment;
  readonly params: ParameterValues<P>;
  readonly log: Logger;
  /** When this action must be done: Pacemaker's timeout less a margin. */
  readonly deadline: Deadline;
}

export type Handler<P extends ParameterSpecs> = (context: ActionContext<P>) => Promise<Outcome>;

export interface ActionDeclaration<P extends ParameterSpecs> {
  /** The recommended timeout, in seconds, shown in meta-data and used when Pacemaker gives none. */
  readonly timeout: number;
  /** The recommended interval for recurring actions (monitor), in seconds. */
  readonly interval?: number;
  readonly run: Handler<P>;
}

export type ActionName = 'start' | 'stop' | 'monitor' | 'validate-all' | 'reload';

export interface Agent<P extends ParameterSpecs = ParameterSpecs> {
  readonly name: string;
  readonly shortdesc: string;
  readonly longdesc: string;
  readonly parameters: P;
  readonly actions: { readonly [A in ActionName]?: ActionDeclaration<P> } & {
    readonly start: ActionDeclaration<P>;
    readonly stop: ActionDeclaration<P>;
    readonly monitor: ActionDeclaration<P>;
    readonly 'validate-all': ActionDeclaration<P>;
  };
}

// Agents differ in their parameters; the runner handles any of them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAgent = Agent<any>;

export function defineAgent<P extends ParameterSpecs>(agent: Agent<P>): Agent<P> {
  return agent;
}
