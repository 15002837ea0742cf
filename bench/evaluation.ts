import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { EvalChildArgs } from './eval-agent.js';
import { commandCounts, fill, runChild, type CommandCount } from './eval-child.js';
import { BATCH, benchJobs, HOSTS, NAMES, RULES, seriesJobs } from './eval-workload.js';
import { describeMachine } from './machine.js';
import { startPrivateRedis } from './private-redis.js';
import type { BenchSection } from './sections.js';
import { median } from './stats.js';
import { DATABASE_URL } from './world.js';

const RUNS = Number(process.env.BENCH_EVAL_RUNS ?? 3);
const EVENTS = Number(process.env.BENCH_EVAL_EVENTS ?? 60_000);
const WARMUP = Number(process.env.BENCH_EVAL_WARMUP ?? 15_000);
const SERIES = Number(process.env.BENCH_EVAL_SERIES ?? 100_000);
/** Uniform: nearly every event of a batch is a series of its own (the worst case for Redis); Zipf 1.1: a few hot series. */
const workloads = [
  { name: 'spread (uniform over 4,000 series)', zipf: undefined },
  { name: 'skewed (Zipf 1.1 over 4,000 series)', zipf: 1.1 },
] as const;

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const usedMemory = async (r: Redis) => Number(/used_memory:(\d+)/.exec(await r.info('memory'))?.[1]);
const MB = 2 ** 20;

interface Throughput {
  agent: number[];
  bare: number[];
  perEvent: number[];
  top: CommandCount[];
  rss: number[];
  bareRss: number[];
  cpu: number[];
  redisCpu: number[];
}

