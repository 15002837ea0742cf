import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { measureBaseline } from './baseline.js';
import { BURST_TARGETS, renderBursts } from './burst-report.js';
import { runBursts, type BurstOutcome, type BurstPlan } from './bursts.js';
import { describeMachine } from './machine.js';
import { CLOCK_CORRECTION_THRESHOLD_MS, type ClockSample } from './remote-receivers.js';
import { renderReport, TARGET_P99_MS, type RunResult } from './report.js';
import { medianOf, ms, summarize } from './stats.js';
import { chosenSections, renderSection, spliceSection } from './sections.js';
import { measureAlerts } from './vigil-alerts.js';
import { createWorld, type World } from './world.js';

/** Rounded first, so a tiny negative offset prints as +0.000, not −0.000. */
const signed = (v: number) => {
  const r = Number(v.toFixed(3));
  return `${r < 0 ? '−' : '+'}${Math.abs(r).toFixed(3)}`;
};
const clockText = (c: ClockSample) => `${signed(c.offsetMs)} ms (round trip ${c.rttMs.toFixed(3)} ms)`;

const int = (name: string, fallback: number, min = 1) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}`);
  return v;
};

/** BENCH_BURSTS=1000,5000 (sizes; empty or 0 skips the bursts). */
function burstPlan(): BurstPlan {
  const raw = process.env.BENCH_BURSTS ?? `1000,${BURST_TARGETS.n}`;
  const sizes = raw
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x && x !== '0')
    .map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`BENCH_BURSTS must be sizes separated by commas, got "${raw}"`);
  return {
    sizes,
    runs: int('BENCH_BURST_RUNS', 3),
    limitedSize: int('BENCH_BURST_LIMITED', sizes.length ? Math.max(...sizes) : 0, 0),
    singles: int('BENCH_BURST_SINGLES', 20),
    email: process.env.BENCH_BURST_EMAIL === '1',
    timeoutMs: int('BENCH_BURST_TIMEOUT', 180) * 1000,
    limitedTimeoutMs: int('BENCH_LIMITED_TIMEOUT', 60) * 1000,
  };
}

function burstConfig(plan: BurstPlan, outcome: BurstOutcome): Record<string, string | number> {
  const digestOf = (mode: string) => outcome.series.find((x) => x.mode === mode)?.runs[0]?.digest ?? '–';
  return {
    'sizes × runs': `${plan.sizes.join(', ') || 'none'} × ${plan.runs} (interleaved), fresh world each run`,
    'under the rate limit': plan.limitedSize ? `${plan.limitedSize}, up to ${plan.runs} runs` : 'not run',
    'single alerts per agent lifetime': plan.singles,
    channels: plan.email
      ? 'Slack + email (only Slack is timed)'
      : 'Slack only (BENCH_BURST_EMAIL=1 adds email)',
    'notify.digest': `unlimited runs: ${digestOf('free')} (threshold 0); rate-limited: ${digestOf('limited')}`,
    ...outcome.series.flatMap((x) => x.runs)[0]?.settings,
    Redis: outcome.redis,
    'time limit per run': `${plan.timeoutMs / 1000} s unlimited, ${plan.limitedTimeoutMs / 1000} s under the rate limit`,
  };
}

/**
 * `npm run bench`. Single alerts: BENCH_RUNS (5) × BENCH_ALERTS (200) after BENCH_WARMUP (20),
 * BENCH_EMAIL=0 for Slack only. Bursts: BENCH_BURSTS (1000,5000; empty skips), BENCH_BURST_RUNS (3),
 * BENCH_BURST_LIMITED (size under Slack's rate limit, default the largest; 0 skips),
 * BENCH_BURST_SINGLES (20), BENCH_BURST_EMAIL=1, BENCH_BURST_TIMEOUT (180 s), BENCH_LIMITED_TIMEOUT
 * (60 s), BENCH_BURST_REDIS_URL (default: a redis-server of the bench's own).
 * Sections (bench/sections.ts) follow; BENCH_ONLY=key,… runs only those and splices them into
 * RESULTS.md, BENCH_SKIP=key,… leaves some out.
 * A quick look: BENCH_RUNS=1 BENCH_ALERTS=50 BENCH_BURSTS=1000 BENCH_BURST_RUNS=1 npm run bench
 */
async function main(): Promise<void> {
  if (process.env.BENCH_ONLY) return runSectionsAlone();
  const runs = int('BENCH_RUNS', 5);
  const alerts = int('BENCH_ALERTS', 200);
  const warmup = int('BENCH_WARMUP', 20);
  const email = process.env.BENCH_EMAIL !== '0';
  const plan = burstPlan();
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
    const c = world.config;
    await world.close();
    const bursts = plan.sizes.length || plan.limitedSize ? await runBursts(plan) : undefined;
    const median = {
      vigil: medianOf(results.map((x) => x.vigil)),
      baseline: medianOf(results.map((x) => x.baseline)),
    };
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
      ...(bursts ? { bursts: renderBursts(bursts, burstConfig(plan, bursts)) } : {}),
    });
    let extra = '';
    for (const section of chosenSections()) {
      console.log(`bench section: ${section.title}`);
      extra += `\n${renderSection(section, await section.run())}`;
    }
    writeFileSync(resultsFile, text + extra);
    const verdict = median.vigil.p99 <= TARGET_P99_MS ? 'PASS' : 'FAIL';
    console.log(
      `median of ${runs} runs: Vigil p50 ${ms(median.vigil.p50)} p99 ${ms(median.vigil.p99)} ms ` +
        `(target p99 ≤ ${TARGET_P99_MS} ms: ${verdict}); wrote bench/RESULTS.md`,
    );
  } finally {
    await world?.close();
  }
}

const resultsFile = new URL('./RESULTS.md', import.meta.url);

/** BENCH_ONLY=key,…: runs those sections and replaces their blocks in RESULTS.md, keeping the rest. */
async function runSectionsAlone(): Promise<void> {
  const chosen = chosenSections();
  if (chosen.length === 0) throw new Error(`BENCH_ONLY names no bench section: ${process.env.BENCH_ONLY}`);
  for (const section of chosen) {
    console.log(`bench section: ${section.title}`);
    const markdown = await section.run();
    writeFileSync(resultsFile, spliceSection(readFileSync(resultsFile, 'utf8'), section, markdown));
    console.log(markdown);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench failed:', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
