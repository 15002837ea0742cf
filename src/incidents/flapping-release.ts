import type pg from 'pg';
import { formatDuration } from '../config/duration.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Released } from './inhibit-release.js';

export interface FlappingReleaseDeps {
  pool: pg.Pool;
  agentId: string;
  stableForMs: number;
  metrics: Metrics;
  log: Logger;
}

/**
 * Ends a flapping episode once its series has not changed for `stableFor`: the row goes, the
 * series' latest incident gets a "stable" transition, and whoever got the flapping notice gets one
 * "stable" notice saying whether it is still firing or resolved. A latest incident still open and
 * held as flapping is let go (its escalation starts now). One statement that skips rows another
 * agent holds, so each episode ends once.
 */
export class FlappingRelease {
  constructor(private readonly d: FlappingReleaseDeps) {}

  async tick(limit = 100): Promise<Released[]> {
    const { rows } = await this.d.pool.query<{ id: string; rule_id: string; note: string }>(
      `WITH cand AS (
         -- The notice's incident: recorded by whoever opened it, else the one that opened at 'since'.
         SELECT f.fingerprint, coalesce(f.incident_id,
           (SELECT id FROM vigil_incidents WHERE fingerprint = f.fingerprint AND started_at = f.since)) AS lead_id
         FROM vigil_flapping f
         WHERE greatest(f.last_change,
           (SELECT greatest(started_at, resolved_at) FROM vigil_incidents
            WHERE fingerprint = f.fingerprint ORDER BY started_at DESC LIMIT 1))
           < now() - $2 * interval '1 ms'
         ORDER BY f.fingerprint LIMIT $3 FOR UPDATE OF f SKIP LOCKED),
       del AS (DELETE FROM vigil_flapping f USING cand WHERE f.fingerprint = cand.fingerprint),
       latest AS (
         SELECT DISTINCT ON (i.fingerprint) i.id, cand.lead_id
         FROM cand JOIN vigil_incidents i ON i.fingerprint = cand.fingerprint
         ORDER BY i.fingerprint, i.started_at DESC),
       rel AS (
         UPDATE vigil_incidents i SET seq = i.seq + 1, updated_at = now(),
           held = CASE WHEN i.held = 'flapping' AND i.state <> 'resolved' THEN NULL ELSE i.held END,
           held_by = CASE WHEN i.held = 'flapping' AND i.state <> 'resolved' THEN NULL ELSE i.held_by END,
           escalate_at = CASE WHEN i.held = 'flapping' AND i.state = 'firing'
             THEN now() + i.ack_sla_ms * interval '1 ms' ELSE i.escalate_at END
         FROM latest WHERE i.id = latest.id
         RETURNING i.id, i.seq, i.rule_id, i.state, latest.lead_id,
           'stable for ' || $4 || ' after flapping' ||
           CASE WHEN latest.lead_id IS DISTINCT FROM i.id THEN ' (notice on #' || latest.lead_id || ')' ELSE '' END ||
           CASE WHEN i.state = 'resolved' THEN ': resolved' ELSE ': still firing' END AS note),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
         SELECT id, seq, state, state, 'stable', $1, note FROM rel),
       told AS (
         SELECT DISTINCT rel.id, rel.seq, rel.note, d.channel, d.target FROM rel
         JOIN vigil_deliveries d ON d.incident_id = rel.lead_id AND d.kind = 'flapping' AND d.fallback_from IS NULL),
       dl AS (
         INSERT INTO vigil_deliveries (incident_id, channel, target, seq, kind, state, next_at, note)
         SELECT id, channel, target, seq, 'stable', 'owed', now(), note FROM told ON CONFLICT DO NOTHING)
       SELECT id, rule_id, note FROM rel ORDER BY id`,
      [this.d.agentId, this.d.stableForMs, limit, formatDuration(this.d.stableForMs)],
    );
    if (rows.length) {
      this.d.metrics.inc('vigil_holds_released_total', { hold: 'flapping' }, rows.length);
      this.d.log.info(
        { incidents: rows.map((r) => r.id), notes: rows.map((r) => r.note) },
        'flapping series stable again: one notice each to those told they were flapping',
      );
    }
    return rows.map((r) => ({ id: r.id, ruleId: r.rule_id, note: r.note }));
  }
}
