import type pg from 'pg';
import type { Incident } from '../contracts/incident.js';
import { VigilError } from '../errors.js';
import { holdMatching, type Holder } from './silence-holds.js';
import {
  checkMatcher,
  silenceMatches,
  SilenceMatcherError,
  type SilenceMatcher,
} from './silence-matchers.js';

export {
  parseMatcher,
  silenceMatches,
  matcherText,
  SilenceMatcherError,
  type SilenceMatcher,
  type MatchSubject,
} from './silence-matchers.js';

export interface Silence {
  id: string;
  matchers: SilenceMatcher[];
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  reason: string;
  createdAt: Date;
  expiredAt: Date | null;
  expiredBy: string | null;
  state: 'pending' | 'active' | 'expired';
}

export interface SilenceRow {
  id: string;
  matchers: SilenceMatcher[];
  starts_at: Date;
  ends_at: Date;
  created_by: string;
  reason: string;
  created_at: Date;
  expired_at: Date | null;
  expired_by: string | null;
}

export function toSilence(r: SilenceRow, now = new Date()): Silence {
  const state =
    r.expired_at !== null || r.ends_at <= now ? 'expired' : r.starts_at > now ? 'pending' : 'active';
  return {
    id: r.id,
    matchers: r.matchers,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    createdBy: r.created_by,
    reason: r.reason,
    createdAt: r.created_at,
    expiredAt: r.expired_at,
    expiredBy: r.expired_by,
    state,
  };
}

/** A silence's own words in the audit trail and notices: "silenced by #3: deploy (alice)". */
export const silenceNote = (s: Pick<Silence, 'id' | 'reason' | 'createdBy'>): string =>
  `silenced by #${s.id}${s.reason ? `: ${s.reason}` : ''} (${s.createdBy})`;

export const silenceHolder = (s: Silence): Holder => ({
  heldBy: s.id,
  note: silenceNote(s),
  actor: s.createdBy,
  matches: (subject) => silenceMatches(s, subject),
});

/** In force at the database's clock: the one every agent shares. */
export const ACTIVE_SQL = 'expired_at IS NULL AND starts_at <= now() AND ends_at > now()';

/** Silences in PostgreSQL (`vigil_silences`): who silenced what, until when, and why. */
export class Silences {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Stores a silence; if it is in force already, the open incidents it matches are held at once
   * (people already told hear it is silenced). One that starts later is applied by the release tick.
   */
  async add(s: {
    matchers: SilenceMatcher[];
    startsAt?: Date;
    endsAt: Date;
    createdBy: string;
    reason: string;
  }): Promise<Silence> {
    if (s.matchers.length === 0) throw new SilenceMatcherError('a silence needs at least one matcher');
    s.matchers.forEach(checkMatcher);
    const startsAt = s.startsAt ?? new Date();
    if (s.endsAt <= startsAt)
      throw new VigilError(
        'E_SILENCE_WINDOW',
        `a silence must end after it starts (${startsAt.toISOString()})`,
      );
    const { rows } = await this.pool.query<SilenceRow & { started: boolean }>(
      `INSERT INTO vigil_silences (matchers, starts_at, ends_at, created_by, reason)
       VALUES ($1, coalesce($2, now()), $3, $4, $5) RETURNING *, starts_at <= now() AS started`,
      [JSON.stringify(s.matchers), s.startsAt ?? null, s.endsAt, s.createdBy, s.reason],
    );
    const row = rows[0] as SilenceRow & { started: boolean };
    const silence = toSilence(row);
    if (row.started) await holdMatching(this.pool, [silenceHolder(silence)]);
    return silence;
  }

  /** Pending and active silences, newest first; `all` adds the expired ones. */
  async list(opts: { all?: boolean } = {}): Promise<Silence[]> {
    const { rows } = await this.pool.query<SilenceRow>(
      `SELECT * FROM vigil_silences ${opts.all ? '' : 'WHERE expired_at IS NULL AND ends_at > now()'}
       ORDER BY id DESC`,
    );
    return rows.map((r) => toSilence(r));
  }

  /** Silences in force now, oldest first (the oldest one is credited with a hold). */
  async active(): Promise<Silence[]> {
    const { rows } = await this.pool.query<SilenceRow>(
      `SELECT * FROM vigil_silences WHERE ${ACTIVE_SQL} ORDER BY id`,
    );
    return rows.map((r) => toSilence(r));
  }

  /** How many open incidents each silence (or maintenance window: "maintenance:<name>") holds. */
  async holding(): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ held_by: string; n: string }>(
      `SELECT held_by, count(*) AS n FROM vigil_incidents
       WHERE held = 'silenced' AND state <> 'resolved' GROUP BY held_by`,
    );
    return new Map(rows.map((r) => [r.held_by, Number(r.n)]));
  }

  /**
   * Ends a silence now; what it holds is released on the release tick. Undefined when there is no
   * such silence; one that had ended already comes back unchanged (`changed` false).
   */
  async expireOnce(id: string, by: string): Promise<{ silence: Silence; changed: boolean } | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const { rows } = await this.pool.query<SilenceRow & { changed: boolean }>(
      `WITH upd AS (
         UPDATE vigil_silences SET expired_at = now(), expired_by = $2
         WHERE id = $1 AND expired_at IS NULL AND ends_at > now() RETURNING *)
       SELECT *, true AS changed FROM upd
       UNION ALL SELECT *, false FROM vigil_silences WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM upd)`,
      [id, by],
    );
    const row = rows[0];
    return row && { silence: toSilence(row), changed: row.changed };
  }

  async expire(id: string, by: string): Promise<Silence | undefined> {
    return (await this.expireOnce(id, by))?.silence;
  }

  /** A silence for one incident: its rule and its labels (the Slack "Silence 1 h" button). */
  forIncident(incident: Incident, forMs: number, createdBy: string, reason: string): Promise<Silence> {
    const matchers: SilenceMatcher[] = [
      { name: 'rule', op: '=', value: incident.ruleId },
      ...Object.entries(incident.labels).map(([name, value]) => ({ name, op: '=' as const, value })),
    ];
    return this.add({ matchers, endsAt: new Date(Date.now() + forMs), createdBy, reason });
  }
}
