// Which monitor depth one call runs: OCF_CHECK_LEVEL when the operation sets it (OCF 1.1, "Check
// levels"), otherwise the declared default (monitor_check), so configurations made before depths
// existed behave as before.
import type { ActionContext, MonitorDeclaration, MonitorDepth } from './agent.ts';
import { OCF } from './exit-codes.ts';
import { fail } from './outcome.ts';
import type { ParameterSpecs } from './parameters.ts';

export function resolveDepth<P extends ParameterSpecs>(
  monitor: MonitorDeclaration<P>,
  requested: string | undefined,
  context: Pick<ActionContext<P>, 'params' | 'env'>,
): MonitorDepth {
  if (requested === undefined) {
    const name = monitor.defaultDepth(context);
    const depth = monitor.depths.find((candidate) => candidate.name === name);
    if (!depth) throw new Error(`monitor declares no depth named ${name}`);
    return depth;
  }
  if (!/^\d+$/.test(requested)) {
    fail(OCF.ERR_CONFIGURED, `OCF_CHECK_LEVEL "${requested}" is not a number (levels: ${monitor.depths.map((d) => d.level).join(', ')})`);
  }
  const level = Number(requested);
  // The deepest depth at or below the level asked for that can run here; level 0 always can.
  const runnable = monitor.depths.filter((depth) => depth.level <= level && (depth.level === 0 || (monitor.available?.(depth, context) ?? true)));
  return runnable.at(-1) ?? monitor.depths[0]!;
}
