import { describe, expect, it } from 'vitest';
import {
  incidentMatches,
  localClock,
  windowActive,
  type MaintenanceWindow,
} from '../../src/incidents/maintenance.js';
import { parseMatcher, silenceMatches, SilenceMatcherError } from '../../src/incidents/silences.js';

const subject = {
  ruleId: 'api-health',
  severity: 'critical',
  category: 'availability',
  labels: { host: 'db-2', service: 'helix-api' },
};
const matches = (...texts: string[]) => silenceMatches({ matchers: texts.map(parseMatcher) }, subject);

describe('silence matchers', () => {
  it('parses the four operators, with names of labels and of the rule, severity and category', () => {
    expect(parseMatcher('rule=api-health')).toEqual({ name: 'rule', op: '=', value: 'api-health' });
    expect(parseMatcher('host!=db-1')).toEqual({ name: 'host', op: '!=', value: 'db-1' });
    expect(parseMatcher('host=~db-.*')).toEqual({ name: 'host', op: '=~', value: 'db-.*' });
    expect(parseMatcher('severity!~info|warning')).toEqual({
      name: 'severity',
      op: '!~',
      value: 'info|warning',
    });
    expect(parseMatcher('host=')).toEqual({ name: 'host', op: '=', value: '' });
  });

  it('refuses text that is no matcher, a regex that does not compile, and one that may backtrack', () => {
    const refusal = (text: string) => {
      try {
        parseMatcher(text);
      } catch (err) {
        expect(err).toBeInstanceOf(SilenceMatcherError);
        expect((err as SilenceMatcherError).code).toBe('E_SILENCE_MATCHER');
        return (err as Error).message;
      }
      throw new Error(`"${text}" was accepted`);
    };
    expect(refusal('api-health')).toBe(
      'matcher "api-health": expected name=value, name!=value, name=~regex or name!~regex',
    );
    expect(refusal('=x')).toMatch(/^matcher "=x": expected name=value/);
    expect(refusal('host=~db-(')).toMatch(/^matcher "host=~db-\(": invalid regex: /);
    expect(refusal('host=~(a+)+')).toMatch(
      /^matcher "host=~\(a\+\)\+": a repeated group that itself repeats/,
    );
  });

  it('matches all matchers; regexes match the whole value; a missing label reads as empty', () => {
    expect(matches('rule=api-health')).toBe(true);
    expect(matches('rule=api-health', 'host=db-1')).toBe(false);
    expect(matches('host=~db-.*', 'severity=critical', 'category=availability')).toBe(true);
    expect(matches('host=~db')).toBe(false);
    expect(matches('host=~b-2')).toBe(false);
    expect(matches('host!~db-[13]')).toBe(true);
    expect(matches('host!=db-2')).toBe(false);
    expect(matches('zone=')).toBe(true);
    expect(matches('zone=~.+')).toBe(false);
    expect(silenceMatches({ matchers: [] }, subject)).toBe(false);
  });
});

const window = (w: Partial<MaintenanceWindow>): MaintenanceWindow => ({
  name: 'nightly',
  match: {},
  days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
  at: '02:00',
  for: 7_200_000,
  reason: '',
  ...w,
});

describe('maintenance windows', () => {
  it('reads the local weekday and time of day in the time zone', () => {
    // 2024-05-05 is a Sunday; 16:30 UTC is Monday 00:30 in Shanghai (UTC+8).
    expect(localClock(new Date('2024-05-05T16:30:00Z'), 'Asia/Shanghai')).toEqual({ day: 0, ms: 1_800_000 });
    expect(localClock(new Date('2024-05-05T16:30:00Z'), 'UTC')).toEqual({ day: 6, ms: 59_400_000 });
  });

  it('is open from its start for its length, on its days only', () => {
    const sunday = window({ days: ['sun'], at: '02:00', for: 7_200_000 });
    expect(windowActive(sunday, 'UTC', new Date('2024-05-05T01:59:59Z'))).toBe(false);
    expect(windowActive(sunday, 'UTC', new Date('2024-05-05T02:00:00Z'))).toBe(true);
    expect(windowActive(sunday, 'UTC', new Date('2024-05-05T03:59:59Z'))).toBe(true);
    expect(windowActive(sunday, 'UTC', new Date('2024-05-05T04:00:00Z'))).toBe(false);
    expect(windowActive(sunday, 'UTC', new Date('2024-05-06T02:30:00Z'))).toBe(false);
  });

  it('started yesterday at 23:00 for 2h is open at 00:30, and counts the start day, not today', () => {
    const late = window({ days: ['sun'], at: '23:00', for: 7_200_000 });
    expect(windowActive(late, 'UTC', new Date('2024-05-06T00:30:00Z'))).toBe(true); // Monday 00:30
    expect(windowActive(late, 'UTC', new Date('2024-05-06T01:00:00Z'))).toBe(false);
    expect(windowActive(late, 'UTC', new Date('2024-05-05T00:30:00Z'))).toBe(false); // Sunday 00:30: Saturday's, not a day
  });

  it('runs on the on-call clock: 23:00 in Shanghai is 15:00 UTC', () => {
    const late = window({ days: ['sun'], at: '23:00', for: 7_200_000 });
    expect(windowActive(late, 'Asia/Shanghai', new Date('2024-05-05T15:30:00Z'))).toBe(true);
    expect(windowActive(late, 'Asia/Shanghai', new Date('2024-05-05T16:30:00Z'))).toBe(true);
    expect(windowActive(late, 'Asia/Shanghai', new Date('2024-05-05T23:30:00Z'))).toBe(false);
    expect(windowActive(late, 'America/New_York', new Date('2024-05-06T03:30:00Z'))).toBe(true); // Sun 23:30 EDT
  });

  it('a window longer than a day is open through the next days', () => {
    const weekend = window({ days: ['sat'], at: '00:00', for: 2 * 86_400_000 });
    expect(windowActive(weekend, 'UTC', new Date('2024-05-05T23:59:00Z'))).toBe(true);
    expect(windowActive(weekend, 'UTC', new Date('2024-05-06T00:00:00Z'))).toBe(false);
  });

  it('matches incidents like routes do: every given field, one or many values, labels exactly', () => {
    expect(incidentMatches({}, subject)).toBe(true);
    expect(incidentMatches({ rule: ['x', 'api-health'], severity: 'critical' }, subject)).toBe(true);
    expect(incidentMatches({ category: 'data' }, subject)).toBe(false);
    expect(incidentMatches({ labels: { host: 'db-2' } }, subject)).toBe(true);
    expect(incidentMatches({ labels: { host: 'db-2', zone: 'a' } }, subject)).toBe(false);
  });
});
