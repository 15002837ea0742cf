import { z } from 'zod';
import { duration } from '../../config/duration.js';
import { integer } from '../../config/fields.js';

const pgUrl = z
  .string()
  .refine((v) => URL.canParse(v) && ['postgres:', 'postgresql:'].includes(new URL(v).protocol), {
    message: 'must be a postgres:// or postgresql:// URL',
  });
/** Names that end up as quoted identifiers or channel names: kept plain so they read the same everywhere. */
const sqlName = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier');
const positive = duration.refine((ms) => ms > 0, 'must be more than 0');

/**
 * `pg-outbox`: rows raised with `vigil_raise(…)` in a watched database, claimed with SKIP LOCKED by
 * whichever agent is free. `url` and `schema` default to Vigil's own database and schema.
 */
export const pgOutboxSourceSchema = z
  .object({
    kind: z.literal('pg-outbox'),
    name: z.string().min(1).default('pg-outbox'),
    url: pgUrl.optional(),
    schema: sqlName.optional(),
    /** NOTIFY channel that wakes the drain; the notification carries nothing. */
    channel: sqlName.default('vigil_outbox'),
    /** Rows claimed per transaction. */
    batchSize: integer(1, 10_000).default(1000),
    /** A drain runs this often even without a notification (one missed while reconnecting, say). */
    safetyEvery: positive.default(30_000),
    /** Rows done longer than this are deleted. */
    retention: duration.default(86_400_000),
  })
  .strict();

/**
 * `pg-notify`: plain NOTIFY channels whose payload is one JSON event. Best effort: what is sent
 * while the listener is disconnected is lost (PostgreSQL keeps nothing for a listener that is away).
 */
export const pgNotifySourceSchema = z
  .object({
    kind: z.literal('pg-notify'),
    name: z.string().min(1).default('pg-notify'),
    url: pgUrl.optional(),
    channels: z.array(sqlName).min(1),
    /** Larger payloads are refused (PostgreSQL's own limit is 8000 bytes). */
    maxPayloadBytes: integer(1, 8000).default(8000),
  })
  .strict();

export type PgOutboxSourceSpec = z.output<typeof pgOutboxSourceSchema>;
export type PgNotifySourceSpec = z.output<typeof pgNotifySourceSchema>;
