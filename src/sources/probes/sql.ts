import pg from 'pg';
import { z } from 'zod';
import { errorMessage } from '../../errors.js';
import { failed, number, probeBase, round } from './fields.js';
import type { ProbeOutcome } from './fields.js';

/**
 * One scalar from a query (task failure rate, zombie count, `SELECT 1`). The url is explicit: the
 * spec travels in a job to whichever agent is free, so "the agent's own database" would mean a
 * different one per agent. Use `${VAR}` in the rule file to keep the password out of it.
 */
export const sqlProbeSchema = z
  .object({
    kind: z.literal('sql'),
    ...probeBase,
    url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL'),
    query: z.string().min(1),
    /** Bounds the value must keep; absent, a query that returns a number is healthy. */
    expect: z
      .object({ min: number.optional(), max: number.optional(), equals: number.optional() })
      .strict()
      .optional(),
  })
  .strict();

export type SqlProbeSpec = z.output<typeof sqlProbeSchema>;

/**
 * One connection per run, closed before the run ends: probes run every few seconds at most, so a
 * pool would only hold connections open on the target between runs (and leak if a spec changes).
 * The session is read-only and the server cancels the query at the probe's timeout.
 */
export async function runSqlProbe(spec: SqlProbeSpec): Promise<ProbeOutcome> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const client = new pg.Client({
    connectionString: spec.url,
    connectionTimeoutMillis: spec.timeout,
    statement_timeout: spec.timeout,
    // A backstop for a server that stops answering altogether (statement_timeout is the server's).
    query_timeout: spec.timeout + 500,
    options: '-c default_transaction_read_only=on',
    application_name: `vigil probe ${spec.name}`,
  });
  // A connection error after the query (the server going away) must not become an uncaught error.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const res = await client.query<unknown[]>({ text: spec.query, rowMode: 'array' });
    return judge(spec, res.rows, res.fields.length, elapsed());
  } catch (err) {
    const code = (err as { code?: string }).code;
    const reason = code === '57014' ? `query timed out after ${spec.timeout} ms` : errorMessage(err);
    return failed(reason, elapsed(), { durationMs: elapsed() });
  } finally {
    await client.end().catch(() => undefined);
  }
}

function judge(spec: SqlProbeSpec, rows: unknown[][], columns: number, durationMs: number): ProbeOutcome {
  const data = { durationMs };
  if (rows.length !== 1 || columns !== 1)
    return failed(
      `query returned ${rows.length} row(s) of ${columns} column(s), expected one value`,
      0,
      data,
    );
  const value = scalar(rows[0]?.[0]);
  if (value === undefined)
    return failed(`query returned ${JSON.stringify(rows[0]?.[0] ?? null)}, not a number`, 0, data);
  const e = spec.expect;
  const problem =
    e?.equals !== undefined && value !== e.equals
      ? `is not ${e.equals}`
      : e?.min !== undefined && value < e.min
        ? `is below ${e.min}`
        : e?.max !== undefined && value > e.max
          ? `is above ${e.max}`
          : undefined;
  return problem ? failed(`value ${round(value)} ${problem}`, value, data) : { ok: true, value, data };
}

/** pg returns bigint and numeric as text; a boolean counts as 1 or 0. */
function scalar(v: unknown): number | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
