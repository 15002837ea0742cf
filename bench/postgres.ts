import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { applyTriggers, parseColumns } from '../src/cli/install-triggers.js';
import { ensureOutbox } from '../src/sources/postgres/outbox-sql.js';
import { findPgbench, pgbenchUpdates } from './postgres-pgbench.js';
import { pushDirect, raiseRows, startCapture, type CaptureSetup } from './postgres-capture.js';
import { startPrivateRedis } from './private-redis.js';
import type { BenchSection } from './sections.js';
import { median } from './stats.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CAPTURE_TARGET = 10_000;
const COST_TARGET = 0.1;

const int = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be an integer ≥ 1`);
  return v;
};
const perSecond = (n: number, ms: number) => (n / ms) * 1000;
const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

interface CaptureRun {
  backlog: number;
  live: number;
  writers: number;
  direct: number;
}

/** Rows/s from vigil_raise to events durable in Redis: a backlog drained, and rows drained as written. */
async function measureCapture(db: pg.Pool, s: CaptureSetup, redis: Redis, rows: number): Promise<CaptureRun> {
  const outbox = `${pg.escapeIdentifier(s.schema)}.vigil_outbox`;
  const reset = async () => {
    await redis.flushall();
    await db.query(`TRUNCATE ${outbox} RESTART IDENTITY`);
  };
  const writers = await Promise.all([1, 2, 3, 4].map(() => db.connect()));
  try {
    await reset();
    await raiseRows(writers, s.schema, rows, 1000);
    let started = performance.now();
    let capture = await startCapture(s);
    await capture.reached(rows);
    const backlog = performance.now() - started;
    await capture.close();

    await reset();
    capture = await startCapture(s);
    started = performance.now();
    await raiseRows(writers, s.schema, rows, 100);
    const written = performance.now() - started;
    await capture.reached(rows);
    const live = performance.now() - started;
    await capture.close();
    const { rows: left } = await db.query(`SELECT count(*)::int AS n FROM ${outbox} WHERE done_at IS NULL`);
    if (left[0].n !== 0) throw new Error(`${left[0].n} rows still pending after the capture`);

    await reset();
    const direct = await pushDirect(s, rows);
    return {
      backlog: perSecond(rows, backlog),
      live: perSecond(rows, live),
      writers: perSecond(rows, written),
      direct: perSecond(rows, direct),
    };
  } finally {
    writers.forEach((w) => w.release());
  }
}

type Variant = 'none' | 'bare insert' | 'trigger' | 'trigger + drain';

/** pgbench's update script with no trigger, with it, and with it while a source drains the outbox. */
async function measureTriggerCost(db: pg.Pool, s: CaptureSetup, redis: Redis, runs: number, seconds: number) {
  const bin = findPgbench();
  if (!bin) return undefined;
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  const schema = pg.escapeIdentifier(s.schema);
  const tasks = 10_000;
  await db.query(`CREATE TABLE ${schema}.tasks (id int PRIMARY KEY, status text NOT NULL,
    attempts int NOT NULL DEFAULT 0, error_log text, updated_at timestamptz NOT NULL DEFAULT now())`);
  await db.query(
    `INSERT INTO ${schema}.tasks (id, status) SELECT i, 'pending' FROM generate_series(1, $1) i`,
    [tasks],
  );
  const spec = {
    schema: s.schema,
    table: 'tasks',
    columns: parseColumns(undefined),
    event: 'task-status',
    failed: ['failed'],
    succeeded: ['done'],
    outbox: { schema: s.schema, channel: 'vigil_outbox' },
    maxErrorLog: 2000,
  };
  const bench = pgbenchUpdates({ bin, url: DATABASE_URL, schema: s.schema, tasks, clients: 4, seconds });
  const tps: Record<Variant, number[]> = { none: [], 'bare insert': [], trigger: [], 'trigger + drain': [] };
  // The floor of any trigger that keeps an outbox row per change: the same row inserted by a bare
  // trigger, with no wake-up and no function call in between.
  const bare = `
