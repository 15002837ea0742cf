import { z } from 'zod';
import { formatDuration } from '../../config/duration.js';
import { integer } from '../../config/fields.js';
import type { ActionContext, RemediationAction } from '../action.js';
import { envAllow, howItEnded, maxOutput, program, setEnv, timeout } from '../process/command-fields.js';
import { childEnv, runProgram, type RunResult } from '../process/spawn.js';

/**
 * Docker's own charset for container names; it also keeps a name from being read as an option
 * ("--rm"), a path or anything but one name.
 */
export const containerName = z
  .string()
  .max(255)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'a container name: letters, digits, "_", "." and "-", not first');

/** `docker restart <container>` (the seed's `docker restart helix_postgres`), then a check it runs. */
export const restartContainerSchema = z
  .object({
    action: z.literal('restart-container'),
    container: containerName,
    /** The docker CLI (or podman, which takes the same arguments). */
    docker: program.default('docker'),
    /** For each docker command. */
    timeout: timeout.default(60_000),
    /** Seconds docker waits for the container to stop before killing it (`--time`). */
    stopTimeout: integer(0, 3600).optional(),
    /** Ask docker afterwards whether the container is running, and fail if it is not. */
    confirm: z.boolean().default(true),
    maxOutput,
    /** What the CLI needs to find its engine; nothing else of the agent's environment. */
    env: envAllow([
      'PATH',
      'HOME',
      'DOCKER_HOST',
      'DOCKER_CONTEXT',
      'DOCKER_CONFIG',
      'DOCKER_CERT_PATH',
      'DOCKER_TLS_VERIFY',
    ]),
    setEnv,
  })
  .strict();

export type RestartContainerSpec = z.output<typeof restartContainerSchema>;

function restartArgv(spec: RestartContainerSpec): string[] {
  const time = spec.stopTimeout === undefined ? [] : ['--time', String(spec.stopTimeout)];
  return ['restart', ...time, spec.container];
}

export const restartContainer: RemediationAction<RestartContainerSpec> = {
  name: 'restart-container',
  schema: restartContainerSchema,
  describe: (spec) =>
    `run ${[spec.docker, ...restartArgv(spec)].join(' ')} (timeout ${formatDuration(spec.timeout)})` +
    (spec.confirm ? ', then check it is running' : ''),
  async run(spec, ctx) {
    const restart = await docker(spec, restartArgv(spec), ctx);
    if (!ok(restart)) {
      await ctx.step('restart', 'failed', howItEnded(restart, spec.timeout), restart.output || undefined);
      return {
        outcome: 'failed',
        summary: `docker restart ${spec.container} failed: ${howItEnded(restart, spec.timeout)}`,
      };
    }
    await ctx.step('restart', 'ok', `restarted in ${restart.durationMs} ms`, restart.output || undefined);
    if (!spec.confirm) return { outcome: 'done', summary: `restarted container ${spec.container}` };

    const inspect = await docker(spec, ['inspect', '-f', '{{.State.Running}}', spec.container], ctx);
    const running = ok(inspect) && inspect.output.trim() === 'true';
    const detail = ok(inspect) ? `running: ${inspect.output.trim()}` : howItEnded(inspect, spec.timeout);
    await ctx.step('confirm-running', running ? 'ok' : 'failed', detail, inspect.output || undefined);
    return running
      ? { outcome: 'done', summary: `restarted container ${spec.container}, running` }
      : {
          outcome: 'failed',
          summary: `restarted container ${spec.container}, but it is not running (${detail})`,
        };
  },
};

function docker(spec: RestartContainerSpec, argv: string[], ctx: ActionContext): Promise<RunResult> {
  return runProgram(spec.docker, argv, {
    env: childEnv(spec.env, spec.setEnv),
    timeoutMs: spec.timeout,
    maxOutput: spec.maxOutput,
    signal: ctx.signal,
  });
}

const ok = (r: RunResult) => r.exitCode === 0 && !r.timedOut && !r.aborted;
