import type pg from 'pg';
import type { HoldJudge, HoldVerdict, OpeningIncident } from './holds.js';

interface SourceRow {
  id: string;
  rule_id: string;
  labels: Record<string, string>;
}

/**
 * Alertmanager's sense of `equal`: a label both lack agrees (empty on both sides), so
 * `equal: [host]` between two unlabelled incidents inhibits, as it would there.
 */
const agrees = (a: Record<string, string>, b: Record<string, string>, equal: readonly string[]) =>
  equal.every((l) => (a[l] ?? '') === (b[l] ?? ''));

/**
 * A rule's `inhibitedBy`: while an incident of an inhibiting rule is open (acknowledged included)
 * and agrees on the `equal` labels, the dependant's incident is recorded but sent to nobody. Its
 * resolution is not hidden: it reaches whoever was told, which for an incident held from the start
 * is nobody. InhibitionRelease tells the targets once the source is resolved.
 */
export class InhibitionJudge implements HoldJudge {
  readonly name = 'inhibition';

  constructor(private readonly pool: pg.Pool) {}

  async judge(openings: readonly OpeningIncident[]): Promise<(HoldVerdict | undefined)[]> {
    const rules = [...new Set(openings.flatMap((o) => o.rule.inhibitedBy.map((i) => i.rule)))];
    if (rules.length === 0) return openings.map(() => undefined);
    // Oldest first: the incident that started the outage is the one named.
    const { rows } = await this.pool.query<SourceRow>(
      `SELECT id, rule_id, labels FROM vigil_incidents
       WHERE state <> 'resolved' AND rule_id = ANY($1::text[]) ORDER BY started_at, id`,
      [rules],
    );
    return openings.map((o) => {
      for (const by of o.rule.inhibitedBy) {
        const source = rows.find((r) => r.rule_id === by.rule && agrees(r.labels, o.labels, by.equal));
        if (source)
          return {
            held: 'inhibited',
            heldBy: source.id,
            note: `inhibited by #${source.id} (${source.rule_id})`,
          };
      }
      return undefined;
    });
  }
}
