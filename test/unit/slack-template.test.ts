import { describe, it, expect } from 'vitest';
import { notificationKinds } from '../support/notification-kinds.js';
import type { Incident } from '../../src/contracts/incident.js';
import type { NotificationKind } from '../../src/contracts/channels.js';
import type { RenderInput } from '../../src/notify/format.js';
import {
  renderSlack,
  renderSlackThreadReply,
  resolvedColor,
  type SlackBlock,
  type SlackMessage,
} from '../../src/notify/slack-template.js';
import { incident } from '../support/incident.js';

const now = new Date('2024-05-01T10:12:00.000Z');

const render = (kind: NotificationKind, i: Incident, more: Partial<RenderInput> = {}) =>
  renderSlack({ incident: i, kind, links: {}, ...more }, now);
const actions = (blocks: SlackBlock[]) => blocks.find((b) => b.type === 'actions');
const buttonIds = (m: SlackMessage) => {
  const a = actions(m.blocks);
  return a?.type === 'actions' ? a.elements.map((b) => [b.action_id, b.value, b.text.text]) : [];
};
const everything = (m: SlackMessage) => JSON.stringify(m);
/** Every text Slack reads markup in: mrkdwn objects, the fallback `text` (plain_text has no markup). */
function markupTexts(m: SlackMessage): string[] {
  const texts: string[] = [m.text, ...(m.attachments ?? []).map((a) => a.fallback)];
  JSON.stringify(m, (_key, value: unknown) => {
    const t = value as { type?: string; text?: unknown };
    if (t && t.type === 'mrkdwn' && typeof t.text === 'string') texts.push(t.text);
    return value;
  });
  return texts;
}
/** Slack's mention markup: user `<@U…>`, group `<!subteam^…>`, `<!here>`, `<!channel>`, `<!everyone>`. */
const mentions = (m: SlackMessage) => markupTexts(m).flatMap((t) => t.match(/<[@!][^>]*>/g) ?? []);

const msgHeader = (m: SlackMessage) => (m.blocks[0]?.type === 'header' ? m.blocks[0].text : undefined);

const acked = incident({
  state: 'acknowledged',
  acknowledgedBy: 'alice (slack U024BE7LH)',
  acknowledgedAt: new Date('2024-05-01T10:05:00.000Z'),
});
const resolvedByAgent = incident({
  state: 'resolved',
  resolvedAt: new Date('2024-05-01T10:12:05.000Z'),
  resolvedBy: 'vigil-1',
});

