import { describe, expect, it } from 'vitest';
import { ensureOutbox } from '../../src/sources/postgres/outbox-sql.js';
import { DATABASE_URL } from '../support/env.js';
import { captureLogs } from '../support/log-capture.js';
import { rowIdOf, useOutboxWorlds } from '../support/pg-outbox.js';
import { quietPeriod, until } from '../support/quiet.js';
import { startTcpProxy, through } from '../support/tcp-proxy.js';

const setUp = useOutboxWorlds();

describe('pg-outbox source: faults', () => {
  it('bad rows are counted, logged with their id and reason, marked done; the rows around them go on', async () => {
    const { env, world } = await setUp();
    const { db, schema } = env;
    const logs = captureLogs('warn');
    const h = await world.start(0, {}, logs.log);
    const raise = `${schema}.vigil_raise`;
    await db.query(`SELECT ${raise}('before', ok => true)`);
    const bad = [
      `${raise}(NULL)`,
      `${raise}('bad-labels', '{"attempts": 3}')`,
      `${raise}('bad-labels-array', '["x"]')`,
      `${raise}('bad-value', value => 'NaN')`,
      `${raise}('bad-data', data => '[1, 2]')`,
      `${raise}(repeat('x', 201))`,
    ];
    for (const call of bad) await db.query(`SELECT ${call}`);
    await db.query(`SELECT ${raise}('after', ok => false, value => 2.5, data => '{"k": "v"}')`);
    await until('the good rows', () => h.emitted >= 2);
    await until(
      'the bad rows counted',
      () =>
        h.metrics.value('vigil_source_rejected_total', { source: 'helix', reason: 'shape' }) >= bad.length,
    );
    await quietPeriod(500);
    const events = (await h.queued()).sort((a, b) => rowIdOf(a) - rowIdOf(b));
    expect(events.map((e) => e.name)).toEqual(['before', 'after']);
    expect(events[1]).toMatchObject({ ok: false, value: 2.5, data: { k: 'v' }, labels: { source: 'helix' } });
    expect(h.metrics.value('vigil_source_rejected_total', { source: 'helix', reason: 'shape' })).toBe(
      bad.length,
    );
    const warned = logs
      .records()
      .filter((r) => r.msg === 'outbox row is not an event: marked done, not sent');
    expect(warned.map((r) => r.row)).toEqual(['2', '3', '4', '5', '6', '7']);
    expect(warned.map((r) => (r.problems as string[])[0]?.split(':')[0])).toEqual([
      'name',
      'labels.attempts',
      'labels',
      'value',
      'data',
      'name',
    ]);
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM ${schema}.vigil_outbox WHERE done_at IS NULL`,
    );
    expect(rows[0].n).toBe(0);
    expect(h.health.ok).toBe(true);
  });

  it('starts while its database is away, and what was raised while it was away arrives once it is back', async () => {
    const { env, world } = await setUp();
    const { db, schema } = env;
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(DATABASE_URL).port) });
    try {
      proxy.cut();
      const h = await world.start(0, {
        url: through(DATABASE_URL, proxy.port),
        safetyEvery: '1h',
      });
      expect(h.health.problems()['source helix']).toMatch(/outbox drain failing .*outbox not created/);
      await ensureOutbox(db, { schema, channel: 'vigil_outbox' });
      const pendingSql = `SELECT count(*)::int AS n FROM ${schema}.vigil_outbox WHERE done_at IS NULL`;
      const raise = (n: number) =>
        db.query(`SELECT ${schema}.vigil_raise('while-away') FROM generate_series(1, $1)`, [n]);
      await raise(50);
      proxy.restore();
      await until('the rows raised before it connected', () => h.emitted >= 50, 20_000);
      // Cut only once they are marked done: a cut between the events and the commit would (rightly)
      // send them again, with the same ids, which is not what this test counts.
      for (let n = 1; n > 0;) n = (await db.query(pendingSql)).rows[0].n;
      proxy.cut();
      await raise(50); // their notifications go to nobody
      proxy.restore();
      await until('the rows raised while it was cut off', () => h.emitted >= 100, 20_000);
      await quietPeriod();
      const events = await h.queued();
      expect(events).toHaveLength(100);
      expect(new Set(events.map((e) => e.id)).size).toBe(100);
      await until('health to clear', () => h.health.ok);
    } finally {
      await world.close();
      await proxy.close();
    }
  });

  it('the safety timer drains rows whose notification never came', async () => {
    const { env, world } = await setUp();
    const { db, schema } = env;
    const h = await world.start(0, { safetyEvery: '100ms' });
    // Inserted past vigil_raise: no NOTIFY at all.
    await db.query(`INSERT INTO ${schema}.vigil_outbox (name) SELECT 'quiet' FROM generate_series(1, 20)`);
    await until('the safety drain', () => h.emitted >= 20);
    await quietPeriod(500);
    expect(await h.queued()).toHaveLength(20);
  });

  it('deletes rows done longer than the retention, and only those', async () => {
    const { env, world } = await setUp();
    const { db, schema } = env;
    await world.start(0, { safetyEvery: '100ms', retention: '1h' });
    await db.query(`INSERT INTO ${schema}.vigil_outbox (name, done_at) VALUES
      ('old', now() - interval '2 hours'), ('recent', now() - interval '10 minutes'), ('pending', NULL)`);
    const names = async () =>
      (await db.query<{ name: string }>(`SELECT name FROM ${schema}.vigil_outbox ORDER BY id`)).rows.map(
        (r) => r.name,
      );
    await until('the prune', async () => !(await names()).includes('old'));
    expect(await names()).toEqual(['recent', 'pending']);
  });

  it('a busy session wakes the drain at most once per 100 ms, and the rows in between still arrive at once', async () => {
    const { env, world } = await setUp();
    const { schema } = env;
    const h = await world.start(0, { safetyEvery: '1h' });
    const listener = await world.connect();
    let notifications = 0;
    listener.on('notification', () => notifications++);
    await listener.query('LISTEN vigil_outbox');
    const writer = await world.connect();
    // One transaction a row, as fast as one session goes; the last ones wake nobody by themselves.
    for (let i = 0; i < 200; i++) await writer.query(`SELECT ${schema}.vigil_raise('busy')`);
    await until('every row, by the drain that follows a wake-up', () => h.emitted >= 200);
    await quietPeriod(500);
    expect(await h.queued()).toHaveLength(200);
    expect(notifications).toBeGreaterThan(0);
    expect(notifications).toBeLessThan(200);
  });

  it('a long transaction that raised just after a wake-up still wakes the drain when it commits', async () => {
    const { env, world } = await setUp();
    const { schema } = env;
    const h = await world.start(0, { safetyEvery: '1h' });
    const writer = await world.connect();
    await writer.query(`SELECT ${schema}.vigil_raise('first')`);
    await writer.query('BEGIN');
    // Raised within the wake-up interval of the commit above, so raising it wakes nobody ...
    await writer.query(`SELECT ${schema}.vigil_raise('long')`);
    await until('the first row', () => h.emitted >= 1);
    // ... and it commits only after the drain that followed that wake-up has come and gone.
    await quietPeriod(600);
    expect(h.emitted).toBe(1);
    await writer.query('COMMIT');
    await until('the row of the long transaction, without the safety timer', () => h.emitted >= 2);
    expect((await h.queued()).map((e) => e.name).sort()).toEqual(['first', 'long']);
  });
});
