import { spawn } from 'node:child_process';
import { OutputTail } from './output-tail.js';

export interface RunOptions {
  cwd?: string;
  /** The child's whole environment: nothing of the agent's passes unless it is in here. */
  env: Record<string, string>;
  timeoutMs: number;
  /** Bytes of stdout+stderr kept: the last ones, where errors usually are. */
  maxOutput: number;
  /** After SIGTERM (timeout or abort), SIGKILL follows this much later if the program is still there. */
  killGraceMs?: number;
  signal?: AbortSignal;
}

export interface RunResult {
  /** null when it was killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** The tail of stdout+stderr, interleaved as it came, with a note of how many bytes were cut. */
  output: string;
  outputBytes: number;
  durationMs: number;
  /** Set when the program could not be started at all (ENOENT, EACCES, …). */
  startError?: string;
}

/**
 * A program is an absolute path or a bare name looked up in the PATH the child is given (its
 * allowlisted or fixed PATH, not the agent's): a relative path would depend on the agent's working
 * directory, so it is not a program. Plain characters only, no "." or ".." parts: a program path
 * is written once in the config, and one that needs more is more likely a mistake than a need.
 */
export function isProgram(program: string): boolean {
  if (!program.startsWith('/')) return /^[A-Za-z0-9_+@][A-Za-z0-9._+@-]*$/.test(program);
  return program
    .slice(1)
    .split('/')
    .every((part) => /^(?!\.\.?$)[A-Za-z0-9._+@-]+$/.test(part));
}

/** The child's environment: the allowlisted names' values from the agent's, then the fixed values. */
export function childEnv(
  allow: readonly string[],
  fixed: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of allow) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...fixed };
}

/**
 * Runs `program argv…` with no shell, in a process group of its own, so a timeout or an abort stops
 * it and everything it started (SIGTERM, then SIGKILL after a grace; nothing of a stopped run is
 * left running). A program that exits by itself may leave background children running (a recovery
 * script starts services); their output after the program's exit is not waited for. Never rejects:
 * a program that cannot start is a result.
 */
export function runProgram(
  program: string,
  argv: readonly string[],
  options: RunOptions,
): Promise<RunResult> {
  const started = performance.now();
  const grace = options.killGraceMs ?? 2000;
  const output = new OutputTail(options.maxOutput);
  if (options.signal?.aborted)
    return Promise.resolve({
      exitCode: null,
      signal: null,
      timedOut: false,
      aborted: true,
      output: '',
      outputBytes: 0,
      durationMs: 0,
    });
  return new Promise((resolve) => {
    const child = spawn(program, argv, {
      cwd: options.cwd,
      env: options.env,
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    let aborted = false;
    let startError: string | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const timers: NodeJS.Timeout[] = [];
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the group is gone already.
      }
    };
    const stop = () => {
      signalGroup('SIGTERM');
      timers.push(setTimeout(() => signalGroup('SIGKILL'), grace));
    };
    const onAbort = () => {
      aborted = true;
      stop();
    };
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      // Stopped: whatever of its group outlived SIGTERM and the program's own exit goes now.
      if (timedOut || aborted) signalGroup('SIGKILL');
      options.signal?.removeEventListener('abort', onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut,
        aborted,
        output: output.text(),
        outputBytes: output.total,
        durationMs: Math.round(performance.now() - started),
        ...(startError ? { startError } : {}),
      });
    };
    timers.push(
      setTimeout(() => {
        timedOut = true;
        stop();
      }, options.timeoutMs),
    );
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    child.once('error', (err: NodeJS.ErrnoException) => {
      startError = err.code ?? err.message;
      if (child.pid === undefined) finish();
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // Output still in the pipes arrives before 'close'; a background child holding them open
      // would delay 'close' for ever, so it is given a moment, not waited for.
      timers.push(setTimeout(finish, 200));
    });
    child.once('close', finish);
  });
}
