import type pg from 'pg';
import { formatDuration } from '../config/duration.js';
import type { HoldJudge, HoldVerdict, OpeningIncident } from './holds.js';

/** vigil.yaml `oncall.flapping`, in milliseconds. */
export interface FlappingConfig {
  /** More state changes than this within `window` is flapping; 0 turns detection off. */
  changes: number;
  window: number;
  stableFor: number;
}

interface JudgedRow {
  fingerprint: string;
  changes: number;
  lead: boolean;
  flapping: boolean;
}

/**
 * A series that opens and resolves more than `changes` times within `window` is flapping: the
 * opening that crosses the line is held with one "flapping" notice to its targets, later openings
 * are held silently until FlappingRelease finds the series stable. Changes are counted from the
 * series' incidents (each opening and each resolution), and not before its last "stable" notice:
 * a series just found stable starts counting afresh instead of flapping again at its next change.
 */
export class FlappingJudge implements HoldJudge {
  readonly name = 'flapping';

  constructor(
    private readonly pool: pg.Pool,
    private readonly cfg: FlappingConfig,
  ) {}

  async judge(openings: readonly OpeningIncident[]): Promise<(HoldVerdict | undefined)[]> {
    if (this.cfg.changes === 0 || openings.length === 0) return openings.map(() => undefined);
    // Only the latest `changes` + 1 incidents can hold more than `changes` changes: a bounded read
    // however long the series' history. The row insert decides the lead when agents race.
    const { rows } = await this.pool.query<JudgedRow>(
      `WITH req AS (
         SELECT DISTINCT ON (fingerprint) * FROM unnest($1::text[], $2::timestamptz[]) AS r(fingerprint, at)
         ORDER BY fingerprint, at),
       recent AS (
         SELECT req.fingerprint, i.id, i.started_at, i.resolved_at FROM req CROSS JOIN LATERAL (
           SELECT id, started_at, resolved_at FROM vigil_incidents
           WHERE fingerprint = req.fingerprint AND started_at < req.at
           ORDER BY started_at DESC LIMIT $4 + 1) i),
       calm AS (
         SELECT r.fingerprint, max(t.at) AS at FROM recent r
         JOIN vigil_incident_transitions t ON t.incident_id = r.id AND t.kind = 'stable'
         GROUP BY r.fingerprint),
       cnt AS (
         SELECT req.fingerprint, req.at, 1 + (
           SELECT count(*) FILTER (WHERE r.started_at > s.since)
             + count(*) FILTER (WHERE r.resolved_at > s.since AND r.resolved_at <= req.at)
           FROM recent r WHERE r.fingerprint = req.fingerprint)::int AS changes
         FROM req LEFT JOIN calm ON calm.fingerprint = req.fingerprint
         CROSS JOIN LATERAL (SELECT greatest(req.at - $3 * interval '1 ms', calm.at) AS since) s),
       ins AS (
         INSERT INTO vigil_flapping (fingerprint, since, last_change)
         SELECT fingerprint, at, at FROM cnt WHERE changes > $4
         ON CONFLICT DO NOTHING RETURNING fingerprint),
       upd AS (
         UPDATE vigil_flapping f SET last_change = greatest(f.last_change, req.at)
         FROM req WHERE f.fingerprint = req.fingerprint RETURNING f.fingerprint)
       -- The same opening judged again (its open failed and is retried) is still the lead.
       SELECT cnt.fingerprint, cnt.changes,
         (ins.fingerprint IS NOT NULL OR EXISTS (
           SELECT 1 FROM vigil_flapping f WHERE f.fingerprint = cnt.fingerprint AND f.since = cnt.at)) AS lead,
         (upd.fingerprint IS NOT NULL OR cnt.changes > $4) AS flapping
       FROM cnt LEFT JOIN ins ON ins.fingerprint = cnt.fingerprint
       LEFT JOIN upd ON upd.fingerprint = cnt.fingerprint`,
      [
        openings.map((o) => o.fingerprint),
        openings.map((o) => o.startedAt),
        this.cfg.window,
        this.cfg.changes,
      ],
    );
    const byFingerprint = new Map(rows.map((r) => [r.fingerprint, r]));
    const window = formatDuration(this.cfg.window);
    const stable = formatDuration(this.cfg.stableFor);
    return openings.map((o): HoldVerdict | undefined => {
      const r = byFingerprint.get(o.fingerprint);
      if (!r?.flapping) return undefined;
      const note = `flapping: changed state ${r.changes} times in ${window}`;
      return r.lead
        ? { held: 'flapping', heldBy: o.fingerprint, note, notify: 'flapping' }
        : {
            held: 'flapping',
            heldBy: o.fingerprint,
            note: `${note}; held until stable for ${stable}`,
          };
    });
  }
}
