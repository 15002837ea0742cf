import pg from 'pg';
import { withTransaction, type Pool } from '../../db/pool.js';

const { escapeIdentifier: ident, escapeLiteral: literal } = pg;

/** Where an outbox lives: the schema of its table and function, and the channel that wakes its drains. */
export interface OutboxPlace {
  schema: string;
  channel: string;
}

/**
 * A session raises at most one notification per this many ms. The drain, after every notification
 * (and reconnect), runs once more `TRAILING_DRAIN_MS` later, and again every `TRAILING_DRAIN_MS`
 * while a transaction that raised without notifying is still open (raisesInFlightSql).
 */
export const NOTIFY_EVERY_MS = 100;
export const TRAILING_DRAIN_MS = 250;
/** First key of the shared advisory lock a transaction holds while it has raised without notifying. */
const RAISE_LOCK = 0x56494731;

/** The session setting holding when this session last notified this outbox's channel. */
const notifiedSetting = (p: OutboxPlace) => `vigil.notified_${p.channel}`;

const table = (p: OutboxPlace) => `${ident(p.schema)}.vigil_outbox`;
export const raiseFunction = (p: OutboxPlace) => `${ident(p.schema)}.vigil_raise`;

/**
 * The outbox table and `vigil_raise`, created if missing (the function is replaced, so a new channel
 * takes effect). Columns have no constraints on purpose: a writer's transaction must never fail
 * because of what it raised; the drain checks each row and sets bad ones aside, counted and logged.
 * The pending index is partial, so rows done cost it nothing, nor writers the retention index.
 */
export function outboxSetupSql(p: OutboxPlace): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${ident(p.schema)};
-- Only when missing: CREATE INDEX IF NOT EXISTS would lock an existing outbox against writers
-- while every agent starts.
DO $setup$ BEGIN
  IF to_regclass(${literal(`${ident(p.schema)}.vigil_outbox`)}) IS NULL THEN
    CREATE TABLE ${table(p)} (
      id bigserial PRIMARY KEY,
      name text,
      at timestamptz DEFAULT clock_timestamp(),
      labels jsonb DEFAULT '{}',
      value double precision,
      ok boolean,
      data jsonb,
      done_at timestamptz
    );
    CREATE INDEX vigil_outbox_pending ON ${table(p)} (id) WHERE done_at IS NULL;
    CREATE INDEX vigil_outbox_done ON ${table(p)} (done_at) WHERE done_at IS NOT NULL;
  END IF;
END $setup$;
CREATE OR REPLACE FUNCTION ${raiseFunction(p)}(
  name text,
  labels jsonb DEFAULT '{}',
  ok boolean DEFAULT NULL,
  value double precision DEFAULT NULL,
  data jsonb DEFAULT NULL
) RETURNS bigint LANGUAGE plpgsql
-- Writers (and their triggers) need no rights on the table: raising is what EXECUTE allows.
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $vigil$
DECLARE
  raised bigint;
${raiseDeclarations(p)}
BEGIN
${raiseStatements(p, {
  name: 'vigil_raise.name',
  labels: "COALESCE(vigil_raise.labels, '{}')",
  ok: 'vigil_raise.ok',
  value: 'vigil_raise.value',
  data: 'vigil_raise.data',
})}
  RETURN raised;
END
$vigil$;`;
}

/** The variables raiseStatements uses, for a plpgsql DECLARE section. */
export const raiseDeclarations = (
  p: OutboxPlace,
) => `  notified text := current_setting(${literal(notifiedSetting(p))}, true);
  now_s double precision := extract(epoch FROM clock_timestamp());`;

/**
 * Raising an event, as plpgsql statements: vigil_raise's body, and inlined into the triggers
 * `vigil install-triggers` writes (a function call fewer per change: writers feel each one). The
 * values are SQL expressions; the row's id goes into `raised` when the caller declares it.
 */
export function raiseStatements(
  p: OutboxPlace,
  v: { name: string; labels: string; ok: string; value: string; data: string },
  into = 'raised',
): string {
  return `  INSERT INTO ${table(p)} (name, labels, ok, value, data)
  VALUES (${v.name}, ${v.labels}, ${v.ok}, ${v.value}, ${v.data})${into ? `\n  RETURNING id INTO ${into}` : ''};
  -- Only a wake-up: the row is the event. A commit that notifies holds a cluster-wide lock until its
  -- WAL is flushed, so notifying commits go one at a time: a session wakes the drain at most once
  -- per ${NOTIFY_EVERY_MS} ms (the setting is transactional: a rolled-back notification does not
  -- count). A row raised without a notification is drained by the drain that follows each wake-up;
  -- its transaction holds a shared lock until it ends, so while such a transaction is still open
  -- (however long it runs) the drain keeps following up, and its row is not left to the safety timer.
  IF notified IS NULL OR notified = '' OR now_s - notified::double precision >= ${NOTIFY_EVERY_MS / 1000} THEN
    PERFORM pg_notify(${literal(p.channel)}, '');
    PERFORM set_config(${literal(notifiedSetting(p))}, now_s::text, false);
  ELSE
    PERFORM pg_advisory_xact_lock_shared(${RAISE_LOCK}, hashtext(${literal(p.schema)}));
  END IF;`;
}

/** True while a transaction that raised a row without notifying is still open (see vigil_raise). */
export const raisesInFlightSql = `
SELECT EXISTS (
  SELECT 1 FROM pg_locks
  WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND classid = ${RAISE_LOCK}::oid AND objid::bigint = (hashtext($1)::bigint + 4294967296) % 4294967296
    AND objsubid = 2
) AS open`;

/** Serialises setups of one outbox across agents and the CLI (concurrent CREATE … IF NOT EXISTS can fail). */
export const setupLockSql = `SELECT pg_advisory_xact_lock(hashtext('vigil_outbox'), hashtext($1))`;

export const claimSql = (p: OutboxPlace) => `
SELECT id, name, COALESCE(at, clock_timestamp()) AS at, labels, value, ok, data
FROM ${table(p)}
WHERE done_at IS NULL
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED`;

export const markDoneSql = (p: OutboxPlace) =>
  `UPDATE ${table(p)} SET done_at = clock_timestamp() WHERE id = ANY($1::bigint[])`;

/** Deletes at most $2 rows done more than $1 ms ago; run again while it deletes that many. */
export const pruneSql = (p: OutboxPlace) => `
DELETE FROM ${table(p)} WHERE id IN (
  SELECT id FROM ${table(p)}
  WHERE done_at < clock_timestamp() - make_interval(secs => $1::double precision / 1000)
  LIMIT $2
)`;

/** Creates the outbox if missing, under the advisory lock, in one transaction. */
export async function ensureOutbox(pool: Pool, p: OutboxPlace): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query(setupLockSql, [p.schema]);
    await client.query(outboxSetupSql(p));
  });
}
