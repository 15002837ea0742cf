import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/log.js';
import type { ActionContext, StepOutcome } from '../../src/remediate/action.js';
import { readProcStat } from '../../src/sources/probes/procfs.js';
import { until } from './quiet.js';
import { restartServiceSchema, type RestartServiceSpec } from '../../src/remediate/service/spec.js';

export const helixApi = fileURLToPath(new URL('../fixtures/helix-api.mjs', import.meta.url));

export interface Step {
  name: string;
  outcome: StepOutcome;
  detail: string;
}

/**
 * A run's context whose steps are kept in order, and its abort controller. `onStart` gets the
 * started service's pid as soon as the "start" step is recorded, so a test can kill it even when
 * the run throws later.
 */
export function actionContext(onStart: (pid: number) => void, target = 'helix-api') {
  const steps: Step[] = [];
  const abort = new AbortController();
  const ctx: ActionContext = {
    target,
    runId: 'run-1',
    incidentId: 'incident-1',
    signal: abort.signal,
    log: createLogger({ level: process.env.VIGIL_TEST_LOG ?? 'silent' }),
    step: async (name, outcome, detail) => {
      steps.push({ name, outcome, detail });
      const pid = startedPid(steps);
      if (name === 'start' && pid !== undefined) onStart(pid);
    },
  };
  const step = (name: string) => steps.find((s) => s.name === name);
  return { ctx, steps, abort, step };
}

/** The spec as vigil.yaml would give it, with test-friendly defaults. */
export function spec(fields: Partial<Record<keyof RestartServiceSpec, unknown>>): RestartServiceSpec {
  return restartServiceSchema.parse({ action: 'restart-service', grace: '2s', ...fields });
}

/** Children and detached process groups a test started: all killed by `killAll`. */
export class Processes {
  readonly children: ChildProcess[] = [];
  readonly groups = new Set<number>();
  readonly servers: Server[] = [];

  /** Starts the stand-in HELIX API (or any argv) and waits until it listens; resolves its port. */
  async start(
    argv: string[],
    cwd: string,
    env: Record<string, string> = {},
  ): Promise<{ child: ChildProcess; port: number }> {
    const [program, ...args] = argv as [string, ...string[]];
    const child = spawn(program, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.children.push(child);
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code, sig) =>
        reject(new Error(`${argv.join(' ')} ended (${code ?? sig}) before listening`)),
      );
    });
    return { child, port };
  }

  /** A plain TCP listener in this process (an SSH stand-in). */
  async listen(): Promise<number> {
    const server = createServer();
    this.servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  }

  async killAll(): Promise<void> {
    for (const pgid of this.groups) kill(-pgid);
    // Detached services are not our ChildProcess objects: wait until /proc says they are gone.
    for (const pgid of this.groups)
      await until(`process group ${pgid} to end`, async () => !(await alive(pgid)), 5000);
    const exits = this.children
      .filter((c) => c.exitCode === null && c.signalCode === null)
      .map((c) => new Promise((resolve) => c.once('exit', resolve)));
    for (const c of this.children) kill(c.pid);
    await Promise.all(exits);
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
    this.children.length = 0;
    this.groups.clear();
    this.servers.length = 0;
  }
}

function kill(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A port nothing listens on now: the OS picks one, and it is let go. */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether a pid is a live (non-zombie) process. */
export async function alive(pid: number | undefined): Promise<boolean> {
  return pid !== undefined && (await readProcStat(pid)) !== undefined;
}

/** The started service's pid, from the run's "start" step. */
export function startedPid(steps: readonly Step[]): number | undefined {
  const m = /^pid (\d+)/.exec(steps.find((s) => s.name === 'start' && s.outcome === 'ok')?.detail ?? '');
  return m ? Number(m[1]) : undefined;
}
