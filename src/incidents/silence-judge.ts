import type pg from 'pg';
import type { HoldJudge, HoldVerdict, OpeningIncident } from './holds.js';
import {
  incidentMatches,
  windowActive,
  windowHolder,
  windowNote,
  type MaintenanceWindow,
} from './maintenance.js';
import type { Holder } from './silence-holds.js';
import { silenceHolder, Silences } from './silences.js';

export interface MaintenanceClock {
  windows: readonly MaintenanceWindow[];
  /** oncall.timeZone: the windows' days and times are on this clock. */
  timeZone: string;
  /** Tests pass a clock; windows are judged on it (silences on the database's). */
  now?: () => Date;
}

/**
 * What silences incidents right now: the silences in force (one query), oldest first, then the
 * maintenance windows open at this moment. The first that matches is credited.
 */
export async function activeHolders(pool: pg.Pool, m: MaintenanceClock): Promise<Holder[]> {
  const now = m.now?.() ?? new Date();
  const silences = (await new Silences(pool).active()).map(silenceHolder);
  const windows = m.windows
    .filter((w) => windowActive(w, m.timeZone, now))
    .map((w): Holder => ({
      heldBy: windowHolder(w.name),
      note: windowNote(w),
      actor: windowHolder(w.name),
      matches: (s) => incidentMatches(w.match, s),
    }));
  return [...silences, ...windows];
}

/** The hold judge `silences`: an opening that a silence or an open maintenance window matches is held. */
export class SilenceJudge implements HoldJudge {
  readonly name = 'silences';

  constructor(
    private readonly pool: pg.Pool,
    private readonly maintenance: MaintenanceClock,
  ) {}

  async judge(openings: readonly OpeningIncident[]): Promise<(HoldVerdict | undefined)[]> {
    if (openings.length === 0) return [];
    const holders = await activeHolders(this.pool, this.maintenance);
    return openings.map((o) => {
      const subject = {
        ruleId: o.rule.id,
        severity: o.rule.severity,
        category: o.rule.category,
        labels: o.labels,
      };
      const h = holders.find((x) => x.matches(subject));
      return h && { held: 'silenced', heldBy: h.heldBy, note: h.note };
    });
  }
}
