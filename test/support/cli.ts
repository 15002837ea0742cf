import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `vigil` executable as a user would. */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, opts);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function spawnCli(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; stdin?: 'pipe' } = {},
): ChildProcess {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'SLACK_BOT_TOKEN', 'SMTP_URL', 'VIGIL_DEBUG']) {
    if (!opts.env?.[name]) delete env[name];
  }
  return spawn(process.execPath, [bin, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    env,
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the first stdout line matching, rejecting if the process exits first. */
export function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (d: Buffer) => {
      buffer += d.toString();
      const line = buffer.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) {
        child.stdout?.off('data', onData);
        resolve(line);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`vigil exited (${code}) before printing ${pattern}:\n${buffer}`)),
    );
  });
}
