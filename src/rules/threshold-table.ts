import type pg from 'pg';
import { withTransaction } from '../db/pool.js';

/** Who changes thresholds and why: written on the row, or passed to the audit trigger for a delete. */
export interface Change {
  by: string;
  reason: string;
}

/** A tuned row, with who changed it last, when and why (from the audit trail: plain SQL included). */
export interface ThresholdRow {
  rule: string;
  key: string;
  value: number;
  changedBy: string;
  changedAt: Date;
  reason: string;
}

export interface HistoryRow {
  id: string;
  rule: string;
  key: string;
  oldValue: number | null;
  newValue: number | null;
  changedBy: string;
  reason: string;
  changedAt: Date;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

export async function upsertThreshold(
  db: Queryable,
  rule: string,
  key: string,
  value: number,
  change: Change,
): Promise<void> {
  await db.query(
    `INSERT INTO vigil_thresholds (rule_id, key, value, updated_by, reason) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (rule_id, key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by,
       reason = EXCLUDED.reason, updated_at = now()`,
    [rule, key, value, change.by, change.reason],
  );
}

/** Several changes at once: all or none, each audited with the same who and why. */
export function changeThresholds(
  pool: pg.Pool,
  change: Change,
  fn: (client: pg.PoolClient) => Promise<void>,
): Promise<void> {
  return withTransaction(pool, async (client) => {
    // Read by the audit trigger for deletes (set_config(…, true): this transaction only).
    await client.query(
      `SELECT set_config('vigil.changed_by', $1, true), set_config('vigil.reason', $2, true)`,
      [change.by, change.reason],
    );
    await fn(client);
  });
}

/** Deletes the tuned row(s) of a rule (one key, or all): the rule file's defaults apply again. */
export async function deleteThresholds(db: Queryable, rule: string, key?: string): Promise<number> {
  const { rowCount } = await db.query(
    'DELETE FROM vigil_thresholds WHERE rule_id = $1 AND ($2::text IS NULL OR key = $2)',
    [rule, key ?? null],
  );
  return rowCount ?? 0;
}

export async function thresholdRows(db: Queryable): Promise<ThresholdRow[]> {
  const { rows } = await db.query<ThresholdRow>(
    `SELECT t.rule_id AS rule, t.key, t.value, coalesce(h.changed_by, t.updated_by) AS "changedBy",
       coalesce(h.changed_at, t.updated_at) AS "changedAt", coalesce(h.reason, t.reason) AS reason
     FROM vigil_thresholds t LEFT JOIN LATERAL (
       SELECT changed_by, changed_at, reason FROM vigil_threshold_history h
       WHERE h.rule_id = t.rule_id AND h.key = t.key ORDER BY h.id DESC LIMIT 1) h ON true
     ORDER BY t.rule_id, t.key`,
  );
  return rows;
}

/** One change of a rule's audit trail, if it is that rule's. */
export async function historyEntry(db: Queryable, rule: string, id: string): Promise<HistoryRow | undefined> {
  return (await historyOf(db, rule, id))[0];
}

/** A rule's audit trail, newest first. */
export function thresholdHistory(db: Queryable, rule: string): Promise<HistoryRow[]> {
  return historyOf(db, rule);
}

async function historyOf(db: Queryable, rule: string, id?: string): Promise<HistoryRow[]> {
  const { rows } = await db.query<HistoryRow>(
    `SELECT id, rule_id AS rule, key, old_value AS "oldValue", new_value AS "newValue",
       changed_by AS "changedBy", reason, changed_at AS "changedAt"
     FROM vigil_threshold_history WHERE rule_id = $1 AND ($2::bigint IS NULL OR id = $2) ORDER BY id DESC`,
    [rule, id ?? null],
  );
  return rows;
}
