import { describe, it, expect } from 'vitest';
import type { Incident } from '../../src/contracts/incident.js';
import type { NotificationKind } from '../../src/contracts/channels.js';
import { emailSubject, renderEmail } from '../../src/notify/email-template.js';
import { formatElapsed } from '../../src/notify/format.js';
import { renderSlack, renderSlackThreadReply, type SlackBlock } from '../../src/notify/slack-template.js';
import { incident } from '../support/incident.js';

const now = new Date('2024-05-01T10:03:00.000Z');

const render = (kind: NotificationKind, i: Incident, links = {}) =>
  renderSlack({ incident: i, kind, links }, now);
const actions = (blocks: SlackBlock[]) => blocks.find((b) => b.type === 'actions');
const allText = (blocks: SlackBlock[]) => JSON.stringify(blocks);

describe('slack templates', () => {
  it('renders header, fields, state and fallback text for an opened incident', () => {
    const msg = render('opened', incident());
    expect(msg.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '🔴 HELIX API health check failing', emoji: true },
    });
    const section = msg.blocks.find((b) => b.type === 'section' && b.fields !== undefined);
    const fields = section?.type === 'section' ? section.fields?.map((f) => f.text) : undefined;
    expect(fields).toEqual([
      '*Incident*\n#42',
      '*Rule*\n`helix-api-down`',
      '*Severity*\n🔴 CRITICAL',
      '*Value*\n3',
      '*Since*\n2024-05-01T10:00:00.000Z (3m 0s ago)',
    ]);
    expect(allText(msg.blocks)).toContain('Labels: host=box-1, service=helix-api');
    expect(allText(msg.blocks)).toContain('Firing');
    expect(msg.text).toContain('HELIX API health check failing');
    expect(msg.text).toContain('CRITICAL');
    expect(msg.text).toContain('#42');
    expect(msg.text).toContain('firing');
  });

  it('offers Acknowledge / Resolve / Silence carrying the incident id, plus Open when linked', () => {
    const msg = render('opened', incident(), { incident: 'https://vigil.example/incidents/42' });
    const buttons = actions(msg.blocks);
    expect(buttons?.type).toBe('actions');
    if (buttons?.type !== 'actions') return;
    expect(buttons.elements.map((b) => [b.action_id, b.value])).toEqual([
      ['vigil_ack', '42'],
      ['vigil_resolve', '42'],
      ['vigil_silence', '42'],
      ['vigil_open', undefined],
    ]);
    expect(buttons.elements[3]?.url).toBe('https://vigil.example/incidents/42');
    expect(actions(render('opened', incident()).blocks)?.type === 'actions').toBe(true);
  });

  it('keeps buttons on escalated and reminder messages', () => {
    for (const kind of ['escalated', 'reminder'] as const) {
      const ids = JSON.stringify(actions(render(kind, incident()).blocks));
      expect(ids).toContain('vigil_ack');
      expect(ids).toContain('vigil_resolve');
      expect(ids).toContain('vigil_silence');
    }
    expect(allText(render('escalated', incident()).blocks)).toContain('not acknowledged within 15m 0s');
  });

  it('resolved: no buttons, resolution time and duration', () => {
    const resolved = incident({ state: 'resolved', resolvedAt: new Date('2024-05-01T10:12:05.000Z') });
    const msg = render('resolved', resolved, { incident: 'https://vigil.example/incidents/42' });
    expect(actions(msg.blocks)).toBeUndefined();
    expect(allText(msg.blocks)).toContain('✅ Resolved at 2024-05-01T10:12:05.000Z (lasted 12m 5s)');
    expect(msg.text).toContain('resolved');
  });

  it('acknowledged: says who, and no longer offers Acknowledge', () => {
    const acked = incident({
      state: 'acknowledged',
      acknowledgedBy: 'alice',
      acknowledgedAt: new Date('2024-05-01T10:02:00.000Z'),
    });
    const msg = render('acknowledged', acked);
    expect(allText(msg.blocks)).toMatch(/acknowledged by alice/i);
    expect(JSON.stringify(actions(msg.blocks))).not.toContain('vigil_ack');
  });

  it('escapes Slack control characters from incident text', () => {
    const msg = render('opened', incident({ summary: 'ping <!channel> & <@U123>', labels: { q: 'a<b' } }));
    const text = allText(msg.blocks);
    expect(text).toContain('ping &lt;!channel&gt; &amp; &lt;@U123&gt;');
    expect(text).toContain('q=a&lt;b');
    expect(text).not.toContain('<!channel>');
  });

  it('thread replies are a short timeline line', () => {
    const reply = renderSlackThreadReply({ incident: incident(), kind: 'reminder', links: {} }, now);
    expect(reply.text).toBe('🔔 Reminder: still firing after 3m 0s — incident #42');
  });
});

