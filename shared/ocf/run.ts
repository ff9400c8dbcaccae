// The one place an OCF call becomes an exit code: it reads the environment, runs the action,
// writes the `ocf-exit-reason:` line and logs. Handlers never exit and never print reasons.
import type { ActionDeclaration, AnyAgent, MonitorDeclaration } from './agent.ts';
import { Deadline } from './deadline.ts';
import { resolveDepth } from './depth.ts';
import { readEnvironment, type Env } from './environment.ts';
import { OCF, ocfCodeName, type OcfCode } from './exit-codes.ts';
import { writeStderr, writeStdout } from './output.ts';
import { Logger } from './log.ts';
import { renderMetadata } from './metadata.ts';
import { boundedReason, OcfError, shownText, type Outcome } from './outcome.ts';
import { checkParameters, readParameters, secretValues, type ParameterSpecs } from './parameters.ts';

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Pacemaker's default operation timeout, for an action the agent does not declare. */
const DEFAULT_TIMEOUT_S = 20;

export const processOutput: Output = { stdout: writeStdout, stderr: writeStderr };

export function usage(agent: AnyAgent): string {
  const actions = [...Object.keys(agent.actions), 'meta-data'].join('|');
  return `usage: ${agent.name} {${actions}}\n`;
}

export async function runAgent(agent: AnyAgent, action: string | undefined, variables: Env, output: Output = processOutput): Promise<OcfCode> {
  if (action === 'meta-data') {
    output.stdout(renderMetadata(agent));
    return OCF.SUCCESS;
  }
  if (action === 'usage' || action === 'help' || action === '--help') {
    output.stdout(usage(agent));
    return OCF.SUCCESS;
  }
  const env = readEnvironment(agent.name, action ?? '', variables);
  const log = new Logger(env.log);
  const declared = action === undefined ? undefined : (agent.actions as Record<string, ActionDeclaration<ParameterSpecs> | MonitorDeclaration<ParameterSpecs>>)[action];
  // Without Pacemaker's timeout, the declared one (a monitor's: its deepest depth's, the longest).
  const declaredTimeoutS = declared === undefined ? DEFAULT_TIMEOUT_S
    : 'timeout' in declared ? declared.timeout : Math.max(...declared.depths.map((depth) => depth.timeout));
  // The syslog writes at exit are bounded by the action's own deadline, which keeps its margin
  // before Pacemaker's timeout (Deadline.forAction): a stuck logger never turns an outcome into a timeout.
  const reportBy = Deadline.forAction(env.timeoutMs ?? declaredTimeoutS * 1000);
  let outcome: Outcome;
  if (action === undefined) {
    output.stderr(usage(agent));
    outcome = { code: OCF.ERR_ARGS, reason: 'no action given' };
  } else if (declared === undefined) {
    outcome = { code: OCF.ERR_UNIMPLEMENTED, reason: `action ${action} is not implemented by ${agent.name}` };
  } else {
    for (const secret of secretValues(agent.parameters, env)) log.addSecret(secret);
    const params = readParameters(agent.parameters, env);
    const run = async () => {
      // Every action but stop checks all parameters first: a malformed one is OCF_ERR_CONFIGURED.
      // Stop reads only what it needs, so a bad value can never keep a daemon from being stopped.
      if (action !== 'stop') checkParameters(agent.parameters, params);
      const monitor = agent.actions.monitor;
      const depthOf = () => resolveDepth(monitor, action === 'monitor' ? env.checkLevel : undefined, { params, env });
      // A monitor's timeout is its depth's; resolving it first makes a bad OCF_CHECK_LEVEL a clean failure.
      const depth = action === 'monitor' ? depthOf() : undefined;
      const timeout = 'timeout' in declared ? declared.timeout : depth!.timeout;
      const context = {
        env,
        log,
        params,
        deadline: Deadline.forAction(env.timeoutMs ?? timeout * 1000),
        get depth() {
          return depth ?? depthOf();
        },
      };
      if (depth) log.debug(`monitor depth ${depth.name} (level ${depth.level})`);
      return declared.run(context);
    };
    outcome = await run().catch((error: unknown) => outcomeOfError(error, log));
  }
  if (outcome.reason !== undefined && outcome.code !== OCF.SUCCESS) {
    // Redacted, quoted values cut, on one line, then bounded: the only way a reason leaves the agent.
    const reason = exitReason(outcome.reason, log);
    output.stderr(`${env.exitReasonPrefix}${reason}\n`);
    const expected = outcome.code === OCF.NOT_RUNNING || outcome.code === OCF.ERR_UNIMPLEMENTED;
    // Degraded is running: a warning for the operator, not an error Pacemaker acts on.
    log.log(expected ? 'info' : outcome.code === OCF.DEGRADED ? 'warn' : 'err', `${action}: ${reason}`);
  }
  log.debug(`${action} exits with ${ocfCodeName(outcome.code)}`);
  await log.flush(reportBy.remaining());
  return outcome.code;
}

function outcomeOfError(error: unknown, log: Logger): Outcome {
  if (error instanceof OcfError) return error.outcome;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.stack) log.debug(error.stack);
  return { code: OCF.ERR_GENERIC, reason: message };
}

/** An outcome's reason as it is written: secrets blanked, quoted values cut, one line, at most 256 bytes. */
export function exitReason(reason: string, log: Pick<Logger, 'redact'>): string {
  return boundedReason(shownText(reason, (text) => log.redact(text)).replace(/\s*\n\s*/g, ' ').trim());
}