CREATE OR REPLACE FUNCTION ${schema}.bench_bare_insert() RETURNS trigger LANGUAGE plpgsql AS $b$
BEGIN
  INSERT INTO ${schema}.vigil_outbox (name, labels, ok, data) VALUES ('task-status',
    jsonb_build_object('table', TG_TABLE_NAME::text, 'status', NEW.status), NEW.status = 'done',
    jsonb_build_object('task_id', NEW.id, 'attempts', NEW.attempts, 'error_log', left(NEW.error_log, 2000),
      'updated_at', NEW.updated_at, 'previous_status', OLD.status));
  RETURN NULL;
END $b$;
CREATE TRIGGER bench_bare AFTER UPDATE ON ${schema}.tasks
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION ${schema}.bench_bare_insert();`;
  const variants = Object.keys(tps) as Variant[];
  try {
    for (let r = 0; r < runs; r++) {
      // The order turns each round, so a drift in the machine's load favours no variant.
      for (const variant of variants.map((_, i) => variants[(i + r) % variants.length] as Variant)) {
        await redis.flushall();
        await db.query(`TRUNCATE ${schema}.vigil_outbox`);
        await db.query(`VACUUM ANALYZE ${schema}.tasks`);
        await db.query(`DROP TRIGGER IF EXISTS bench_bare ON ${schema}.tasks`);
        await applyTriggers(DATABASE_URL, spec, variant === 'none' || variant === 'bare insert');
        if (variant === 'bare insert') await db.query(bare);
        const capture = variant === 'trigger + drain' ? await startCapture(s) : undefined;
        tps[variant].push(await bench.tps());
        await capture?.close();
      }
      console.log(
        `  pgbench round ${r + 1}: ${variants.map((v) => `${v} ${fmt(tps[v].at(-1) ?? NaN)}`).join(', ')} tps`,
      );
    }
  } finally {
    bench.close();
  }
  return { bin, tasks, tps, load };
}

function render(
  capture: CaptureRun[],
  rows: number,
  cost: Awaited<ReturnType<typeof measureTriggerCost>>,
  seconds: number,
) {
  const m = (k: keyof CaptureRun) => median(capture.map((c) => c[k]));
  const live = m('live');
  const lines = [
    `**Outbox capture target: ≥ ${fmt(CAPTURE_TARGET)} rows/s end to end (median): ${pass(live >= CAPTURE_TARGET)}** — ` +
      `${fmt(live)} rows/s while written, ${fmt(m('backlog'))} rows/s from a backlog.`,
  ];
  let costLine = 'pgbench not found: trigger cost not measured.';
  if (cost) {
    // Each round's variants ran minutes apart at most: their ratio is what the machine's load cannot
    // shift much (other work on the box moves every variant of a round alike).
    const ratio = (v: Variant) => cost.tps[v].map((t, i) => t / (cost.tps.none[i] ?? NaN));
    const trig = median(ratio('trigger'));
    const floor = median(ratio('bare insert'));
    const drain = median(ratio('trigger + drain'));
    const spread = (v: Variant) => {
      const r = ratio(v).sort((a, b) => a - b);
      return `${pct(r[0] ?? NaN)}–${pct(r.at(-1) ?? NaN)}`;
    };
    lines.push(
      `**Trigger cost to writers target: ≤ ${COST_TARGET * 100} % (median of rounds): ${pass(1 - trig <= COST_TARGET)}** — ` +
        `${pct(1 - trig)} fewer transactions/s with the trigger; ${pct(1 - drain)} with a source draining at the same time; ` +
        `${pct(1 - floor)} with a bare trigger that only inserts the same row (the floor of a row per change).`,
    );
    costLine = [
      '| round | no trigger (tps) | bare insert (tps) | trigger (tps) | trigger + source draining (tps) | bare insert / none | trigger / none | trigger + drain / none |',
      '|---|---|---|---|---|---|---|---|',
      ...cost.tps.none.map(
        (n, i) =>
          `| ${i + 1} | ${fmt(n)} | ${fmt(cost.tps['bare insert'][i] ?? NaN)} | ${fmt(cost.tps.trigger[i] ?? NaN)} | ${fmt(cost.tps['trigger + drain'][i] ?? NaN)} | ` +
          `${pct(ratio('bare insert')[i] ?? NaN)} | ${pct(ratio('trigger')[i] ?? NaN)} | ${pct(ratio('trigger + drain')[i] ?? NaN)} |`,
      ),
      `| **median** | ${fmt(median(cost.tps.none))} | ${fmt(median(cost.tps['bare insert']))} | ${fmt(median(cost.tps.trigger))} | ${fmt(median(cost.tps['trigger + drain']))} | ${pct(floor)} (${spread('bare insert')}) | **${pct(trig)}** (${spread('trigger')}) | **${pct(drain)}** (${spread('trigger + drain')}) |`,
      '',
      `\`${cost.bin}\`, 4 clients, ${seconds} s a run; a round runs each variant once, in an order that turns each round. ` +
        `Each transaction moves one of ${fmt(cost.tasks)} tasks to another status (\`UPDATE … SET status = CASE … END, attempts = attempts + 1, updated_at = now()\`), ` +
        'so with the trigger every transaction raises an event; the outbox is emptied and the table vacuumed before each run. ' +
        `Load average (1/5/15 min) at the start of the section: ${cost.load}; the machine is shared, so single runs swing widely — the per-round ratios are the figure.`,
    ].join('\n');
  }
  return [
    ...lines,
    '',
    '### Outbox rows captured end to end',
    '',
    `${fmt(rows)} rows a run, raised with \`vigil_raise\`; "captured" means the events are durable in the events queue (a private redis-server), the rows marked done. ` +
      'Backlog: rows raised first (1,000 a statement), then the source started. While written: 4 writers raise 100 rows a statement while the source drains; the clock stops at the last event durable. ' +
      'Baseline: the same number of events through the same batcher and queue with no database.',
    '',
    '| run | backlog (rows/s) | while written (rows/s) | writers alone wrote (rows/s) | baseline: batcher → Redis (events/s) | while written / baseline |',
    '|---|---|---|---|---|---|',
    ...capture.map(
      (c, i) =>
        `| ${i + 1} | ${fmt(c.backlog)} | ${fmt(c.live)} | ${fmt(c.writers)} | ${fmt(c.direct)} | ${((c.live / c.direct) * 100).toFixed(0)} % |`,
    ),
    `| **median** | **${fmt(m('backlog'))}** | **${fmt(live)}** | ${fmt(m('writers'))} | ${fmt(m('direct'))} | ${((live / m('direct')) * 100).toFixed(0)} % |`,
    '',
    "### The trigger's cost to writers",
    '',
    costLine,
  ].join('\n');
}