describe('email templates', () => {
  it('subjects carry severity, or RESOLVED, title and id', () => {
    expect(emailSubject(incident(), 'opened')).toBe('[Vigil][CRITICAL] HELIX API health check failing (#42)');
    expect(emailSubject(incident({ severity: 'warning' }), 'reminder')).toMatch(/^\[Vigil\]\[WARNING\]/);
    expect(emailSubject(incident({ state: 'resolved' }), 'resolved')).toBe(
      '[Vigil][RESOLVED] HELIX API health check failing (#42)',
    );
    expect(emailSubject(incident({ title: 'two\r\nlines' }), 'opened')).toBe(
      '[Vigil][CRITICAL] two lines (#42)',
    );
  });

  it('text body lists the incident and the ack link', () => {
    const mail = renderEmail(
      { incident: incident(), kind: 'opened', links: { ack: 'https://vigil.example/ack?t=abc' } },
      now,
    );
    expect(mail.text).toContain('Incident #42 opened');
    expect(mail.text).toContain('Severity: CRITICAL');
    expect(mail.text).toContain('Rule: helix-api-down');
    expect(mail.text).toContain('Labels: host=box-1, service=helix-api');
    expect(mail.text).toContain('Acknowledge: https://vigil.example/ack?t=abc');
    expect(mail.html).toContain('<a href="https://vigil.example/ack?t=abc">Acknowledge</a>');
  });

  it('omits the ack link when there is none', () => {
    const mail = renderEmail({ incident: incident(), kind: 'opened', links: {} }, now);
    expect(mail.text).not.toContain('Acknowledge:');
    expect(mail.html).not.toContain('Acknowledge</a>');
  });

  it('escapes everything from the incident in HTML', () => {
    const evil = incident({
      title: '<script>alert(1)</script>',
      summary: 'value < 3 && "quoted"',
      labels: { '<k>': '<img src=x onerror=alert(1)>' },
      ruleId: 'r<1>',
    });
    const { html } = renderEmail(
      { incident: evil, kind: 'opened', links: { ack: 'https://x/ack?a=1&b="2"' } },
      now,
    );
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<k>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('value &lt; 3 &amp;&amp; &quot;quoted&quot;');
    expect(html).toContain('r&lt;1&gt;');
    expect(html).toContain('href="https://x/ack?a=1&amp;b=&quot;2&quot;"');
  });

  it('resolved mail states when and how long', () => {
    const resolved = incident({ state: 'resolved', resolvedAt: new Date('2024-05-01T10:12:05.000Z') });
    const mail = renderEmail({ incident: resolved, kind: 'resolved', links: {} }, now);
    expect(mail.subject).toMatch(/^\[Vigil\]\[RESOLVED\]/);
    expect(mail.text).toContain('lasted 12m 5s');
  });
});

describe('formatElapsed', () => {
  it('uses two units at most', () => {
    expect(formatElapsed(45_000)).toBe('45s');
    expect(formatElapsed(185_000)).toBe('3m 5s');
    expect(formatElapsed(2 * 3_600_000 + 10 * 60_000 + 7000)).toBe('2h 10m');
    expect(formatElapsed(28 * 3_600_000)).toBe('1d 4h');
    expect(formatElapsed(-5)).toBe('0s');
  });
});
