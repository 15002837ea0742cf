import type pg from 'pg';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { TargetBook } from '../notify/targets.js';
import type { Rule } from '../rules/schema.js';

/** Which channel carries each target name. */
export type TargetNames = Pick<TargetBook, 'names' | 'channelOf'>;

export interface ReleaseDeps {
  pool: pg.Pool;
  agentId: string;
  targets: TargetNames;
  /** The rules running now: a released incident still inhibited by another open incident stays held. */
  rules: () => readonly Rule[];
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
 * Lets go of incidents inhibited by an incident that is now resolved (or gone): they were recorded
 * and told to nobody; now their targets hear of them once ('released') and their escalation starts
 * from now. One statement that skips rows another agent holds, so a release happens once.
 */
export class InhibitionRelease {
  constructor(private readonly d: ReleaseDeps) {}

  async tick(limit = 200): Promise<Released[]> {
    const inhibitions = this.d
      .rules()
      .flatMap((r) => r.inhibitedBy.map((i) => ({ rule_id: r.id, by_rule: i.rule, equal: i.equal })));
    const names = this.d.targets.names();
    const { rows } = await this.d.pool.query<Released & { rule_id: string; kept: boolean }>(
      `WITH due AS (
         SELECT i.id, i.rule_id, i.labels, CASE WHEN s.id IS NULL THEN 'inhibiting incident #' || i.held_by || ' is gone'
           ELSE s.rule_id || ' #' || s.id || ' resolved' END AS note
         FROM vigil_incidents i
         LEFT JOIN vigil_incidents s
           ON s.id = CASE WHEN i.held_by ~ '^[0-9]{1,18}$' THEN i.held_by::bigint END
         WHERE i.held = 'inhibited' AND i.state <> 'resolved' AND (s.id IS NULL OR s.state = 'resolved')
         ORDER BY i.id LIMIT $2 FOR UPDATE OF i SKIP LOCKED),
       ib AS (SELECT * FROM jsonb_to_recordset($5::jsonb) AS ib(rule_id text, by_rule text, equal jsonb)),
       -- Another open incident that inhibits it as the judge would (oldest first): it stays held.
       still AS (
         SELECT DISTINCT ON (due.id) due.id, s.id AS by_id, s.rule_id AS by_rule
         FROM due JOIN ib ON ib.rule_id = due.rule_id
         JOIN vigil_incidents s ON s.rule_id = ib.by_rule AND s.state <> 'resolved' AND s.id <> due.id
         WHERE NOT EXISTS (
           SELECT 1 FROM jsonb_array_elements_text(ib.equal) AS l(name)
           WHERE coalesce(s.labels ->> l.name, '') <> coalesce(due.labels ->> l.name, ''))
         ORDER BY due.id, s.started_at, s.id),
       upd AS (
         UPDATE vigil_incidents i SET seq = i.seq + 1, updated_at = now(),
           held = CASE WHEN still.id IS NULL THEN NULL ELSE 'inhibited' END, held_by = still.by_id::text,
           -- Nobody was told, so nobody could acknowledge in time: the ack SLA starts now.
           escalate_at = CASE WHEN still.id IS NULL AND i.state = 'firing'
             THEN now() + i.ack_sla_ms * interval '1 ms' END
         FROM due LEFT JOIN still ON still.id = due.id WHERE i.id = due.id
         RETURNING i.id, i.seq, i.rule_id, i.targets, i.state, still.id IS NOT NULL AS kept,
           due.note || coalesce('; still inhibited by #' || still.by_id || ' (' || still.by_rule || ')', '') AS note),
       tr AS (
         INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor, note)
         SELECT id, seq, state, state, CASE WHEN kept THEN 'inhibited' ELSE 'released' END, $1, note FROM upd),
       rel AS (SELECT * FROM upd WHERE NOT kept),
       dest AS (SELECT * FROM unnest($3::text[], $4::text[]) AS d(name, channel)),
       owed AS (
         SELECT rel.id, rel.seq, dest.channel, dest.name AS target, rel.note
         FROM rel CROSS JOIN LATERAL unnest(rel.targets) AS t(name) JOIN dest ON dest.name = t.name),
       -- No lease: the sweeper running this queues them in the same pass.
       dl AS (
         INSERT INTO vigil_deliveries (incident_id, channel, target, seq, kind, state, next_at, note)
         SELECT id, channel, target, seq, 'released', 'owed', now(), note FROM owed
         ON CONFLICT DO NOTHING)
       SELECT id, rule_id AS "ruleId", note, kept FROM upd ORDER BY id`,
      [
        this.d.agentId,
        limit,
        names,
        names.map((n) => this.d.targets.channelOf(n)),
        JSON.stringify(inhibitions),
      ],
    );
    const released = rows.filter((r) => !r.kept);
    if (released.length)
      this.d.metrics.inc('vigil_holds_released_total', { hold: 'inhibited' }, released.length);
    for (const [kept, list] of [
      [false, released],
      [true, rows.filter((r) => r.kept)],
    ] as const)
      if (list.length)
        this.d.log.info(
          { incidents: list.map((r) => r.id), why: [...new Set(list.map((r) => r.note))] },
          kept
            ? 'inhibiting incidents resolved, but others still inhibit these: held'
            : 'inhibited incidents released: their targets are told now',
        );
    return released.map((r) => ({ id: r.id, ruleId: r.ruleId, note: r.note }));
  }
}
