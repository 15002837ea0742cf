import type pg from 'pg';
import { owedToTold } from './owed.js';
import type { MatchSubject } from './silence-matchers.js';

/** Something that silences incidents: a silence ("3") or a maintenance window ("maintenance:nightly"). */
export interface Holder {
  heldBy: string;
  /** For the audit trail: "silenced by #3: deploy (alice)". */
  note: string;
  /** Who the audit row credits: the silence's author, or the window. */
  actor: string;
  matches(s: MatchSubject): boolean;
}

interface CandidateRow {
  id: string;
  rule_id: string;
  severity: string;
  category: string;
  labels: Record<string, string>;
  held_by: string | null;
}

export const subjectOf = (r: Omit<CandidateRow, 'id' | 'held_by'>): MatchSubject => ({
  ruleId: r.rule_id,
  severity: r.severity,
  category: r.category,
  labels: r.labels,
});

/** Open incidents, unheld or held by a silence: what holding and releasing look at. */
export async function openCandidates(pool: pg.Pool, held: 'none' | 'silenced'): Promise<CandidateRow[]> {
  const { rows } = await pool.query<CandidateRow>(
    `SELECT id, rule_id, severity, category, labels, held_by FROM vigil_incidents
     WHERE state <> 'resolved' AND ${held === 'none' ? 'held IS NULL' : "held = 'silenced'"}`,
  );
  return rows;
}

/**
 * Holds the open, unheld incidents these holders match (the first matching holder is credited):
 * escalation stops, an audit row 'silenced', and one 'silenced' notice owed to every target already
 * told it fired (no lease: the sweeper queues them). Matching is in TypeScript (JavaScript regexes,
 * as everywhere); the statement re-checks `held IS NULL AND state <> 'resolved'` on each row after
 * any concurrent writer committed, so racing callers hold an incident once and a resolved one never.
 * Returns the ids held.
 */
export async function holdMatching(pool: pg.Pool, holders: readonly Holder[]): Promise<string[]> {
  if (holders.length === 0) return [];
  const picked = (await openCandidates(pool, 'none')).flatMap((r) => {
    const h = holders.find((x) => x.matches(subjectOf(r)));
    return h ? [{ id: r.id, h }] : [];
  });
  if (picked.length === 0) return [];
  const { rows } = await pool.query<{ id: string }>(
    `WITH req AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS r(id, held_by, actor, note)),
     upd AS (
       UPDATE vigil_incidents i SET held = 'silenced', held_by = req.held_by, escalate_at = NULL,
         seq = i.seq + 1, updated_at = now()
       FROM req WHERE i.id = req.id AND i.state <> 'resolved' AND i.held IS NULL
       RETURNING i.id, i.seq, i.state, req.actor, req.note),
     tr AS (
       INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
       SELECT id, seq, state, state, 'silenced', actor, note FROM upd),
     t AS (SELECT id, seq, 'silenced'::text AS kind FROM upd),
     ${owedToTold('NULL', '0')}
     SELECT id FROM upd ORDER BY id`,
    [
      picked.map((p) => p.id),
      picked.map((p) => p.h.heldBy),
      picked.map((p) => p.h.actor),
      picked.map((p) => p.h.note),
    ],
  );
  return rows.map((r) => r.id);
}

/** A release: the incident, the holder it had (the guard), and why it ends. */
export interface Release {
  id: string;
  heldBy: string;
  note: string;
}

/**
 * Releases incidents from holds that ended: held NULL, an audit row 'released', escalation from now
 * if still firing, and one 'released' notice owed to those already told — or, if nobody was, to the
 * incident's targets (`targets`: name → channel). Guarded on the holder it had, so once.
 */
export async function release(
  pool: pg.Pool,
  releases: readonly Release[],
  actor: string,
  targets: ReadonlyMap<string, string>,
): Promise<string[]> {
  if (releases.length === 0) return [];
  const { rows } = await pool.query<{ id: string }>(
    `WITH req AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) AS r(id, held_by, note)),
     tm AS (SELECT * FROM unnest($5::text[], $6::text[]) AS tm(name, channel)),
     upd AS (
       UPDATE vigil_incidents i SET held = NULL, held_by = NULL, seq = i.seq + 1, updated_at = now(),
         escalate_at = CASE WHEN i.state = 'firing' THEN now() + i.ack_sla_ms * interval '1 millisecond' END
       FROM req WHERE i.id = req.id AND i.state <> 'resolved' AND i.held = 'silenced' AND i.held_by = req.held_by
       RETURNING i.id, i.seq, i.state, i.targets, req.note),
     tr AS (
       INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
       SELECT id, seq, state, state, 'released', $4, note FROM upd),
     told AS (
       SELECT DISTINCT d.incident_id, d.channel, d.target FROM vigil_deliveries d
       JOIN upd ON upd.id = d.incident_id WHERE d.fallback_from IS NULL),
     fresh AS (
       SELECT upd.id AS incident_id, tm.channel, tm.name AS target
       FROM upd CROSS JOIN LATERAL unnest(upd.targets) AS t(name) JOIN tm ON tm.name = t.name
       WHERE NOT EXISTS (SELECT 1 FROM told WHERE told.incident_id = upd.id)),
     dl AS (
       INSERT INTO vigil_deliveries (incident_id, channel, target, seq, kind, state, next_at)
       SELECT x.incident_id, x.channel, x.target, upd.seq, 'released', 'owed', now()
       FROM (SELECT * FROM told UNION SELECT * FROM fresh) x JOIN upd ON upd.id = x.incident_id)
     SELECT id FROM upd ORDER BY id`,
    [
      releases.map((r) => r.id),
      releases.map((r) => r.heldBy),
      releases.map((r) => r.note),
      actor,
      [...targets.keys()],
      [...targets.values()],
    ],
  );
  return rows.map((r) => r.id);
}

/** Credits another holder still in force with an incident whose own holder ended: no notice. */
export async function reassign(pool: pg.Pool, id: string, from: string, to: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE vigil_incidents SET held_by = $3, updated_at = now()
     WHERE id = $1 AND held = 'silenced' AND held_by = $2 AND state <> 'resolved'`,
    [id, from, to],
  );
  return rowCount === 1;
}
