import { readFile, statfs } from 'node:fs/promises';
import { z } from 'zod';
import { errorMessage } from '../../errors.js';
import { failed, number, probeBase, round, underMax } from './fields.js';
import { readCpuTimes } from './procfs.js';
import type { ProbeOutcome } from './fields.js';
import { sampleCpu, type CpuSample } from './cpu-sample.js';

/** This host's CPU %, memory %, load average or disk use, from /proc and statfs. */
export const systemProbeSchema = z
  .object({
    kind: z.literal('system'),
    ...probeBase,
    /** cpu: % busy since the last run; memory: % used (MemAvailable); load1/5/15; disk: % used of `path`. */
    measure: z.enum(['cpu', 'memory', 'load1', 'load5', 'load15', 'disk']),
    /** For `disk`: a path on the file system to measure. */
    path: z.string().min(1).default('/'),
    /** Above this the observation fails. */
    max: number.optional(),
  })
  .strict();

export type SystemProbeSpec = z.output<typeof systemProbeSchema>;

/** A runner per probe: CPU % is measured since its previous run, so it keeps that sample. */
export function systemProbe(spec: SystemProbeSpec): () => Promise<ProbeOutcome> {
  let last: CpuSample | undefined;
  const load = async (i: number) => {
    const fields = (await readFile('/proc/loadavg', 'utf8')).split(' ');
    const value = Number(fields[i]);
    return underMax(spec.measure, value, spec.max, { load: fields.slice(0, 3).map(Number) });
  };
  const measures: Record<SystemProbeSpec['measure'], () => Promise<ProbeOutcome>> = {
    cpu: async () => {
      const cpu = await sampleCpu(last, machineTicks, Math.min(1000, spec.timeout / 2));
      last = cpu.sample;
      return underMax('CPU %', cpu.percent, spec.max, { cpuPercent: round(cpu.percent) });
    },
    memory: async () => {
      const info = await readFile('/proc/meminfo', 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(info)?.[1]);
      const total = kb('MemTotal');
      const available = kb('MemAvailable');
      if (!(total > 0) || !Number.isFinite(available))
        return failed('/proc/meminfo has no MemTotal/MemAvailable');
      const percent = ((total - available) / total) * 100;
      return underMax('memory %', percent, spec.max, {
        totalBytes: total * 1024,
        availableBytes: available * 1024,
      });
    },
    load1: () => load(0),
    load5: () => load(1),
    load15: () => load(2),
    disk: async () => {
      let fs;
      try {
        fs = await statfs(spec.path);
      } catch (err) {
        return failed(`${spec.path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
      }
      // As df counts it: blocks reserved for root are neither used nor available to others.
      const used = fs.blocks - fs.bfree;
      const percent = used + fs.bavail > 0 ? (used / (used + fs.bavail)) * 100 : 0;
      return underMax(`disk % of ${spec.path}`, percent, spec.max, {
        path: spec.path,
        usedBytes: used * fs.bsize,
        availableBytes: fs.bavail * fs.bsize,
      });
    },
  };
  return measures[spec.measure];
}

async function machineTicks(): Promise<CpuSample> {
  const t = await readCpuTimes();
  return { key: 'machine', busy: t.total - t.idle, total: t.total, scale: 100 };
}
