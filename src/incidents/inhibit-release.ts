import type pg from 'pg';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { TargetDestinations } from './target-destinations.js';
import type { Routing } from './transitions.js';

export interface ReleaseDeps {
  pool: pg.Pool;
  agentId: string;
  destinations: TargetDestinations;
  /** For incidents opened before targets existed (none recorded): their rule's channels. */
  routing: Routing;
  metrics: Metrics;
  log: Logger;
}

/** Something a hold let go of, for the log. */
export interface Released {
  id: string;
  ruleId: string;
  note: string;
}

/**
 * Owed rows, one per target of each incident in CTE `rel` (id, seq, rule_id, targets), of the kind
 * and note given. No lease: the sweeper that runs this queues them in the same pass. Shared by the
 * hold releases; an incident with no targets recorded is owed to its rule's channels ('' target).
 */
export const owedToTargets = (kind: string, note: string) => `
  dest AS (SELECT * FROM unnest($3::text[], $4::text[]) AS d(name, channel)),
  rc AS (SELECT * FROM unnest($5::text[], $6::text[]) AS rc(rule_id, channels)),
  owed AS (
    SELECT rel.id, rel.seq, dest.channel, dest.name AS target, ${note} AS note
    FROM rel CROSS JOIN LATERAL unnest(rel.targets) AS t(name) JOIN dest ON dest.name = t.name
    UNION
    SELECT rel.id, rel.seq, c.channel, '', ${note}
    FROM rel LEFT JOIN rc ON rc.rule_id = rel.rule_id
    CROSS JOIN LATERAL unnest(string_to_array(coalesce(rc.channels, $7), ',')) AS c(channel)
    WHERE cardinality(rel.targets) = 0),
  dl AS (
    INSERT INTO vigil_deliveries (incident_id, channel, target, seq, kind, state, next_at, note)
    SELECT id, channel, target, seq, '${kind}', 'owed', now(), note FROM owed
    ON CONFLICT DO NOTHING)`;

/** $3–$7 of owedToTargets. */
export const owedArgs = (d: Pick<ReleaseDeps, 'destinations' | 'routing'>) => {
  const ids = [...d.routing.byRule.keys()];
  return [
    d.destinations.names,
    d.destinations.channels,
    ids,
    ids.map((id) => (d.routing.byRule.get(id) ?? []).join(',')),
    d.routing.fallback.join(','),
  ];
};

/**
 * Lets go of incidents inhibited by an incident that is now resolved (or gone): they were recorded
 * and told to nobody; now their targets hear of them once ('released') and their escalation starts
 * from now. One statement that skips rows another agent holds, so a release happens once.
 */
export class InhibitionRelease {
  constructor(private readonly d: ReleaseDeps) {}

  async tick(limit = 200): Promise<Released[]> {
    const { rows } = await this.d.pool.query<{ id: string; rule_id: string; note: string }>(
      `WITH due AS (
         SELECT i.id, CASE WHEN s.id IS NULL THEN 'inhibiting incident #' || i.held_by || ' is gone'
           ELSE s.rule_id || ' #' || s.id || ' resolved' END AS note
         FROM vigil_incidents i
         LEFT JOIN vigil_incidents s
           ON s.id = CASE WHEN i.held_by ~ '^[0-9]{1,18}$' THEN i.held_by::bigint END
         WHERE i.held = 'inhibited' AND i.state <> 'resolved' AND (s.id IS NULL OR s.state = 'resolved')
         ORDER BY i.id LIMIT $2 FOR UPDATE OF i SKIP LOCKED),
       rel AS (
         UPDATE vigil_incidents i SET held = NULL, held_by = NULL, seq = i.seq + 1, updated_at = now(),
           -- Nobody was told, so nobody could acknowledge in time: the ack SLA starts now.
           escalate_at = CASE WHEN i.state = 'firing' THEN now() + i.ack_sla_ms * interval '1 ms' END
         FROM due WHERE i.id = due.id RETURNING i.id, i.seq, i.rule_id, i.targets, i.state, due.note),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
         SELECT id, seq, state, state, 'released', $1, note FROM rel),
       ${owedToTargets('released', 'rel.note')}
       SELECT id, rule_id, note FROM rel ORDER BY id`,
      [this.d.agentId, limit, ...owedArgs(this.d)],
    );
    if (rows.length) {
      this.d.metrics.inc('vigil_holds_released_total', { hold: 'inhibited' }, rows.length);
      this.d.log.info(
        { incidents: rows.map((r) => r.id), why: [...new Set(rows.map((r) => r.note))] },
        'inhibited incidents released: their targets are told now',
      );
    }
    return rows.map((r) => ({ id: r.id, ruleId: r.rule_id, note: r.note }));
  }
}
