import pg from 'pg';
import { loadConfig } from '../src/config/load.js';
import type { Emit, Source } from '../src/contracts/source.js';
import type { VigilEvent } from '../src/contracts/event.js';
import { createPool } from '../src/db/pool.js';
import { Health } from '../src/health.js';
import { createLogger } from '../src/log.js';
import { Metrics } from '../src/metrics.js';
import { eventsBatcher } from '../src/queues/batcher.js';
import { createRedis } from '../src/queues/connection.js';
import { closeQueues, createQueues } from '../src/queues/queues.js';
import { sourceKinds } from '../src/sources/registry.js';

/** One agent's pg-outbox source and its path into Redis (batcher → events queue), nothing after it. */
export interface Capture {
  /** Resolves once `n` events are durable in the events queue. */
  reached(n: number): Promise<void>;
  close(): Promise<void>;
}

export interface CaptureSetup {
  databaseUrl: string;
  schema: string;
  redisUrl: string;
  prefix: string;
}

/** Everything an agent would lend the source, opened for the bench. */
function parts(s: CaptureSetup) {
  const config = loadConfig({
    env: {},
    object: {
      database: { url: s.databaseUrl, schema: s.schema, poolSize: 2 },
      redis: { url: s.redisUrl, prefix: s.prefix },
      sources: [{ kind: 'pg-outbox', name: 'bench' }],
      log: { level: 'silent' },
    },
  });
  const client = createRedis(s.redisUrl, 'client', s.prefix);
  const workerConn = createRedis(s.redisUrl, 'worker', s.prefix);
  const queues = createQueues(client, s.prefix);
  const batcher = eventsBatcher(queues.events, config.events, (err) =>
    console.error('batch not queued:', err),
  );
  const close = async () => {
    await batcher.close();
    await closeQueues(queues);
    client.disconnect();
    workerConn.disconnect();
  };
  return { config, client, workerConn, queues, batcher, close };
}

/** Counts events as they become durable and resolves waiters for a count. */
function counter() {
  let count = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  return {
    add(n: number) {
      count += n;
      for (const w of waiters.filter((x) => count >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
    reached: (n: number) =>
      count >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
  };
}

export async function startCapture(s: CaptureSetup): Promise<Capture> {
  const p = parts(s);
  const pool = createPool(p.config.database, 'vigil bench');
  const sources: Source[] = sourceKinds.build(p.config.sources, {
    config: p.config,
    rules: { rules: [], probes: [] },
    pool,
    client: p.client,
    workerConn: p.workerConn,
    queues: p.queues,
    metrics: new Metrics(),
    health: new Health(),
    log: createLogger({ level: 'silent' }),
    agentId: 'bench',
  });
  const durable = counter();
  const emit: Emit = async (events) => {
    await Promise.all(events.map((e) => p.batcher.add(e)));
    durable.add(events.length);
  };
  for (const source of sources) await source.start(emit);
  return {
    reached: durable.reached,
    async close() {
      for (const source of sources) await source.close();
      await p.close();
      await pool.end();
    },
  };
}

/** The baseline: the same number of events through the same batcher and queue, with no database. */
export async function pushDirect(s: CaptureSetup, n: number): Promise<number> {
  const p = parts(s);
  try {
    const at = new Date().toISOString();
    const started = performance.now();
    const adds: Array<Promise<void>> = [];
    for (let i = 0; i < n; i++) {
      const event: VigilEvent = {
        id: `direct-${i}`,
        source: 'pg',
        name: 'bench',
        at,
        host: 'bench',
        labels: { source: 'bench', task: String(i % 100) },
        value: i,
        ok: i % 10 !== 0,
      };
      adds.push(p.batcher.add(event));
      // Like a drain, hand over a batch's worth and wait: an unbounded loop would only measure memory.
      if (adds.length === 1000) await Promise.all(adds.splice(0));
    }
    await Promise.all(adds);
    return performance.now() - started;
  } finally {
    await p.close();
  }
}

/** Rows raised by `writers` connections, `perTx` rows a statement, until `n` in all. */
export async function raiseRows(clients: readonly pg.Client[], schema: string, n: number, perTx: number) {
  let next = 0;
  await Promise.all(
    clients.map(async (c) => {
      while (next < n) {
        const from = next;
        next = Math.min(n, next + perTx);
        await c.query(
          `SELECT ${pg.escapeIdentifier(schema)}.vigil_raise('bench', jsonb_build_object('task', (i % 100)::text), i % 10 <> 0, i)
           FROM generate_series($1::int, $2::int) i`,
          [from, next - 1],
        );
      }
    }),
  );
}
