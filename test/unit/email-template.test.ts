import { describe, it, expect } from 'vitest';
import type { NotificationKind } from '../../src/contracts/channels.js';
import { emailSubject, renderEmail } from '../../src/notify/email-template.js';
import { formatElapsed, clockText } from '../../src/notify/when.js';
import { incident } from '../support/incident.js';
import { notificationKinds } from '../support/notification-kinds.js';

const now = new Date('2024-05-01T10:12:00.000Z');
const ack = 'https://vigil.example/ack/tok.abc';

describe('email of an incident', () => {
  it('subjects carry severity, or RESOLVED, title and id on one line', () => {
    expect(emailSubject(incident(), 'opened')).toBe('[Vigil][CRITICAL] HELIX API health check failing (#42)');
    expect(emailSubject(incident({ state: 'resolved' }), 'resolved')).toBe(
      '[Vigil][RESOLVED] HELIX API health check failing (#42)',
    );
    expect(emailSubject(incident({ title: 'two\r\nlines' }), 'opened')).toBe(
      '[Vigil][CRITICAL] two lines (#42)',
    );
  });

  it('text and HTML: what happened, the state in the time zone, the details, and the links', () => {
    const mail = renderEmail(
      {
        incident: incident({ summary: 'p99 latency 1.42 s > 1 s over 5m' }),
        kind: 'opened',
        links: { ack, runbook: 'https://wiki.example/helix', incident: 'https://vigil.example/incidents/42' },
        timeZone: 'America/Chicago',
      },
      now,
    );
    expect(mail.text.split('\n').slice(0, 12)).toEqual([
      'Incident #42 opened',
      '',
      'HELIX API health check failing',
      '🔥 Firing since 05:00 CDT (12 min)',
      '',
      'Severity: CRITICAL',
      'Rule: helix-api-down',
      'State: firing',
      'Value: 3',
      'Since: 05:00 CDT (12 min)',
      'Labels: host=box-1, service=helix-api',
      '',
    ]);
    expect(mail.text).toContain('p99 latency 1.42 s > 1 s over 5m');
    expect(mail.text).toContain(
      `Acknowledge: ${ack}\nRunbook: https://wiki.example/helix\nOpen in Vigil: https://vigil.example/incidents/42`,
    );
    expect(mail.html).toContain(`<a href="${ack}">Acknowledge</a>`);
    expect(mail.html).toContain('<a href="https://wiki.example/helix">Runbook</a>');
    expect(mail.html).toContain('p99 latency 1.42 s &gt; 1 s over 5m');
  });

  it('no acknowledge link when there is none', () => {
    const mail = renderEmail({ incident: incident(), kind: 'opened', links: {} }, now);
    expect(mail.text).not.toContain('Acknowledge');
    expect(mail.html).not.toContain('Acknowledge');
  });

  it.each(notificationKinds)('%s: a headline of its own, in text and HTML', (kind: NotificationKind) => {
    const i = kind === 'resolved' ? incident({ state: 'resolved', resolvedAt: now }) : incident();
    const mail = renderEmail({ incident: i, kind, links: {} }, now);
    const head = mail.text.split('\n')[0] ?? '';
    expect(head).toMatch(/^Incident #42[: ]/);
    expect(mail.html).toContain(head.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
  });

  it('says who acknowledged and who resolved by hand', () => {
    const acked = incident({ state: 'acknowledged', acknowledgedBy: 'alice (email)', acknowledgedAt: now });
    expect(renderEmail({ incident: acked, kind: 'acknowledged', links: {} }, now).text).toContain(
      'Incident #42: 👀 Acknowledged by alice (email) at 10:12 UTC: escalation stopped',
    );
    const resolved = incident({ state: 'resolved', resolvedAt: now, resolvedBy: 'bob (cli)' });
    const mail = renderEmail({ incident: resolved, kind: 'resolved', links: {} }, now);
    expect(mail.text).toContain('✅ Resolved at 10:12 UTC after 12 min: by hand by bob (cli)');
    expect(mail.html).toContain('<h2>✅ HELIX API health check failing</h2>');
  });

  it('escapes everything from the incident in HTML', () => {
    const evil = incident({
      title: '<script>alert(1)</script>',
      summary: 'value < 3 && "quoted"',
      labels: { '<k>': '<img src=x onerror=alert(1)>' },
      ruleId: 'r<1>',
      state: 'acknowledged',
      acknowledgedBy: '<b>mallory</b>',
    });
    const { html } = renderEmail(
      { incident: evil, kind: 'acknowledged', links: { ack: 'https://x/ack?a=1&b="2"' }, note: '<i>n</i>' },
      now,
    );
    expect(html).not.toMatch(/<(script|img|k|b|i)>/);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('value &lt; 3 &amp;&amp; &quot;quoted&quot;');
    expect(html).toContain('r&lt;1&gt;');
    expect(html).toContain('&lt;b&gt;mallory&lt;/b&gt;');
    expect(html).toContain('href="https://x/ack?a=1&amp;b=&quot;2&quot;"');
  });
});

describe('times', () => {
  it('durations in words, two units at most', () => {
    expect(formatElapsed(45_000)).toBe('45 s');
    expect(formatElapsed(185_000)).toBe('3 min');
    expect(formatElapsed(2 * 3_600_000 + 10 * 60_000 + 7000)).toBe('2 h 10 min');
    expect(formatElapsed(3_600_000)).toBe('1 h');
    expect(formatElapsed(28 * 3_600_000)).toBe('1 d 4 h');
    expect(formatElapsed(-5)).toBe('0 s');
  });

  it('a clock in the zone, with the date when it is not today there', () => {
    const at = new Date('2024-01-05T16:02:00.000Z');
    expect(clockText(at, 'America/Chicago', new Date('2024-01-05T16:14:00.000Z'))).toBe('10:02 CST');
    expect(clockText(at, 'Asia/Tokyo', new Date('2024-01-05T16:14:00.000Z'))).toBe('01:02 GMT+9');
    expect(clockText(at, 'UTC', new Date('2024-01-07T09:00:00.000Z'))).toBe('Jan 5 16:02 UTC');
  });
});
