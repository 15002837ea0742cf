import { readFile, readlink, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { findByCmdline, readCmdline, readProcStat, sameArgs } from '../../sources/probes/procfs.js';
import type { RestartServiceSpec } from './spec.js';

export interface ServicePids {
  pids: number[];
  /** How they were found, for the record. */
  how: string;
  /** Why the pidfile was not used, when there is one and it was not. */
  stalePidfile?: string;
  /** Processes with the exact command line whose cwd this agent may not read (another user's). */
  unreadable: number[];
}

/**
 * The service's processes, found exactly (the seed's rule: never a broad pattern): by the pidfile
 * when it names a live process with the service's argv and cwd, otherwise every process whose full
 * argv is `match` (or `command`) and whose working directory is `cwd`.
 */
export async function findServicePids(spec: RestartServiceSpec): Promise<ServicePids> {
  const argv = spec.match ?? spec.command;
  const cwd = await realpath(spec.cwd).catch(() => spec.cwd);
  let stalePidfile: string | undefined;
  if (spec.pidfile !== undefined) {
    const file = resolve(spec.cwd, spec.pidfile);
    const checked = await pidFromFile(file, argv, cwd);
    if (typeof checked === 'number') return { pids: [checked], how: `pidfile ${file}`, unreadable: [] };
    stalePidfile = `pidfile ${file} ignored: ${checked}`;
  }
  const pids: number[] = [];
  const unreadable: number[] = [];
  for (const pid of await findByCmdline(argv)) {
    if (pid === process.pid) continue;
    const where = await cwdOf(pid);
    if (where === cwd) pids.push(pid);
    else if (where === null) unreadable.push(pid);
  }
  const how = `exact command line ${JSON.stringify(argv)} in ${cwd}`;
  return { pids, how, unreadable, ...(stalePidfile ? { stalePidfile } : {}) };
}

/** The pid the file names if it is a live process of the service, or why not. */
async function pidFromFile(file: string, argv: readonly string[], cwd: string): Promise<number | string> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'it does not exist' : (code ?? String(err));
  }
  if (!/^\d+$/.test(text)) return `it holds ${JSON.stringify(text.slice(0, 40))}, not a pid`;
  const pid = Number(text);
  if (!(await readProcStat(pid))) return `process ${pid} is not running`;
  const args = await readCmdline(pid);
  if (!args || !sameArgs(args, argv))
    return `process ${pid} runs ${JSON.stringify(args)}, not ${JSON.stringify(argv)}`;
  const where = await cwdOf(pid);
  if (where !== cwd)
    return `process ${pid} runs in ${where ?? 'a directory this agent cannot read'}, not ${cwd}`;
  return pid;
}

/** A process's working directory; undefined when it is gone, null when it is not ours to read. */
async function cwdOf(pid: number): Promise<string | null | undefined> {
  try {
    return await readlink(`/proc/${pid}/cwd`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ESRCH' ? undefined : null;
  }
}
