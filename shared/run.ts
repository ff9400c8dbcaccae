// The one place an OCF call becomes an exit code: it reads the environment, runs the action,
// writes the `ocf-exit-reason:` line and logs. Handlers never exit and never print reasons.
import type { Agent, AnyAgent } from './agent.ts';
import { Deadline } from './deadline.ts';
import { readEnvironment, type Env } from './environment.ts';
import { OCF, ocfCodeName, type OcfCode } from './exit-codes.ts';
import { writeStderr, writeStdout } from './io.ts';
import { Logger } from './log.ts';
import { renderMetadata } from './metadata.ts';
import { OcfError, type Outcome } from './outcome.ts';
import { checkParameters, readParameters, secretValues } from './parameters.ts';

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Pacemaker's default operation timeout, for an action the agent does not declare. */
const DEFAULT_TIMEOUT_S = 20;
/** Kept free before Pacemaker's timeout for the process to exit. */
const EXIT_RESERVE_MS = 300;

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
  const declared = action === undefined ? undefined : agent.actions[action as keyof Agent['actions']];
  const timeoutMs = env.timeoutMs ?? (declared?.timeout ?? DEFAULT_TIMEOUT_S) * 1000;
  // The last log lines may use the action's margin, not more: Pacemaker kills the action at its timeout.
  const reportBy = Deadline.after(timeoutMs - EXIT_RESERVE_MS);
  let outcome: Outcome;
  if (action === undefined) {
    output.stderr(usage(agent));
    outcome = { code: OCF.ERR_ARGS, reason: 'no action given' };
  } else if (declared === undefined) {
    outcome = { code: OCF.ERR_UNIMPLEMENTED, reason: `action ${action} is not implemented by ${agent.name}` };
  } else {
    for (const secret of secretValues(agent.parameters, env)) log.addSecret(secret);
    const context = {
      env,
      log,
      params: readParameters(agent.parameters, env),
      deadline: Deadline.forAction(timeoutMs),
    };
    const run = async () => {
      // Every action but stop checks all parameters first: a malformed one is OCF_ERR_CONFIGURED.
      // Stop reads only what it needs, so a bad value can never keep a daemon from being stopped.
      if (action !== 'stop') checkParameters(agent.parameters, context.params);
      return declared.run(context);
    };
    outcome = await run().catch((error: unknown) => outcomeOfError(error, log));
  }
  if (outcome.reason !== undefined && outcome.code !== OCF.SUCCESS) {
    const reason = log.redact(outcome.reason).replace(/\s*\n\s*/g, ' ');
    output.stderr(`${env.exitReasonPrefix}${reason}\n`);
    const expected = outcome.code === OCF.NOT_RUNNING || outcome.code === OCF.ERR_UNIMPLEMENTED;
    log.log(expected ? 'info' : 'err', `${action}: ${reason}`);
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
