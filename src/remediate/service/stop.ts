import { setTimeout as sleep } from 'node:timers/promises';
import { readProcStat } from '../../sources/probes/procfs.js';

/** A process as found: its pid with its start time, so a pid reused meanwhile is never signalled. */
interface Known {
  pid: number;
  startTime: number;
  /** It leads its own process group (as a service started detached does): the group is signalled. */
  leader: boolean;
}

export interface StopResult {
  /** Could not be sent SIGTERM (another user's process): left alone. */
  termFailed: string[];
  /** Exited after SIGTERM, within the grace period. */
  termed: number[];
  /** Still alive when the grace period ended. */
  afterGrace: number[];
  /** Of those, sent SIGKILL and gone. */
  killed: number[];
  /** Of those, not killed: SIGKILL refused, or still alive after it. */
  stuck: string[];
  /** How long the processes took to go. */
  tookMs: number;
}

/** After SIGKILL a process is gone within moments unless stuck in the kernel (state D). */
const KILL_WAIT_MS = 5000;

/**
 * SIGTERM, up to `graceMs` for the processes to exit, then SIGKILL for those still there. A process
 * leading its own group is signalled with its group, so its workers go too; any other (started by
 * someone else) is signalled alone, never the group it shares with its parent. Not abortable: once
 * SIGTERM is out the processes are going, and the caller must get to start them again.
 */
export async function stopProcesses(pids: readonly number[], graceMs: number): Promise<StopResult> {
  const started = performance.now();
  const r: StopResult = {
    termFailed: [],
    termed: [],
    afterGrace: [],
    killed: [],
    stuck: [],
    tookMs: 0,
  };
  const signalled: Known[] = [];
  for (const pid of pids) {
    const stat = await readProcStat(pid);
    if (!stat) continue;
    const k = { pid, startTime: stat.startTime, leader: stat.pgrp === pid };
    const err = send(k, 'SIGTERM');
    if (err) r.termFailed.push(`pid ${pid}: ${err}`);
    else signalled.push(k);
  }
  const alive = await waitGone(signalled, graceMs);
  r.termed = signalled.filter((k) => !alive.includes(k)).map((k) => k.pid);
  r.afterGrace = alive.map((k) => k.pid);
  const killed: Known[] = [];
  for (const k of alive) {
    const err = (await isSame(k)) ? send(k, 'SIGKILL') : undefined;
    if (err) r.stuck.push(`pid ${k.pid}: ${err}`);
    else killed.push(k);
  }
  const stuck = await waitGone(killed, KILL_WAIT_MS);
  for (const k of stuck) r.stuck.push(`pid ${k.pid}: still alive ${KILL_WAIT_MS / 1000} s after SIGKILL`);
  r.killed = killed.filter((k) => !stuck.includes(k)).map((k) => k.pid);
  return { ...r, tookMs: performance.now() - started };
}

/** An error text when the signal could not be sent; a process already gone is not an error. */
function send(k: Known, sig: NodeJS.Signals): string | undefined {
  try {
    process.kill(k.leader ? -k.pid : k.pid, sig);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ESRCH' ? undefined : `${sig}: ${code ?? String(err)}`;
  }
}

async function isSame(k: Known): Promise<boolean> {
  return (await readProcStat(k.pid))?.startTime === k.startTime;
}

/** The processes still alive when they all went or `ms` passed. */
async function waitGone(procs: readonly Known[], ms: number): Promise<Known[]> {
  const deadline = performance.now() + ms;
  let alive = [...procs];
  for (;;) {
    const still = await Promise.all(alive.map(isSame));
    alive = alive.filter((_, i) => still[i]);
    if (alive.length === 0 || performance.now() >= deadline) return alive;
    await sleep(Math.min(50, deadline - performance.now()));
  }
}
