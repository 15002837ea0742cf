import { hrNow } from '../src/demo/records.js';
import { slackDefaultRateLimit } from '../src/demo/slack-emulator.js';
import { abortWhenNothingLeft, decidingObservation, incidentsByTarget, until } from './burst-support.js';
import { createBurstWorld, type BurstWorld } from './burst-world.js';
import { redisCounters, redisDelta, type PgCounters, type RedisDelta } from './counters.js';
import { measureSlackHop, type SlackHop } from './slack-hop.js';
import { summarize, type Summary } from './stats.js';
import { ToldTracker } from './told-tracker.js';
import { measureAlerts } from './vigil-alerts.js';

/** `free`: Slack without a rate limit, digests off; `limited`: Slack's 1/s per channel, digests as built. */
export type BurstMode = 'free' | 'limited';

export interface BurstOptions {
  n: number;
  mode: BurstMode;
  email: boolean;
  redisUrl: string;
  pg: PgCounters;
  /** Single alerts measured in the same agent lifetime, before the burst (also its warm-up). */
  singles: number;
  timeoutMs: number;
}

export interface BurstResult {
  n: number;
  mode: BurstMode;
  digest: BurstWorld['digest'];
  singles: Summary;
  told: number;
  /** Per incident: its deciding observation handed to the agent → the Slack call that told it (ms). */
  latency: Summary;
  firstMs: number;
  /** Deciding observations handed over → every incident told (ms); NaN when not all were told. */
  allToldMs: number;
  /** Hand-over → the end of waiting (all told, nothing left to retry, or the time limit). */
  endedMs: number;
  alertsPerSec: number;
  /** Incident rows of the burst written (PostgreSQL's now() of the inserting transaction), ms after hand-over. */
  lastWrittenMs: number;
  slack: { posts: number; updates: number; limited: number; digests: number };
  failedJobs: number;
  redis: RedisDelta | undefined;
  commits: { lifetime: number; control: number } | undefined;
  /** The Slack hop alone at this size, same emulator, same run (free mode only). */
  hop: SlackHop | undefined;
  notes: string[];
  /** Other sessions in the bench's database during the burst: their commits would be counted. */
  strangers: string[];
  /** The agent's settings that shape a burst. */
  settings: Record<string, string | number>;
}

/** One agent lifetime doing only the single alerts: what a lifetime costs PostgreSQL besides the burst. */
async function controlCommits(world: BurstWorld, opts: BurstOptions): Promise<number> {
  const { agent, view, sessionName } = world.agent('control');
  const before = await opts.pg.commits();
  await agent.start();
  await measureAlerts(view, 'ctl', opts.singles);
  await agent.close();
  await opts.pg.untilGone(sessionName);
  return (await opts.pg.commits()) - before;
}

function settingsOf(world: BurstWorld): Record<string, string | number> {
  const c = world.config;
  return {
    'PostgreSQL pool size': c.database.poolSize,
    'events batch size / linger / concurrency': `${c.events.batchSize} / ${c.events.linger} ms / ${c.events.concurrency}`,
    'notify concurrency / backoff / sweep': `${c.notify.concurrency} / ${c.notify.backoff} ms / ${c.notify.sweepEvery} ms`,
    'digest threshold / window': `${c.notify.digest.threshold} / ${c.notify.digest.window} ms`,
    'Slack pace (messages/s, burst)': c.slack
      ? `${c.slack.rateLimit.perSecond}, ${c.slack.rateLimit.burst}`
      : '—',
  };
}

export async function runBurst(opts: BurstOptions): Promise<BurstResult> {
  const free = opts.mode === 'free';
  const world = await createBurstWorld({
    email: opts.email,
    redisUrl: opts.redisUrl,
    slackRateLimit: free ? false : slackDefaultRateLimit,
    digest: free ? 'off' : 'default',
  });
  const notes: string[] = [];
  try {
    const control = free ? await controlCommits(world, opts) : undefined;
    const { agent, view, sessionName, watch } = world.agent('burst');
    const before = await opts.pg.commits();
    await agent.start();
    const tracker = new ToldTracker(world.receivers);
    // Under the rate limit single alerts would wait for Slack's bucket: they measure nothing there.
    const singles = await measureAlerts(view, 'single', free ? opts.singles : 0);
    await watch.discover();
    await until('an idle pipeline', () => view.idle(), 10_000);
    const targets = Array.from({ length: opts.n }, (_, i) => `t${String(i).padStart(5, '0')}`);
    const events = targets.map(decidingObservation);
    const handedAt = new Array<number>(opts.n);
    tracker.mark();
    watch.own.clear();
    const redisBefore = await redisCounters(world.redis);

    const t0 = hrNow();
    const ingests = events.map((e, i) => {
      handedAt[i] = hrNow();
      return agent.ingest(e);
    });
    const giveUp = new AbortController();
    const allTold = tracker.until(opts.n, opts.timeoutMs, giveUp.signal);
    if (!free) void abortWhenNothingLeft(watch, giveUp, allTold);
    await Promise.all(ingests);
    const complete = await allTold;
    const endedMs = hrNow() - t0;
    if (!complete)
      notes.push(`not every incident was told within the run (${tracker.newlyTold()}/${opts.n})`);
    if (free && complete) await until('the pipeline to drain', () => view.idle(), 60_000);
    const redisAfter = await redisCounters(world.redis);
    const failedJobs = await watch.failed();
    const strangers = await opts.pg.strangers(`vigil bench-${world.id}`);
    tracker.close();
    await agent.close();
    await opts.pg.untilGone(sessionName);
    const lifetime = (await opts.pg.commits()) - before;

    const hop = free ? await measureSlackHop(world, opts.n, world.config.notify.concurrency) : undefined;
    const byTarget = await incidentsByTarget(world.schema);
    const latencies: number[] = [];
    let lastWritten = -Infinity;
    targets.forEach((target, i) => {
      const incident = byTarget.get(target);
      if (!incident) return;
      lastWritten = Math.max(lastWritten, incident.writtenAt);
      const told = tracker.told.get(incident.id);
      if (told !== undefined) latencies.push(told - (handedAt[i] as number));
    });
    if (byTarget.size !== opts.n) notes.push(`${byTarget.size} incidents opened for ${opts.n} series`);
    const span = tracker.span([...byTarget.values()].map((x) => x.id));
    const allToldMs = span.count === opts.n ? span.last - t0 : Number.NaN;
    return {
      n: opts.n,
      mode: opts.mode,
      digest: world.digest,
      singles: summarize(singles),
      told: span.count,
      latency: summarize(latencies),
      firstMs: span.first - t0,
      allToldMs,
      endedMs,
      alertsPerSec: opts.n / (allToldMs / 1000),
      lastWrittenMs: lastWritten - t0,
      slack: {
        posts: tracker.posts,
        updates: tracker.updates,
        limited: tracker.limited,
        digests: tracker.digests,
      },
      failedJobs,
      redis: free && complete ? redisDelta(redisBefore, redisAfter, watch.own) : undefined,
      commits: free && control !== undefined ? { lifetime, control } : undefined,
      hop,
      notes,
      strangers,
      settings: settingsOf(world),
    };
  } finally {
    await world.close();
  }
}
