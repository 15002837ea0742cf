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
 * (and reconnect), runs once more `TRAILING_DRAIN_MS` later, which covers every row whose commit came
 * within that window of the notification that stood for it.
 */
export const NOTIFY_EVERY_MS = 100;
export const TRAILING_DRAIN_MS = 250;

/** The session setting holding when this session last notified this outbox's channel. */
const notifiedSetting = (p: OutboxPlace) => `vigil.notified_${p.channel}`;

const table = (p: OutboxPlace) => `${ident(p.schema)}.vigil_outbox`;
export const raiseFunction = (p: OutboxPlace) => `${ident(p.schema)}.vigil_raise`;
const wakeFunction = (p: OutboxPlace) => `${ident(p.schema)}.vigil_outbox_wake`;

/**
 * The outbox table and `vigil_raise`, created if missing (the function is replaced, so a new channel
 * takes effect). Columns have no constraints on purpose: a writer's transaction must never fail
 * because of what it raised; the drain checks each row and sets bad ones aside, counted and logged.
 * The pending index is partial, so rows done cost it nothing, nor writers the retention index.
 */
export function outboxSetupSql(p: OutboxPlace): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${ident(p.schema)};
CREATE TABLE IF NOT EXISTS ${table(p)} (
  id bigserial PRIMARY KEY,
  name text,
  at timestamptz DEFAULT clock_timestamp(),
  labels jsonb DEFAULT '{}',
  value double precision,
  ok boolean,
  data jsonb,
  done_at timestamptz
);
CREATE INDEX IF NOT EXISTS vigil_outbox_pending ON ${table(p)} (id) WHERE done_at IS NULL;
CREATE INDEX IF NOT EXISTS vigil_outbox_done ON ${table(p)} (done_at) WHERE done_at IS NOT NULL;
CREATE OR REPLACE FUNCTION ${raiseFunction(p)}(
  name text,
  labels jsonb DEFAULT '{}',
  ok boolean DEFAULT NULL,
  value double precision DEFAULT NULL,
  data jsonb DEFAULT NULL
) RETURNS bigint LANGUAGE sql
-- Writers (and their triggers) need no rights on the table: raising is what EXECUTE allows.
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $vigil$
  INSERT INTO ${table(p)} (name, labels, ok, value, data)
  VALUES (vigil_raise.name, COALESCE(vigil_raise.labels, '{}'), vigil_raise.ok, vigil_raise.value, vigil_raise.data)
  RETURNING id
$vigil$;
-- Only a wake-up: the row is the event. A commit that notifies holds a cluster-wide lock until its
-- WAL is flushed, so notifying commits go one at a time: a session wakes the drain at most once per
-- ${NOTIFY_EVERY_MS} ms, and the drain that follows each wake-up covers the rows in between. The
-- choice is made at commit (a deferred trigger), not when the row was raised: a long transaction
-- that raised just after a wake-up still wakes the drain when it commits, not the safety timer.
-- The setting is transactional: a rolled-back notification does not count.
CREATE OR REPLACE FUNCTION ${wakeFunction(p)}() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $vigil$
DECLARE
  notified text := current_setting(${literal(notifiedSetting(p))}, true);
  now_s double precision := extract(epoch FROM clock_timestamp());
BEGIN
  IF notified IS NULL OR notified = '' OR now_s - notified::double precision >= ${NOTIFY_EVERY_MS / 1000} THEN
    PERFORM pg_notify(${literal(p.channel)}, '');
    PERFORM set_config(${literal(notifiedSetting(p))}, now_s::text, false);
  END IF;
  RETURN NULL;
END
$vigil$;
-- Created only where missing: creating a trigger locks the table against writers, and every agent
-- runs this at start.
DO $vigil$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger
                 WHERE tgrelid = ${literal(`${ident(p.schema)}.vigil_outbox`)}::regclass
                   AND tgname = 'vigil_outbox_wake') THEN
    CREATE CONSTRAINT TRIGGER vigil_outbox_wake AFTER INSERT ON ${table(p)}
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${wakeFunction(p)}();
  END IF;
END $vigil$;`;
}

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
