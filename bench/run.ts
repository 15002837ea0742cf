import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { measureBaseline } from './baseline.js';
import { describeMachine } from './machine.js';
import { CLOCK_CORRECTION_THRESHOLD_MS, type ClockSample } from './remote-receivers.js';
import { renderReport, TARGET_P99_MS, type RunResult } from './report.js';
import { medianOf, ms, summarize } from './stats.js';
import { measureAlerts } from './vigil-alerts.js';
import { createWorld, type World } from './world.js';

/** Rounded first, so a tiny negative offset prints as +0.000, not −0.000. */
const signed = (v: number) => {
  const r = Number(v.toFixed(3));
  return `${r < 0 ? '−' : '+'}${Math.abs(r).toFixed(3)}`;
};
const clockText = (c: ClockSample) => `${signed(c.offsetMs)} ms (round trip ${c.rttMs.toFixed(3)} ms)`;

const int = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};

async function main(): Promise<void> {
  const runs = int('BENCH_RUNS', 5);
  const alerts = int('BENCH_ALERTS', 200);
  const warmup = int('BENCH_WARMUP', 20);
  const email = process.env.BENCH_EMAIL !== '0';
  const started = performance.now();
  let world: World | undefined;
  try {
    world = await createWorld({ email });
    const clock = world.receivers.clock;
    console.log(
      `receivers process pid ${world.receivers.pid}: clock offset ${clockText(clock)}` +
        (clock.correctionMs ? ', corrected' : ''),
    );
    const machine = await describeMachine(world.db, world.redis);
    console.log(`load average at start: ${machine.load}`);
    await measureAlerts(world, 'warm', warmup);
    await measureBaseline(world, 'bwarm', warmup);
    const results: RunResult[] = [];
    const allVigil: number[] = [];
    const allBase: number[] = [];
    for (let r = 1; r <= runs; r++) {
      await world.receivers.reset();
      const vigil = await measureAlerts(world, `run${r}`, alerts);
      const baseline = await measureBaseline(world, `base${r}`, alerts);
      allVigil.push(...vigil);
      allBase.push(...baseline);
      const result = { vigil: summarize(vigil), baseline: summarize(baseline) };
      results.push(result);
      console.log(
        `run ${r}/${runs}: Vigil p50 ${ms(result.vigil.p50)} p99 ${ms(result.vigil.p99)} ms; ` +
          `baseline p50 ${ms(result.baseline.p50)} p99 ${ms(result.baseline.p99)} ms`,
      );
    }
    const clockEnd = await world.receivers.measureClock();
    console.log(`receivers clock offset at the end: ${clockText(clockEnd)}`);
    const median = {
      vigil: medianOf(results.map((x) => x.vigil)),
      baseline: medianOf(results.map((x) => x.baseline)),
    };
    const c = world.config;
    const text = renderReport({
      date: new Date(),
      durationSec: (performance.now() - started) / 1000,
      machine,
      loadEnd: loadavg()
        .map((l) => l.toFixed(2))
        .join(' / '),
      config: {
        'runs × alerts': `${runs} × ${alerts}`,
        'warm-up alerts': warmup,
        'events batch size / linger': `${c.events.batchSize} / ${c.events.linger} ms`,
        'events worker concurrency': c.events.concurrency,
        'notify worker concurrency': c.notify.concurrency,
        'PostgreSQL pool size': c.database.poolSize,
        channels: email ? 'Slack + email (SMTP sink); only Slack is timed' : 'Slack only',
        receivers:
          'Slack emulator + SMTP sink in a separate Node process (bench/receivers.ts), stamps over IPC',
        'receivers clock offset at start': clockText(clock),
        'receivers clock offset at end': clockText(clockEnd),
        'clock correction applied': clock.correctionMs
          ? `${signed(clock.correctionMs)} ms subtracted from the receivers' stamps`
          : `none (offset within ±${CLOCK_CORRECTION_THRESHOLD_MS} ms)`,
        rule: 'api-health: 3 consecutive failures, probe every 1h (results injected)',
      },
      runs: results,
      median,
      pooled: { vigil: summarize(allVigil), baseline: summarize(allBase) },
    });
    writeFileSync(new URL('./RESULTS.md', import.meta.url), text);
    const verdict = median.vigil.p99 <= TARGET_P99_MS ? 'PASS' : 'FAIL';
    console.log(
      `median of ${runs} runs: Vigil p50 ${ms(median.vigil.p50)} p99 ${ms(median.vigil.p99)} ms ` +
        `(target p99 ≤ ${TARGET_P99_MS} ms: ${verdict}); wrote bench/RESULTS.md`,
    );
  } finally {
    await world?.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench failed:', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