export const evaluationSection: BenchSection = {
  key: 'evaluation',
  title: 'Rule evaluation: events per second, Redis commands per event, memory per series',
  async run() {
    const own = await startPrivateRedis();
    const redis = new Redis(own.url);
    const db = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const schema = `bench_eval_${randomBytes(4).toString('hex')}`;
    const base = { redisUrl: own.url, dbUrl: DATABASE_URL, schema, prefix: 'vb' };
    const machine = await describeMachine(db, redis);
    try {
      const rows: string[] = [];
      const results: Array<{ name: string; t: Throughput }> = [];
      for (const w of workloads) {
        const t: Throughput = {
          agent: [],
          bare: [],
          perEvent: [],
          top: [],
          rss: [],
          bareRss: [],
          cpu: [],
          redisCpu: [],
        };
        for (let r = 0; r < RUNS; r++) {
          const jobs = benchJobs(`r${r}`, WARMUP + EVENTS, w.zipf);
          const one = async (mode: EvalChildArgs['mode']) => {
            await redis.flushall();
            await fill(redis, base.prefix, jobs, true);
            return runChild({ ...base, mode, warmup: WARMUP, total: WARMUP + EVENTS });
          };
          const agent = await one('agent');
          const bare = await one('bare');
          const counts = commandCounts(agent.commandstats);
          const calls = counts.reduce((a, c) => a + c.calls, 0);
          t.agent.push(agent.events / agent.seconds);
          t.bare.push(bare.events / bare.seconds);
          t.perEvent.push(calls / agent.events);
          t.rss.push(agent.rss);
          t.bareRss.push(bare.rss);
          t.cpu.push((agent.cpu / agent.events) * 1e6);
          t.redisCpu.push((agent.redisCpu / agent.events) * 1e6);
          if (r === 0)
            t.top = counts.slice(0, 8).map((c) => ({ name: c.name, calls: c.calls / agent.events }));
          console.log(
            `evaluation ${w.name} run ${r}: agent ${fmt(agent.events / agent.seconds)} ev/s, bare ${fmt(bare.events / bare.seconds)} ev/s, ${fmt(calls / agent.events, 2)} cmds/event`,
          );
        }
        results.push({ name: w.name, t });
        const a = median(t.agent);
        const b = median(t.bare);
        rows.push(
          `| ${w.name} | **${fmt(a)}** | ${fmt(b)} | ${fmt(a / b, 2)} | **${fmt(median(t.perEvent), 2)}** | ${fmt(median(t.cpu))} / ${fmt(median(t.redisCpu))} | ${fmt(median(t.rss) / MB)} (bare ${fmt(median(t.bareRss) / MB)}) | ${t.agent.map((x) => fmt(x)).join(', ')} |`,
        );
      }
      const mem = { rss: [] as number[], maxRss: [] as number[], bytes: [] as number[] };
      for (let r = 0; r < RUNS; r++) {
        await redis.flushall();
        let before = 0;
        const done = await runChild({ ...base, mode: 'agent', warmup: 0, total: SERIES }, async () => {
          before = await usedMemory(redis);
          await fill(redis, base.prefix, seriesJobs(`m${r}`, SERIES));
        });
        const after = await usedMemory(redis);
        mem.rss.push(done.rss);
        mem.maxRss.push(done.maxRss);
        mem.bytes.push((after - before) / SERIES);
        console.log(
          `evaluation memory run ${r}: rss ${fmt(done.rss / MB)} MB, ${fmt((after - before) / SERIES)} bytes/series`,
        );
      }
      const load = os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' / ');
      const spread = results[0]?.t as Throughput;
      const eps = Math.min(...results.map((x) => median(x.t.agent)));
      const cmds = Math.max(...results.map((x) => median(x.t.perEvent)));
      const rss = median(mem.rss) / MB;
      const met = (ok: boolean) => (ok ? 'met' : '**NOT met**');
      return [
        `One agent (a whole \`Agent\`, its own process, default \`events.concurrency\` 4, no channels, no HTTP) on a redis-server of the bench's own and a PostgreSQL schema of its own, with ${fmt(RULES)} rules loaded: ${NAMES} event names, each matched by ${RULES / NAMES} rules, the seven kinds in turn (consecutive, rate, ratio, percentile, threshold, absence, match), all \`groupBy: [host]\` over ${HOSTS} hosts. The events queue is filled before the agent starts with ${fmt(WARMUP + EVENTS)} events in jobs of ${BATCH} (as the batcher sends them; dated in order over the last 5 minutes, so the 5-minute windows hold all 30 slices as in steady state; values 0–200, 0.1 % failing, so few series fire); the clock and Redis's counters (\`CONFIG RESETSTAT\`) start once ${fmt(WARMUP)} events are done and stop when the last job has completed (its decisions in Redis, transitions in PostgreSQL). Baseline in the same run: the same jobs through a bare BullMQ worker of the same concurrency whose processor only counts the events (BullMQ fetches and parses each job): the floor the queue itself allows. Median of ${RUNS} runs.`,
        '',
        '| workload | agent events/s | bare worker events/s | agent ÷ bare | Redis commands per event | CPU µs per event: agent / redis-server | RSS MB: agent (bare worker) | agent runs |',
        '|---|---|---|---|---|---|---|---|',
        ...rows,
        '',
        `Redis commands per event, spread workload, first run (all calls counted by \`INFO commandstats\`, commands run inside scripts too): ${spread.top.map((c) => `${c.name} ${fmt(c.calls, 2)}`).join(', ')}.`,
        '',
        `Memory: the same agent with ${fmt(SERIES)} live series (one \`rate\` rule split by a label with ${fmt(SERIES)} values, one event each, besides the ${fmt(RULES)} rules): agent RSS **${fmt(rss)} MB** (peak ${fmt(median(mem.maxRss) / MB)} MB), Redis \`used_memory\` growth **${fmt(median(mem.bytes))} bytes per series** (series JSON, its deadline in the sorted set); runs: ${mem.bytes.map((b) => fmt(b)).join(', ')} bytes.`,
        '',
        `Targets: ≥ 50,000 events/s per agent — ${met(eps >= 50_000)} (${fmt(eps)} in the worse workload); ≤ 3 Redis commands per event — ${met(cmds <= 3)} (${fmt(cmds, 2)} in the worse workload); ≤ 150 MB agent RSS with ${fmt(SERIES)} series — ${met(rss <= 150)}.`,
        '',
        `Measured on ${machine.commit}, ${machine.cpu} × ${machine.cores}, Node ${machine.node}, Redis ${machine.redis}; load average ${machine.load} at the start, ${load} at the end (1/5/15 min).`,
      ].join('\n');
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await db.end();
      redis.disconnect();
      await own.close();
    }
  },
};