export const postgresSection: BenchSection = {
  key: 'postgres',
  title: 'PostgreSQL outbox: rows captured per second, and the trigger’s cost to writers',
  async run() {
    const runs = int('BENCH_PG_RUNS', 5);
    const rows = int('BENCH_PG_ROWS', 50_000);
    const seconds = int('BENCH_PGBENCH_SECONDS', 3);
    const rounds = int('BENCH_PGBENCH_ROUNDS', 15);
    const redisServer = await startPrivateRedis();
    const redis = new Redis(redisServer.url);
    const db = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
    const s: CaptureSetup = {
      databaseUrl: DATABASE_URL,
      schema: `bench_pg_${randomBytes(4).toString('hex')}`,
      redisUrl: redisServer.url,
      prefix: 'bench-pg',
    };
    try {
      await ensureOutbox(db, { schema: s.schema, channel: 'vigil_outbox' });
      const capture: CaptureRun[] = [];
      for (let r = 0; r < runs; r++) {
        capture.push(await measureCapture(db, s, redis, rows));
        console.log(`  capture run ${r + 1}:`, capture.at(-1));
      }
      const cost = await measureTriggerCost(db, s, redis, rounds, seconds);
      return render(capture, rows, cost, seconds);
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(s.schema)} CASCADE`);
      await db.end();
      redis.disconnect();
      await redisServer.close();
    }
  },
};
