import { runBurst, type BurstMode, type BurstResult } from './burst.js';
import { PgCounters } from './counters.js';
import { startPrivateRedis } from './private-redis.js';
import { ms } from './stats.js';
import { DATABASE_URL } from './world.js';

export interface BurstPlan {
  sizes: number[];
  runs: number;
  /** Size of the burst under Slack's rate limit; 0 skips it. */
  limitedSize: number;
  singles: number;
  email: boolean;
  timeoutMs: number;
  limitedTimeoutMs: number;
}

export interface BurstSeries {
  n: number;
  mode: BurstMode;
  runs: BurstResult[];
}

export interface BurstOutcome {
  series: BurstSeries[];
  redis: string;
  /** Sessions of others seen in the bench's database: their commits would be in the counts. */
  strangers: string[];
}

const secs = (v: number) => (Number.isFinite(v) ? `${(v / 1000).toFixed(2)} s` : 'never');

function describe(r: BurstResult): string {
  const base = `${r.mode} ${r.n}: told ${r.told}/${r.n}, p50 ${secs(r.latency.p50)} p99 ${secs(r.latency.p99)}`;
  const rest = `first ${ms(r.firstMs)} ms, all told ${secs(r.allToldMs)}, ${r.alertsPerSec.toFixed(0)} alerts/s`;
  const cost =
    r.redis && r.commits
      ? `, ${(r.redis.total / r.n).toFixed(1)} Redis cmds and ` +
        `${((r.commits.lifetime - r.commits.control) / r.n).toFixed(2)} commits per alert`
      : '';
  const slack = `; Slack ${r.slack.posts} posts, ${r.slack.updates} updates, ${r.slack.limited} × 429`;
  return `${base}, ${rest}${cost}${slack}${r.notes.length ? ` (${r.notes.join('; ')})` : ''}`;
}

/**
 * Bursts on a redis-server of the bench's own (BENCH_BURST_REDIS_URL to use another one), one fresh
 * world per run, sizes interleaved run by run so a slow spell of the machine touches every size.
 */
export async function runBursts(plan: BurstPlan): Promise<BurstOutcome> {
  const own = process.env.BENCH_BURST_REDIS_URL ? undefined : await startPrivateRedis();
  const redisUrl = own?.url ?? (process.env.BENCH_BURST_REDIS_URL as string);
  const pg = new PgCounters(DATABASE_URL);
  await pg.connect();
  const series: BurstSeries[] = [
    ...plan.sizes.map((n) => ({ n, mode: 'free' as const, runs: [] })),
    ...(plan.limitedSize > 0 ? [{ n: plan.limitedSize, mode: 'limited' as const, runs: [] }] : []),
  ];
  const strangers = new Set<string>();
  try {
    console.log(`bursts on ${own ? `a redis-server of their own (pid ${own.pid}, ${redisUrl})` : redisUrl}`);
    for (let r = 1; r <= plan.runs; r++) {
      for (const s of series) {
        // A limited run that never finished says all there is to say: once is enough.
        if (s.mode === 'limited' && s.runs.some((x) => !Number.isFinite(x.allToldMs))) continue;
        const result = await runBurst({
          n: s.n,
          mode: s.mode,
          email: plan.email,
          redisUrl,
          pg,
          singles: plan.singles,
          timeoutMs: s.mode === 'free' ? plan.timeoutMs : plan.limitedTimeoutMs,
        });
        s.runs.push(result);
        for (const name of result.strangers) strangers.add(name);
        console.log(`burst run ${r}/${plan.runs}: ${describe(result)}`);
      }
    }
  } finally {
    await pg.close();
    await own?.close();
  }
  return { series, redis: own ? `own redis-server (${redisUrl})` : redisUrl, strangers: [...strangers] };
}
