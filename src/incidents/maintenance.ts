import type { VigilConfig } from '../config/schema.js';
import type { MatchSubject } from './silence-matchers.js';

export type MaintenanceWindow = VigilConfig['maintenance'][number];
type IncidentMatch = MaintenanceWindow['match'];

const DAY = 86_400_000;
const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const clocks = new Map<string, Intl.DateTimeFormat>();

/** The local weekday (0 = Monday) and time of day (ms) of `now` in `timeZone`. */
export function localClock(now: Date, timeZone: string): { day: number; ms: number } {
  let f = clocks.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
    clocks.set(timeZone, f);
  }
  const parts = f.formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = weekdays.indexOf(part('weekday').toLowerCase() as (typeof weekdays)[number]);
  const ms =
    ((Number(part('hour')) * 60 + Number(part('minute'))) * 60 + Number(part('second'))) * 1000 +
    now.getUTCMilliseconds();
  return { day, ms };
}

/**
 * Whether a window is open at `now`: it started on one of its days at `at` (local time) no longer
 * than `for` ago — so a Sunday 23:00 window of 2h is open on Monday at 00:30. Its length is counted
 * on the local clock: a window spanning a DST change is an hour longer or shorter in real time.
 */
export function windowActive(w: MaintenanceWindow, timeZone: string, now: Date): boolean {
  const { day, ms } = localClock(now, timeZone);
  const [h = 0, m = 0] = w.at.split(':').map(Number);
  const startMs = (h * 60 + m) * 60_000;
  for (let back = 0; ; back++) {
    const elapsed = back * DAY + ms - startMs;
    if (elapsed >= w.for) return false;
    const startDay = weekdays[(((day - back) % 7) + 7) % 7];
    if (elapsed >= 0 && startDay && w.days.includes(startDay)) return true;
  }
}

const oneOf = (want: string | readonly string[] | undefined, have: string) =>
  want === undefined || (typeof want === 'string' ? want === have : want.includes(have));

/** All given fields must match (the same semantics as routes' `match`). */
export function incidentMatches(match: IncidentMatch, s: MatchSubject): boolean {
  return (
    oneOf(match.severity, s.severity) &&
    oneOf(match.rule, s.ruleId) &&
    oneOf(match.category, s.category) &&
    Object.entries(match.labels ?? {}).every(([k, v]) => s.labels[k] === v)
  );
}

export const windowHolder = (name: string) => `maintenance:${name}`;

export const windowNote = (w: MaintenanceWindow): string =>
  `silenced by maintenance window ${w.name}${w.reason ? `: ${w.reason}` : ''}`;
