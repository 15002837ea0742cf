import { z } from 'zod';
import { formatDuration } from '../../config/duration.js';
import { integer } from '../../config/fields.js';
import type { RemediationAction } from '../action.js';
import {
  argument,
  envAllow,
  howItEnded,
  maxOutput,
  program,
  setEnv,
  showArg,
  timeout,
} from '../process/command-fields.js';
import { childEnv, runProgram } from '../process/spawn.js';

/** A configured program with configured arguments (the seed's fix scripts), run without a shell. */
export const runCommandSchema = z
  .object({
    action: z.literal('run-command'),
    program,
    args: z.array(argument).max(1024).default([]),
    /** Absolute: the agent's own working directory is not something to depend on. */
    cwd: z.string().startsWith('/', 'an absolute path').optional(),
    timeout: timeout.default(60_000),
    /** Bytes of stdout+stderr kept in the record (the last ones). */
    maxOutput,
    env: envAllow(['PATH']),
    setEnv,
    okExitCodes: z.array(integer(0, 255)).min(1).default([0]),
  })
  .strict();

export type RunCommandSpec = z.output<typeof runCommandSchema>;

export const runCommand: RemediationAction<RunCommandSpec> = {
  name: 'run-command',
  schema: runCommandSchema,
  describe: (spec) =>
    `run ${[spec.program, ...spec.args].map((arg) => showArg(arg)).join(' ')}` +
    `${spec.cwd ? ` in ${spec.cwd}` : ''} (timeout ${formatDuration(spec.timeout)})`,
  async run(spec, ctx) {
    const r = await runProgram(spec.program, spec.args, {
      cwd: spec.cwd,
      env: childEnv(spec.env, spec.setEnv),
      timeoutMs: spec.timeout,
      maxOutput: spec.maxOutput,
      signal: ctx.signal,
    });
    const ended = howItEnded(r, spec.timeout);
    const ok = !r.timedOut && !r.aborted && r.exitCode !== null && spec.okExitCodes.includes(r.exitCode);
    await ctx.step('run', ok ? 'ok' : 'failed', `${ended} in ${r.durationMs} ms`, r.output || undefined);
    return {
      outcome: ok ? 'done' : 'failed',
      summary: `${showArg(spec.program)} ${ok ? 'ran' : 'failed'}: ${ended}`,
    };
  },
};
