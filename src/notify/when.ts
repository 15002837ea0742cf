/**
 * Times as people on call read them: a clock in the configured time zone ("10:02 CST"), with the
 * date only when it is not today there, and durations in words ("12 min"). `now` is a parameter.
 */

const formats = new Map<string, { clock: Intl.DateTimeFormat; day: Intl.DateTimeFormat }>();

function formatsFor(timeZone: string) {
  let f = formats.get(timeZone);
  if (!f) {
    f = {
      clock: new Intl.DateTimeFormat('en-US', {
        timeZone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
        timeZoneName: 'short',
      }),
      day: new Intl.DateTimeFormat('en-US', { timeZone, month: 'short', day: 'numeric' }),
    };
    formats.set(timeZone, f);
  }
  return f;
}

/** "10:02 CST", or "Apr 30 23:58 CST" when `at` is another day than `now` in that zone. */
export function clockText(at: Date, timeZone: string, now: Date): string {
  const { clock, day } = formatsFor(timeZone);
  const time = clock.format(at);
  return day.format(at) === day.format(now) ? time : `${day.format(at)} ${time}`;
}

/** "45 s", "12 min", "2 h 10 min", "1 d 4 h": two units are enough to tell a blip from an outage. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** "10:02 CST (12 min)": when it started and how long ago. */
export function sinceText(startedAt: Date, timeZone: string, now: Date): string {
  return `${clockText(startedAt, timeZone, now)} (${formatElapsed(now.getTime() - startedAt.getTime())})`;
}
