import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import type { VigilEvent } from '../src/contracts/event.js';
import { createQueues, closeQueues } from '../src/queues/queues.js';
import type { EvalChildArgs, EvalChildDone } from './eval-agent.js';

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const script = new URL('./eval-agent.ts', import.meta.url).pathname;

/**
 * Puts the jobs on the events queue as the batcher would: one `batch` job per list, the agent's job
 * options. `paused`: the queue stays paused until the child has started and resumes it.
 */
export async function fill(
  redis: Redis,
  prefix: string,
  jobs: readonly VigilEvent[][],
  paused = false,
): Promise<void> {
  const queues = createQueues(redis, prefix);
  try {
    if (paused) await queues.events.pause();
    for (let i = 0; i < jobs.length; i += 500)
      await queues.events.addBulk(
        jobs.slice(i, i + 500).map((events) => ({ name: 'batch', data: { events } })),
      );
  } finally {
    await closeQueues(queues);
  }
}

export interface ChildRun {
  done: EvalChildDone;
}

/**
 * Forks bench/eval-agent.ts, calls `onReady` once it runs (the queue may be filled then), and
 * returns its report after it has closed. BENCH_EVAL_PROF=dir writes a CPU profile of the agent there.
 */
export async function runChild(args: EvalChildArgs, onReady?: () => Promise<void>): Promise<EvalChildDone> {
  const prof = process.env.BENCH_EVAL_PROF;
  const child = fork(script, [JSON.stringify(args)], {
    execArgv: [
      '--import',
      tsxLoader,
      ...(prof && args.mode === 'agent' ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const done = await new Promise<EvalChildDone>((resolve, reject) => {
      child.once('exit', (code) =>
        reject(new Error(`bench evaluation: ${args.mode} child exited (${code})`)),
      );
      child.on('message', (m: { type: string }) => {
        if (m.type === 'ready' && onReady) onReady().catch(reject);
        if (m.type === 'done') resolve(m as EvalChildDone);
      });
    });
    child.send({ type: 'close' });
    if ((await exited) !== 0) throw new Error(`bench evaluation: ${args.mode} child did not close cleanly`);
    return done;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

export interface CommandCount {
  name: string;
  calls: number;
}

/** `INFO commandstats` as calls per command, most first; the bench's own INFO / CONFIG left out. */
export function commandCounts(info: string): CommandCount[] {
  const out: CommandCount[] = [];
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const name = m[1] as string;
    if (name === 'info' || name.startsWith('config')) continue;
    out.push({ name, calls: Number(m[2]) });
  }
  return out.sort((a, b) => b.calls - a.calls);
}
