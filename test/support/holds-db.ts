import { migrate } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { createLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { loadRules } from '../../src/rules/loader.js';
import type { Rule } from '../../src/rules/schema.js';
import { createTestEnv, DATABASE_URL, type TestEnv } from './env.js';

/** A migrated schema of its own, a pool on it, and what the hold judges and releases need. */
export interface HoldsDb {
  env: TestEnv;
  pool: Pool;
  /** A second pool: a second agent racing the first. */
  other: Pool;
  metrics: Metrics;
  log: ReturnType<typeof createLogger>;
  /** The shipped api-health rule under another id, with these fields changed. */
  rule(id: string, fields?: Partial<Rule>): Rule;
  insert(i: IncidentFixture): Promise<string>;
  close(): Promise<void>;
}

export interface IncidentFixture {
  ruleId: string;
  fingerprint?: string;
  labels?: Record<string, string>;
  state?: 'firing' | 'acknowledged' | 'resolved';
  startedAt?: Date;
  resolvedAt?: Date | null;
  held?: 'silenced' | 'inhibited' | 'flapping' | null;
  heldBy?: string | null;
  targets?: string[];
  ackSlaMs?: number;
}

export async function holdsDb(): Promise<HoldsDb> {
  const env = await createTestEnv();
  const pool = createPool({ url: DATABASE_URL, schema: env.schema, poolSize: 4 }, `vigil test-${env.id}-a`);
  const other = createPool({ url: DATABASE_URL, schema: env.schema, poolSize: 4 }, `vigil test-${env.id}-b`);
  await migrate(pool, env.schema);
  const base = loadRules('rules', { HELIX_API_URL: env.helix.url }).rules.find((r) => r.id === 'api-health')!;
  return {
    env,
    pool,
    other,
    metrics: new Metrics(),
    log: createLogger({ level: 'silent' }),
    rule: (id, fields = {}) => ({ ...base, id, ...fields }),
    async insert(i) {
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO vigil_incidents (fingerprint, rule_id, title, category, severity, labels, state,
           summary, started_at, resolved_at, ack_sla_ms, held, held_by, targets, escalate_at)
         VALUES ($1, $2, $2, 'availability', 'critical', $3, $4, '', $5, $6, $7, $8, $9, $10, NULL)
         RETURNING id`,
        [
          i.fingerprint ?? `${i.ruleId}${JSON.stringify(i.labels ?? {})}`,
          i.ruleId,
          JSON.stringify(i.labels ?? {}),
          i.state ?? 'firing',
          i.startedAt ?? new Date(),
          i.resolvedAt ?? null,
          i.ackSlaMs ?? 600_000,
          i.held ?? null,
          i.heldBy ?? null,
          i.targets ?? [],
        ],
      );
      return rows[0]!.id;
    },
    async close() {
      await Promise.all([pool.end(), other.end()]);
      await env.cleanup();
    },
  };
}

export const ago = (ms: number) => new Date(Date.now() - ms);
