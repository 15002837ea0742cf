import { spawn } from 'node:child_process';
import { z } from 'zod';
import { integer } from '../../config/fields.js';
import { failed, probeBase } from './fields.js';
import type { ProbeOutcome } from './fields.js';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

/** A program run without a shell, whose JSON output is the observation (detect-zombie-tasks.sh style). */
export const commandProbeSchema = z
  .object({
    kind: z.literal('command'),
    ...probeBase,
    /** Program and arguments; no shell, so nothing in them is expanded or split. */
    argv: z.array(z.string().min(1)).min(1),
    cwd: z.string().min(1).optional(),
    /** Variables passed on from the agent's environment; PATH always is, nothing else. */
    env: z.array(envName).default([]),
    /** `json`: stdout is `{ ok?, value?, …fields }`; `ignore`: the exit code alone decides. */
    output: z.enum(['json', 'ignore']).default('json'),
    /** Output past this is not read: the program is killed and the run fails. */
    maxOutputBytes: integer(1, 16 * 1024 * 1024).default(64 * 1024),
  })
  .strict();

export type CommandProbeSpec = z.output<typeof commandProbeSchema>;

const stderrTail = 1024;

/**
 * Runs the program in a process group of its own, so a timeout (or too much output) kills it and
 * everything it started; so does its exit, so a probe leaves nothing running behind it.
 */
export function runCommandProbe(spec: CommandProbeSpec): Promise<ProbeOutcome> {
  const started = performance.now();
  const [file, ...args] = spec.argv as [string, ...string[]];
  const env: Record<string, string> = {};
  for (const name of ['PATH', ...spec.env]) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      cwd: spec.cwd,
      env,
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let stopped: string | undefined;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is gone already.
      }
    };
    const stop = (reason: string) => {
      stopped ??= reason;
      killGroup();
    };
    const timer = setTimeout(() => stop(`timed out after ${spec.timeout} ms, killed`), spec.timeout);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.byteLength;
      if (outBytes > spec.maxOutputBytes)
        return stop(`output larger than ${spec.maxOutputBytes} bytes, killed`);
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString('utf8')).slice(-stderrTail);
    });
    // 'exit' can come while a grandchild still holds the pipes open: kill the group then too, so
    // 'close' (all output read) follows.
    child.once('exit', killGroup);
    child.once('error', (e: NodeJS.ErrnoException) => stop(`cannot run ${file}: ${e.code ?? e.message}`));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const durationMs = performance.now() - started;
      const data = { durationMs, exitCode: code, ...(err ? { stderr: err.trim() } : {}) };
      if (stopped) return resolve(failed(stopped, durationMs, data));
      if (code !== 0) {
        const why = signal ? `killed by ${signal}` : `exit code ${code}`;
        return resolve(failed(`${why}${err.trim() ? `: ${err.trim()}` : ''}`, durationMs, data));
      }
      resolve(
        spec.output === 'ignore' ? { ok: true, value: durationMs, data } : read(Buffer.concat(out), data),
      );
    });
  });
}

function read(stdout: Buffer, data: Record<string, unknown> & { durationMs: number }): ProbeOutcome {
  const text = stdout.toString('utf8').trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return failed(`output is not JSON: ${JSON.stringify(text.slice(0, 200))}`, data.durationMs, data);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    return failed('output is not a JSON object', data.durationMs, data);
  const { ok, value, ...fields } = parsed as Record<string, unknown>;
  if (ok !== undefined && typeof ok !== 'boolean')
    return failed('output field "ok" is not a boolean', 0, data);
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value)))
    return failed('output field "value" is not a number', 0, data);
  const merged = { ...fields, ...data };
  const result = { ok: ok ?? true, value: value ?? data.durationMs, data: merged };
  if (!result.ok && typeof merged.error !== 'string') merged.error = 'the command reported ok: false';
  return result;
}
