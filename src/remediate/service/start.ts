import { spawn } from 'node:child_process';
import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RestartServiceSpec } from './spec.js';

export interface Started {
  pid: number;
  /** Why the process has ended, once it has ("exited with code 1"); undefined while it runs. */
  ended(): string | undefined;
  /** Ended with code 0: a service that daemonizes itself does that, and is not a failure by itself. */
  endedCleanly(): boolean;
}

/**
 * Starts the service as the seed's `nohup … > production.log 2>&1 &` did, without a shell: its own
 * process group (so a later stop takes its workers too, and the agent's signals do not reach it),
 * stdin closed, stdout and stderr appended to the log, environment only the allowlisted variables
 * and the port. The agent does not wait for it.
 */
export async function startService(
  spec: RestartServiceSpec,
  port: number,
): Promise<Started | { error: string }> {
  const env: Record<string, string> = {};
  for (const name of spec.env) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env[spec.portKey] = String(port);
  let log: FileHandle | undefined;
  try {
    if (spec.log !== undefined) log = await open(resolve(spec.cwd, spec.log), 'a', 0o640);
  } catch (err) {
    return { error: `log ${spec.log}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const out = log ? log.fd : 'ignore';
  const [program, ...args] = spec.command as [string, ...string[]];
  try {
    const child = spawn(program, args, {
      cwd: spec.cwd,
      env,
      detached: true,
      shell: false,
      stdio: ['ignore', out, out],
    });
    let end: { text: string; clean: boolean } | undefined;
    child.once('exit', (code, signal) => {
      end = { text: signal ? `was ended by ${signal}` : `exited with code ${code}`, clean: code === 0 };
    });
    const spawned = await new Promise<Error | undefined>((done) => {
      child.once('spawn', () => done(undefined));
      child.on('error', done); // kept: a later 'error' with no listener would throw
    });
    if (spawned || child.pid === undefined) return { error: describeSpawnError(spawned, program, spec.cwd) };
    child.unref();
    return { pid: child.pid, ended: () => end?.text, endedCleanly: () => end?.clean === true };
  } finally {
    // The child has its own copy of the log's descriptor.
    await log?.close();
  }
}

function describeSpawnError(err: Error | undefined, program: string, cwd: string): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  // spawn reports a missing cwd as the program not found.
  if (code === 'ENOENT')
    return `cannot start ${program} in ${cwd}: ENOENT (no such program, or no such directory)`;
  return `cannot start ${program}: ${code ?? err?.message ?? 'no pid'}`;
}
