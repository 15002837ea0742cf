import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { integer } from '../../config/fields.js';
import { errorMessage } from '../../errors.js';
import { failed, number, probeBase, round, underMax } from './fields.js';
import { findByCmdline, readCmdline, readCpuTimes, readProcStat, readRssBytes, sameArgs } from './procfs.js';
import type { ProbeOutcome } from './fields.js';
import { sampleCpu, type CpuSample } from './cpu-sample.js';
import { foreignHolder } from './port-owner.js';

/**
 * A process found by pidfile or by its exact full command line (never a pattern that could match
 * another process); with both, the pidfile's process must have that command line.
 */
export const processProbeSchema = z
  .object({
    kind: z.literal('process'),
    ...probeBase,
    pidfile: z.string().min(1).optional(),
    cmdline: z.array(z.string()).min(1).optional(),
    /** The value: CPU % (of one core, so up to cores × 100) since the last run, or RSS in MiB. */
    measure: z.enum(['cpu', 'rss']).default('cpu'),
    /** Above this the observation fails; absent, the process being alive is enough. */
    max: number.optional(),
    /**
     * A port the process should own: the observation then fails when another process listens on it
     * (the seed's port conflict), and only then — a stopped service on a free port is the health
     * check's to report.
     */
    port: integer(1, 65_535).optional(),
  })
  .strict()
  .refine((p) => p.pidfile !== undefined || p.cmdline !== undefined, {
    message: 'give a pidfile, a cmdline (the exact argv), or both',
    path: ['pidfile'],
  });

export type ProcessProbeSpec = z.output<typeof processProbeSchema>;

/** A runner per probe: CPU % is measured since its previous run, so it keeps that sample. */
export function processProbe(spec: ProcessProbeSpec): () => Promise<ProbeOutcome> {
  let last: CpuSample | undefined;
  return async () => {
    const found = await findPids(spec);
    const taken =
      spec.port === undefined
        ? undefined
        : await foreignHolder(spec.port, typeof found === 'string' ? [] : found);
    if (typeof found === 'string') {
      if (spec.port === undefined) return failed(found, 0, { alive: false, pids: [] });
      const data = { alive: false, pids: [], port: spec.port };
      return taken
        ? failed(`${taken}; the watched process is not running (${found})`, 0, data)
        : { ok: true, value: 0, data };
    }
    const pids = found;
    if (taken)
      return failed(`${taken}, not by the watched pid ${pids.join(', ')}`, 0, {
        alive: true,
        pids,
        port: spec.port,
      });
    const rss = (await Promise.all(pids.map(readRssBytes))).reduce<number>((a, b) => a + (b ?? 0), 0);
    const data = { alive: true, pids, rssBytes: rss };
    if (spec.measure === 'rss') return underMax('RSS MiB', rss / 1024 / 1024, spec.max, data);
    const cpu = await sampleCpu(last, () => processTicks(pids), Math.min(1000, spec.timeout / 2));
    last = cpu.sample;
    return underMax('CPU %', cpu.percent, spec.max, { ...data, cpuPercent: round(cpu.percent) });
  };
}

/** The pids to measure, or why there are none. */
async function findPids(spec: ProcessProbeSpec): Promise<number[] | string> {
  if (spec.pidfile === undefined) {
    const argv = spec.cmdline ?? [];
    const pids = await findByCmdline(argv);
    return pids.length ? pids : `no process has the command line ${JSON.stringify(argv)}`;
  }
  let text: string;
  try {
    text = (await readFile(spec.pidfile, 'utf8')).trim();
  } catch (err) {
    return `pidfile ${spec.pidfile}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`;
  }
  if (!/^\d+$/.test(text))
    return `pidfile ${spec.pidfile} holds ${JSON.stringify(text.slice(0, 40))}, not a pid`;
  const pid = Number(text);
  if (!(await readProcStat(pid))) return `process ${pid} (pidfile ${spec.pidfile}) is not running`;
  if (spec.cmdline) {
    const args = await readCmdline(pid);
    if (!args || !sameArgs(args, spec.cmdline))
      return `process ${pid} (pidfile ${spec.pidfile}) runs ${JSON.stringify(args)}, not ${JSON.stringify(spec.cmdline)}`;
  }
  return [pid];
}

/**
 * CPU ticks of these processes, keyed by pid and start time so a pid reused by another process
 * does not inherit the old one's ticks; with the machine's ticks for the same moment.
 */
async function processTicks(pids: readonly number[]): Promise<CpuSample> {
  const stats = await Promise.all(pids.map(readProcStat));
  const machine = await readCpuTimes();
  const live = stats.filter((s) => s !== undefined);
  return {
    key: live.map((s) => `${s.pid}@${s.startTime}`).join(','),
    busy: live.reduce((a, s) => a + s.ticks, 0),
    total: machine.total,
    scale: machine.cpus * 100,
  };
}
