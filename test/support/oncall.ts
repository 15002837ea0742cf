import type { TestEnv } from './env.js';

export interface IncidentSeed {
  ruleId?: string;
  title?: string;
  severity?: string;
  state?: 'firing' | 'acknowledged' | 'resolved';
  startedAt?: Date;
}

/**
 * A firing incident written as the engine writes one (migrations 001 + 004 columns, and its
 * `opened` audit row), for tests about what people do with incidents rather than how they open.
 */
export async function insertIncident(env: TestEnv, seed: IncidentSeed = {}): Promise<string> {
  const ruleId = seed.ruleId ?? 'api-health';
  const startedAt = seed.startedAt ?? new Date(Date.now() - 65_000);
  const { rows } = await env.db.query<{ id: string }>(
    `INSERT INTO ${env.schema}.vigil_incidents (fingerprint, rule_id, title, category, severity, labels, state,
       value, summary, started_at, ack_sla_ms, seq, targets)
     VALUES ($1, $2, $3, 'availability', $4, $5, $6, 3, '3 consecutive failures of /api/v1/health', $7,
       300000, 1, '{}')
     RETURNING id`,
    [
      `${ruleId}|${Math.random()}`,
      ruleId,
      seed.title ?? 'HELIX API health check failing',
      seed.severity ?? 'critical',
      { service: 'helix-api' },
      seed.state ?? 'firing',
      startedAt,
    ],
  );
  const id = (rows[0] as { id: string }).id;
  await env.db.query(
    `INSERT INTO ${env.schema}.vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, value, at)
     VALUES ($1, 1, NULL, 'firing', 'opened', 'test-agent', 3, $2)`,
    [id, startedAt],
  );
  return id;
}

/** The audit rows of an incident, oldest first. */
export async function auditRows(
  env: TestEnv,
  id: string,
): Promise<{ kind: string; to_state: string; actor: string; note: string }[]> {
  const { rows } = await env.db.query<{ kind: string; to_state: string; actor: string; note: string }>(
    `SELECT kind, to_state, actor, note FROM ${env.schema}.vigil_incident_transitions
     WHERE incident_id = $1 ORDER BY seq`,
    [id],
  );
  return rows;
}

export async function stateOf(env: TestEnv, id: string): Promise<string | undefined> {
  const { rows } = await env.db.query<{ state: string }>(
    `SELECT state FROM ${env.schema}.vigil_incidents WHERE id = $1`,
    [id],
  );
  return rows[0]?.state;
}

/** A delivery row as the workers leave it: sent, still owed (with its last error), or abandoned. */
export async function insertDelivery(
  env: TestEnv,
  id: string,
  d: { seq: number; kind: string; channel: string; target?: string; state: string; error?: string },
): Promise<void> {
  await env.db.query(
    `INSERT INTO ${env.schema}.vigil_deliveries (incident_id, channel, target, seq, kind, state, external_id,
       delivered_at, attempts, last_error)
     VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6 = 'sent' THEN 'ext-1' END, CASE WHEN $6 = 'sent' THEN now() END,
       CASE WHEN $6 = 'sent' THEN 1 ELSE 3 END, $7)`,
    [id, d.channel, d.target ?? '', d.seq, d.kind, d.state, d.error ?? null],
  );
}
