import pg from 'pg';
import { formatDuration } from '../../config/duration.js';
import type { FixZombieTasksSpec } from './spec.js';

/**
 * The statements of one fix-zombie-tasks run. Names come from the validated spec and are quoted;
 * every value is a parameter. Parameters $1–$4 are the zombie conditions, shared by both statements.
 */
export interface ZombieStatements {
  /** One batch: locks up to $5 zombies (skipping rows a worker holds), fixes them, returns their ids. */
  fix: string;
  /** Zombies still matching: the locked ones, and those beyond the batch cap. */
  count: string;
  conditionParams: unknown[];
  fixParams: unknown[];
}

export function zombieStatements(spec: FixZombieTasksSpec, runId: string): ZombieStatements {
  const q = pg.escapeIdentifier;
  const table = spec.table.split('.').map(q).join('.');
  const c = spec.columns;
  const [id, status, updatedAt, attempts, errorLog] = [
    q(c.id),
    q(c.status),
    q(c.updatedAt),
    q(c.attempts),
    q(c.errorLog),
  ] as const;
  // The note each fix appends carries this marker, so a row fixed earlier in the run is never
  // fixed twice. NULL-safe on purpose: `error_log NOT LIKE …` is NULL, not true, for a NULL
  // error_log, and HELIX's own fix once skipped such a row forever (task 109039). A NULL
  // updated_at or attempts counts as unknown age and no attempts, so it cannot hide a zombie.
  const where = `t.${status} = $1
      AND (t.${errorLog} IS NULL OR strpos(t.${errorLog}, $4) = 0)
      AND (t.${updatedAt} IS NULL OR t.${updatedAt} < now() - $2::float8 * interval '1 millisecond'
           OR coalesce(t.${attempts}, 0) >= $3)`;
  const fix = `WITH z AS (
      SELECT t.${id} AS id, coalesce(t.${attempts}, 0) >= $3 AS give_up FROM ${table} t
      WHERE ${where}
      ORDER BY t.${id} LIMIT $5 FOR UPDATE SKIP LOCKED)
    UPDATE ${table} t SET ${status} = CASE WHEN z.give_up THEN $7 ELSE $6 END,
      ${updatedAt} = now(),
      ${errorLog} = coalesce(t.${errorLog} || E'\\n', '') || CASE WHEN z.give_up THEN $9 ELSE $8 END
    FROM z WHERE t.${id} = z.id
    RETURNING t.${id} AS id, z.give_up AS give_up`;
  const marker = `[vigil run ${runId}]`;
  const conditionParams = [spec.processing, spec.stuckFor, spec.maxAttempts, marker];
  const resetNote = `${marker} reset to "${spec.resetTo}": in "${spec.processing}" without an update for over ${formatDuration(spec.stuckFor)}`;
  const giveUpNote = `${marker} gave up (status "${spec.giveUpTo}"): in "${spec.processing}" after ${spec.maxAttempts} or more attempts`;
  return {
    fix,
    count: `SELECT count(*)::int AS n FROM ${table} t WHERE ${where}`,
    conditionParams,
    fixParams: [...conditionParams, spec.batch, spec.resetTo, spec.giveUpTo, resetNote, giveUpNote],
  };
}
