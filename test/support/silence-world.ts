import { randomBytes } from 'node:crypto';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { DATABASE_URL } from './env.js';

export interface IncidentSeed {
  ruleId?: string;
  severity?: string;
  category?: string;
  labels?: Record<string, string>;
  state?: 'firing' | 'acknowledged' | 'resolved';
  held?: 'silenced' | 'inhibited' | null;
  heldBy?: string | null;
  targets?: string[];
  /** (channel, target) pairs already told it fired: sent 'opened' rows. */
  told?: Array<[string, string]>;
}

/** A migrated schema of its own (no Redis, no stand-ins): for the silences' SQL. */
export interface SilenceWorld {
  schema: string;
  pool: Pool;
  incident(seed?: IncidentSeed): Promise<string>;
  cleanup(): Promise<void>;
}

export async function silenceWorld(): Promise<SilenceWorld> {
  const id = randomBytes(4).toString('hex');
  const schema = `t_${id}`;
  const pool = createPool({ url: DATABASE_URL, schema, poolSize: 4 }, `vigil test-${id}-silences`);
  await migrate(pool, schema);
  let n = 0;
  return {
    schema,
    pool,
    async incident(s = {}) {
      n += 1;
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO vigil_incidents (fingerprint, rule_id, title, category, severity, labels, state, summary,
           started_at, ack_sla_ms, escalate_at, resolved_at, held, held_by, targets)
         VALUES ($1, $2, 'title', $3, $4, $5, $6, '', now(), 300000,
           CASE WHEN $6 = 'firing' THEN now() + interval '5 minutes' END,
           CASE WHEN $6 = 'resolved' THEN now() END, $7, $8, $9) RETURNING id`,
        [
          `fp-${n}`,
          s.ruleId ?? 'api-health',
          s.category ?? 'availability',
          s.severity ?? 'critical',
          JSON.stringify(s.labels ?? {}),
          s.state ?? 'firing',
          s.held ?? null,
          s.heldBy ?? null,
          s.targets ?? [],
        ],
      );
      const incidentId = rows[0]!.id;
      for (const [channel, target] of s.told ?? [])
        await pool.query(
          `INSERT INTO vigil_deliveries (incident_id, channel, target, seq, kind, state, external_id)
           VALUES ($1, $2, $3, 1, 'opened', 'sent', 'x')`,
          [incidentId, channel, target],
        );
      return incidentId;
    },
    async cleanup() {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    },
  };
}