describe('slack message of an incident', () => {
  it('shows title, summary (the value against its threshold), severity, rule, since in the time zone, labels', () => {
    const msg = render('opened', incident({ summary: 'p99 latency 1.42 s > 1 s over 5m' }), {
      timeZone: 'America/Chicago',
    });
    expect(msg.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '🔴 HELIX API health check failing', emoji: true },
    });
    const text = everything(msg);
    expect(text).toContain('p99 latency 1.42 s &gt; 1 s over 5m');
    const fields = msg.blocks.flatMap((b) => (b.type === 'section' && b.fields ? b.fields : []));
    expect(fields.map((f) => f.text)).toEqual([
      '*Severity*\n🔴 CRITICAL',
      '*Rule*\n`helix-api-down`',
      '*Since*\n05:00 CDT (12 min)',
      '*State*\nfiring',
      '*Incident*\n#42',
      '*Value*\n3',
    ]);
    expect(text).toContain('Labels: host=box-1, service=helix-api');
    expect(msg.text).toBe(
      '🔴 [CRITICAL] HELIX API health check failing (incident #42, firing): 🔥 Firing since 05:00 CDT (12 min)',
    );
  });

  it('puts the state line in an attachment coloured by severity', () => {
    const msg = render('opened', incident({ severity: 'warning' }));
    expect(msg.attachments).toEqual([
      {
        color: '#ECB22E',
        fallback: '🔥 Firing since 10:00 UTC (12 min)',
        blocks: [
          {
            type: 'section',
            text: { type: 'mrkdwn', text: '🔥 Firing since 10:00 UTC (12 min)', verbatim: true },
          },
        ],
      },
    ]);
  });

  it('links the runbook and the incident page when given', () => {
    const msg = render('opened', incident(), {
      links: { runbook: 'https://wiki.example/run|book>x', incident: 'https://vigil.example/incidents/42' },
    });
    const context = msg.blocks.filter((b) => b.type === 'context').map((b) => JSON.stringify(b));
    expect(context.join()).toContain(
      '<https://wiki.example/run%7Cbook%3Ex|📖 Runbook>  ·  <https://vigil.example/incidents/42|Incident #42 in Vigil>',
    );
    expect(everything(render('opened', incident()))).not.toContain('Runbook');
  });

  it("shows the rule's description (what it means, what to do first), escaped", () => {
    const msg = render('opened', incident(), {
      description: 'Check the API <@U1> & restart it with the SOP.',
    });
    const context = msg.blocks.filter((b) => b.type === 'context').map((b) => JSON.stringify(b));
    expect(context.join()).toContain('Check the API &lt;@U1&gt; &amp; restart it with the SOP.');
    expect(everything(render('opened', incident()))).not.toContain('Check the API');
  });

  it('firing: Acknowledge, Resolve, Silence for oncall.silenceFor, Not actionable, each carrying the incident id', () => {
    expect(buttonIds(render('opened', incident(), { silenceForMs: 7_200_000 }))).toEqual([
      ['vigil_ack', '42', 'Acknowledge'],
      ['vigil_resolve', '42', 'Resolve'],
      ['vigil_silence', '42', 'Silence 2 h'],
      ['vigil_not_actionable', '42', 'Not actionable'],
    ]);
    expect(buttonIds(render('opened', incident()))[2]?.[2]).toBe('Silence 1 h');
  });

  it('acknowledged: says by whom and when (in the zone), no Acknowledge button', () => {
    const msg = render(
      'acknowledged',
      { ...acked, ackExpiresAt: new Date('2024-05-01T14:05:00.000Z') },
      {
        timeZone: 'Europe/Paris',
      },
    );
    expect(msg.attachments?.[0]?.fallback).toBe(
      '👀 Acknowledged by alice (slack U024BE7LH) at 12:05 GMT+2 (until 16:05 GMT+2); firing since 12:00 GMT+2 (12 min)',
    );
    expect(buttonIds(msg).map(([id]) => id)).toEqual([
      'vigil_resolve',
      'vigil_silence',
      'vigil_not_actionable',
    ]);
    expect(msg.attachments?.[0]?.color).toBe('#E01E5A');
  });

  it('resolved: grey instead of the severity colour, no buttons, says the condition cleared', () => {
    const msg = render('resolved', resolvedByAgent);
    expect(actions(msg.blocks)).toBeUndefined();
    expect(msg.attachments?.[0]?.color).toBe(resolvedColor);
    expect(msg.attachments?.[0]?.fallback).toBe(
      '✅ Resolved at 10:12 UTC after 12 min: the condition cleared',
    );
    expect(msg.blocks[0]).toMatchObject({ text: { text: '✅ HELIX API health check failing' } });
    expect(msg.text).toMatch(/^✅ \[RESOLVED\]/);
  });

  it('resolved by hand: says who', () => {
    const msg = render('resolved', { ...resolvedByAgent, resolvedBy: 'bob (cli)' });
    expect(msg.attachments?.[0]?.fallback).toContain('by hand by bob (cli)');
  });

  it('held: says so; a silenced incident offers no Silence button', () => {
    const msg = render('silenced', incident({ held: 'silenced', heldBy: 's-1' }));
    expect(msg.attachments?.[0]?.fallback).toContain('held: silenced (silence s-1), nobody is notified');
    expect(buttonIds(msg).map(([id]) => id)).not.toContain('vigil_silence');
    expect(everything(render('opened', incident({ held: 'inhibited', heldBy: '7' })))).toContain(
      'inhibited by incident #7',
    );
  });

  it('times on another day carry the date', () => {
    const old = incident({ startedAt: new Date('2024-04-29T23:00:00.000Z') });
    expect(everything(render('opened', old))).toContain('*Since*\\nApr 29 23:00 UTC (1 d 11 h)');
  });
});

