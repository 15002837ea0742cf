import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProbe } from '../../src/sources/probes/registry.js';
import { sqlProbeSchema } from '../../src/sources/probes/sql.js';
import { DATABASE_URL } from '../support/env.js';

const table = `sql_probe_${process.pid}`;
let db: pg.Pool;

beforeAll(async () => {
  db = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await db.query(`CREATE TABLE ${table} (id int, status text)`);
  await db.query(`INSERT INTO ${table} VALUES (1, 'done'), (2, 'failed'), (3, 'done'), (4, 'done')`);
});

afterAll(async () => {
  await db.query(`DROP TABLE IF EXISTS ${table}`);
  await db.end();
});

const probe = (query: string, extra: Record<string, unknown> = {}) =>
  sqlProbeSchema.parse({
    kind: 'sql',
    name: 'task-failure-rate',
    url: DATABASE_URL,
    query,
    every: '5s',
    timeout: '1s',
    ...extra,
  });

const failureRate = `SELECT avg((status = 'failed')::int) * 100 FROM ${table}`;

async function openProbeConnections(): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'vigil probe task-failure-rate'`,
  );
  return Number(rows[0]?.n);
}

describe('sql probe', () => {
  it('reads one scalar (numeric comes back as text) as the value, ok without bounds', async () => {
    const out = await runProbe(probe(failureRate));
    expect(out).toMatchObject({ ok: true, value: 25 });
    expect(await runProbe(probe('SELECT 1'))).toMatchObject({ ok: true, value: 1 });
    expect(await runProbe(probe('SELECT pg_is_in_recovery()'))).toMatchObject({ ok: true, value: 0 });
  });

  it('fails when the value leaves its bounds, naming the bound', async () => {
    expect(await runProbe(probe(failureRate, { expect: { max: '5' } }))).toMatchObject({
      ok: false,
      value: 25,
      data: { error: 'value 25 is above 5' },
    });
    expect(await runProbe(probe(failureRate, { expect: { min: 30 } }))).toMatchObject({
      ok: false,
      data: { error: 'value 25 is below 30' },
    });
    expect(await runProbe(probe('SELECT 1', { expect: { equals: 0 } }))).toMatchObject({
      ok: false,
      data: { error: 'value 1 is not 0' },
    });
    expect(await runProbe(probe(failureRate, { expect: { min: 0, max: 50 } }))).toMatchObject({ ok: true });
  });

  it('fails at its timeout: the server cancels a query that runs too long', async () => {
    const out = await runProbe(probe('SELECT count(*) FROM pg_sleep(5)', { timeout: '300ms' }));
    expect(out).toMatchObject({ ok: false, data: { error: 'query timed out after 300 ms' } });
    expect(out.value).toBeLessThan(5000);
  });

  it('fails, saying why, on no row, several rows or columns, NULL or text', async () => {
    const cases: Array<[string, RegExp]> = [
      [`SELECT id FROM ${table} WHERE false`, /returned 0 row\(s\) of 1 column\(s\), expected one value/],
      [`SELECT id FROM ${table}`, /returned 4 row\(s\)/],
      ['SELECT 1, 2', /of 2 column\(s\)/],
      ['SELECT NULL', /returned null, not a number/],
      [`SELECT 'healthy'`, /returned "healthy", not a number/],
      ['SELECT nonsense FROM nowhere', /relation "nowhere" does not exist/],
    ];
    for (const [query, error] of cases) {
      const out = await runProbe(probe(query));
      expect(out.ok, query).toBe(false);
      expect(out.data.error, query).toMatch(error);
    }
  });

  it('runs read-only: a query that writes is refused and changes nothing', async () => {
    const out = await runProbe(probe(`WITH d AS (DELETE FROM ${table} RETURNING 1) SELECT count(*) FROM d`));
    expect(out).toMatchObject({ ok: false, data: { error: expect.stringMatching(/read-only transaction/) } });
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${table}`);
    expect(rows[0]).toEqual({ n: 4 });
  });

  it('fails with the reason when the database cannot be reached', async () => {
    const out = await runProbe(probe('SELECT 1', { url: 'postgres://postgres@127.0.0.1:1/postgres' }));
    expect(out).toMatchObject({ ok: false, data: { error: expect.stringMatching(/ECONNREFUSED/) } });
  });

  it('leaves no connection open after its runs, whatever their outcome', async () => {
    await Promise.all([
      runProbe(probe('SELECT 1')),
      runProbe(probe('SELECT NULL')),
      runProbe(probe('SELECT pg_sleep(5)', { timeout: '200ms' })),
    ]);
    // The server notices a closed connection a moment after the client's end() resolves.
    for (let i = 0; i < 100 && (await openProbeConnections()) > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await openProbeConnections()).toBe(0);
  });
});
