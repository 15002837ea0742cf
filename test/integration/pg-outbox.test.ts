import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../src/contracts/event.js';
import { ensureOutbox } from '../../src/sources/postgres/outbox-sql.js';
import { DATABASE_URL } from '../support/env.js';
import {
  createTasksTable,
  installTaskTrigger,
  nextStatusSql,
  rowIdOf,
  statusCycle,
  useOutboxWorlds,
} from '../support/pg-outbox.js';
import { quietPeriod, until } from '../support/quiet.js';

const setUp = useOutboxWorlds();

async function listenerPids(db: pg.Pool, appName: string): Promise<number[]> {
  const { rows } = await db.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
    [appName],
  );
  return rows.map((r) => r.pid);
}

/** Waits for a listener connection other than `gone`, polling pg_stat_activity. */
async function nextListener(db: pg.Pool, appName: string, gone: readonly number[]): Promise<number> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
    const fresh = (await listenerPids(db, appName)).filter((p) => !gone.includes(p));
    if (fresh.length === 1) return fresh[0] as number;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no new listener "${appName}" within 20 s (gone: ${gone.join(', ')})`);
}

describe('pg-outbox source', () => {
  it('10,000 status changes by concurrent writers while the listener is killed twice: exactly 10,000 events', async () => {
    const { env, world } = await setUp();
    const { db, schema } = env;
    await createTasksTable(db, schema);
    // Only notifications and reconnects drain here: a safety timer would hide a lost wake-up.
    const h = await world.start(0, { safetyEvery: '1h', batchSize: 500 });
    await installTaskTrigger(DATABASE_URL, schema);
    const tasks = 100;
    await db.query(
      `INSERT INTO ${schema}.tasks (id, status) SELECT i, 'pending' FROM generate_series(1, $1) i`,
      [tasks],
    );
    const updates = 10_000 - tasks;
    const writers = 8;
    let written = 0;
    const write = async (w: number) => {
      const client = await world.connect();
      const mine = Array.from({ length: tasks }, (_, i) => i + 1).filter((id) => id % writers === w);
      for (let i = 0; written < updates; i++) {
        written++;
        await client.query(
          `UPDATE ${schema}.tasks SET status = ${nextStatusSql}, attempts = attempts + 1,
             error_log = CASE WHEN status = 'running' THEN 'Traceback: boom' END, updated_at = now()
           WHERE id = $1`,
          [mine[i % mine.length]],
        );
      }
    };
    const appName = `vigil test-${env.id}-0 helix listen`;
    const killed: number[] = [];
    const kill = async (after: number) => {
      await until(`${after} updates`, () => written >= after, 60_000);
      const pid = await nextListener(db, appName, killed);
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      killed.push(pid);
    };
    const killer = (async () => {
      await kill(2500);
      await kill(6000);
    })();
    await Promise.all([...Array.from({ length: writers }, (_, w) => write(w)), killer]);
    const last = await nextListener(db, appName, killed);
    expect(killed).toHaveLength(2);
    expect(killed).not.toContain(last);

    await until('10,000 events', () => h.emitted >= 10_000, 60_000);
    await quietPeriod();
    const events = await h.queued();
    expect(events).toHaveLength(10_000);
    expect(new Set(events.map((e) => e.id)).size).toBe(10_000);
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM ${schema}.vigil_outbox WHERE done_at IS NULL`,
    );
    expect(rows[0].n).toBe(0);

    // Each task's events, in row order, walk the status cycle from 'pending', each naming the one before.
    const byTask = new Map<number, VigilEvent[]>();
    for (const e of events) {
      const id = (e.data as { task_id: number }).task_id;
      byTask.set(id, [...(byTask.get(id) ?? []), e]);
    }
    expect(byTask.size).toBe(tasks);
    for (const [task, list] of byTask) {
      list.sort((a, b) => rowIdOf(a) - rowIdOf(b));
      list.forEach((e, i) => {
        const status = statusCycle[i % statusCycle.length];
        expect(e, `task ${task}, change ${i}`).toMatchObject({
          source: 'pg',
          name: 'task-status',
          labels: { source: 'helix', table: 'tasks', status },
          data: { task_id: task, attempts: i, previous_status: i === 0 ? null : statusCycle[(i - 1) % 4] },
        });
        // Failed and done say how a task ended; pending and running say nothing either way.
        expect(e.ok, `task ${task}, change ${i}`).toBe(
          status === 'failed' ? false : status === 'done' ? true : undefined,
        );
      });
    }
    const failed = events.filter((e) => e.ok === false);
    expect(failed.length).toBeGreaterThan(2000);
    expect(failed.every((e) => (e.data as { error_log: string }).error_log === 'Traceback: boom')).toBe(true);
  });

  it('two agents draining one outbox take each row once, and both take some', async () => {
    const { env, world } = await setUp();
    const { db, schema } = env;
    await ensureOutbox(db, { schema, channel: 'vigil_outbox' });
    const raise = (from: number, to: number) =>
      db.query(
        `SELECT ${schema}.vigil_raise('job', jsonb_build_object('n', i::text)) FROM generate_series($1::int, $2::int) i`,
        [from, to],
      );
    await raise(1, 3000); // a backlog both start on
    const [a, b] = await Promise.all([
      world.start(0, { batchSize: 100 }),
      world.start(1, { batchSize: 100 }),
    ]);
    const writer = await world.connect();
    for (let i = 3001; i <= 5000; i += 50)
      await writer.query(
        `SELECT ${schema}.vigil_raise('job', jsonb_build_object('n', i::text)) FROM generate_series($1::int, $2::int) i`,
        [i, i + 49],
      );
    await until('5,000 events', () => a.emitted + b.emitted >= 5000, 30_000);
    await quietPeriod();
    const events = await a.queued();
    expect(events).toHaveLength(5000);
    expect(new Set(events.map((e) => e.labels.n)).size).toBe(5000);
    expect(a.emitted + b.emitted).toBe(5000);
    expect(a.emitted).toBeGreaterThan(0);
    expect(b.emitted).toBeGreaterThan(0);
  });

  it('an agent runs it like any source: failing tasks open an incident, and closing leaves no connection', async () => {
    const { env } = await setUp();
    const { db, schema } = env;
    await createTasksTable(db, schema);
    const agent = env.agent(
      env.config({
        rules: { dir: 'test/fixtures/rules-tasks', vars: {} },
        sources: [{ kind: 'pg-outbox', name: 'helix' }],
      }),
    );
    await agent.start();
    await installTaskTrigger(DATABASE_URL, schema);
    await db.query(
      `INSERT INTO ${schema}.tasks (id, status) VALUES (1, 'failed'), (2, 'failed'), (3, 'failed')`,
    );
    const message = await env.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200);
    expect(JSON.stringify(message)).toContain('HELIX tasks keep failing');
    await agent.close(); // cleanup() fails on a connection the source left open
  });
});