describe('mentions: only escalations page, and incident text never does', () => {
  it('an escalation renders its target mention, in the reply and in a fresh post', () => {
    const input = { incident: incident(), kind: 'escalated' as const, links: {}, mention: 'S0ONCALL' };
    const reply = renderSlackThreadReply(input, now);
    expect(reply.text).toBe(
      '<!subteam^S0ONCALL> ⚠️ Escalated: not acknowledged within 15 min — incident #42',
    );
    expect(mentions(renderSlack(input, now))).toEqual(['<!subteam^S0ONCALL>', '<!subteam^S0ONCALL>']);
    expect(renderSlackThreadReply({ ...input, mention: 'U0BOB' }, now).text).toMatch(/^<@U0BOB> /);
    expect(renderSlackThreadReply({ ...input, mention: 'here' }, now).text).toMatch(/^<!here> /);
    expect(renderSlackThreadReply({ ...input, mention: 'everyone>' }, now).text).not.toContain('<');
  });

  it.each(notificationKinds.filter((k) => k !== 'escalated'))(
    '%s: no mention even when one is given',
    (kind) => {
      const input = { incident: incident(), kind, links: {}, mention: 'S0ONCALL' };
      expect(mentions(renderSlack(input, now))).toEqual([]);
      expect(mentions(renderSlackThreadReply(input, now))).toEqual([]);
    },
  );

  it('escapes Slack control characters in every text that comes from the incident', () => {
    const evil = incident({
      title: '<!channel> down',
      summary: 'ping <!here> & <@U123>',
      labels: { team: '<!subteam^S1>', q: 'a<b' },
      ruleId: '<@U9>',
      acknowledgedBy: '<!everyone>',
      state: 'acknowledged',
      heldBy: '<@U7>',
      held: 'silenced',
    });
    for (const kind of notificationKinds) {
      const input = { incident: evil, kind, links: {}, note: '<!channel> note' };
      expect(mentions(renderSlack(input, now))).toEqual([]);
      expect(mentions(renderSlackThreadReply(input, now))).toEqual([]);
    }
    const text = everything(render('opened', evil));
    expect(msgHeader(render('opened', evil))).toEqual({
      type: 'plain_text',
      text: '🔴 <!channel> down',
      emoji: true,
    });
    expect(text).toContain('ping &lt;!here&gt; &amp; &lt;@U123&gt;');
    expect(text).toContain('team=&lt;!subteam^S1&gt;');
  });
});

describe('thread replies', () => {
  it.each([
    ['acknowledged', acked, '👀 Acknowledged by alice (slack U024BE7LH) at 10:05 UTC: escalation stopped'],
    ['unacknowledged', incident(), '↩️ No longer acknowledged: firing again, escalation starts over'],
    ['ack-expired', incident(), '⏰ The acknowledgement expired and it is still firing, after 12 min'],
    ['reminder', incident(), '🔔 Reminder: still firing after 12 min'],
    ['released', incident(), '🔔 No longer held: still firing, since 10:00 UTC (12 min)'],
    [
      'flapping',
      incident(),
      '🔁 Flapping: its alert keeps changing state; changes are held until it is stable',
    ],
    ['stable', incident(), '🟢 Stable again: changes are told again'],
    [
      'silenced',
      incident({ heldBy: 's-9' }),
      '🔕 Silenced (silence s-9): nothing more until the silence ends, except its resolution',
    ],
    ['escalated', incident({ escalationStep: 2 }), '⚠️ Escalated (step 2): not acknowledged within 15 min'],
    ['resolved', resolvedByAgent, '✅ Resolved at 10:12 UTC after 12 min: the condition cleared'],
  ] as const)('%s', (kind, i, line) => {
    expect(renderSlackThreadReply({ incident: i, kind, links: {} }, now).text).toBe(`${line} — incident #42`);
  });
});
