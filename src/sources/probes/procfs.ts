import { readdir, readFile } from 'node:fs/promises';

/** CPU time of the whole machine from /proc/stat, in clock ticks. */
export interface CpuTimes {
  total: number;
  idle: number;
  /** Logical CPUs: a process can use up to cpus × 100 %. */
  cpus: number;
}

export async function readCpuTimes(): Promise<CpuTimes> {
  const text = await readFile('/proc/stat', 'utf8');
  const lines = text.split('\n');
  const first = lines[0] ?? '';
  if (!first.startsWith('cpu ')) throw new Error('/proc/stat has no "cpu" line');
  // user nice system idle iowait irq softirq steal; guest time is already counted in user.
  const f = first.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const cpus = lines.filter((l) => /^cpu\d+ /.test(l)).length || 1;
  return { total, idle, cpus };
}

export interface ProcStat {
  pid: number;
  /** R, S, D, Z, … */
  state: string;
  /** utime + stime, in clock ticks. */
  ticks: number;
  /** Start time since boot: a pid reused by another process has another one. */
  startTime: number;
  /** Process group: equal to pid for a group leader (a service started detached). */
  pgrp: number;
}

/** undefined when there is no such process (or it is a zombie, which is as good as dead). */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  const text = await readOptional(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  // The command name (2nd field) is in parentheses and may itself hold spaces and parentheses.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0] ?? '?';
  if (state === 'Z' || state === 'X') return undefined;
  const ticks = Number(rest[11]) + Number(rest[12]);
  return { pid, state, ticks, startTime: Number(rest[19]), pgrp: Number(rest[2]) };
}

export async function readRssBytes(pid: number): Promise<number | undefined> {
  const text = await readOptional(`/proc/${pid}/status`);
  const kb = text === undefined ? undefined : /^VmRSS:\s+(\d+) kB/m.exec(text)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

export async function readCmdline(pid: number): Promise<string[] | undefined> {
  const text = await readOptional(`/proc/${pid}/cmdline`);
  if (text === undefined) return undefined;
  const args = text.split('\0');
  if (args.at(-1) === '') args.pop();
  return args;
}

/** Every process whose full command line is exactly `argv` (never a pattern). */
export async function findByCmdline(argv: readonly string[]): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number);
  const found: number[] = [];
  // In slices, so a host with thousands of processes does not run the agent out of file handles.
  for (let i = 0; i < pids.length; i += 64) {
    await Promise.all(
      pids.slice(i, i + 64).map(async (pid) => {
        const args = await readCmdline(pid);
        if (args && sameArgs(args, argv)) found.push(pid);
      }),
    );
  }
  return found.sort((a, b) => a - b);
}

export function sameArgs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A process that exits between listing and reading is simply not there. */
async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw err;
  }
}
