/** Busy and total CPU ticks at one moment; `key` names what was measured (pids, or the machine). */
export interface CpuSample {
  key: string;
  busy: number;
  total: number;
  /** 100 for a share of the machine; cores × 100 for "% of one core", like top. */
  scale: number;
}

/**
 * CPU % since the previous sample of the same thing, so a run every minute sees the whole minute,
 * not a moment of it. Without one (the first run, or the process was restarted) it samples over
 * `windowMs` instead.
 */
export async function sampleCpu(
  last: CpuSample | undefined,
  read: () => Promise<CpuSample>,
  windowMs: number,
): Promise<{ percent: number; sample: CpuSample }> {
  let before = last;
  let now = await read();
  if (!before || before.key !== now.key || now.total <= before.total) {
    before = now;
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    now = await read();
  }
  const dt = now.total - before.total;
  const percent = dt > 0 ? Math.max(0, ((now.busy - before.busy) / dt) * now.scale) : 0;
  return { percent, sample: now };
}
