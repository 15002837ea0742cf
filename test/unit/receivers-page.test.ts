import { describe, it, expect } from 'vitest';
import { Board, buttonsOf } from '../../src/demo/receivers-board.js';
import { renderPage, slackToHtml } from '../../src/demo/receivers-page.js';
import type { EmulatedMessage } from '../../src/demo/slack-emulator.js';
import { renderSlack } from '../../src/notify/slack-template.js';
import { incident } from '../support/incident.js';

const now = new Date('2024-05-01T10:12:00.000Z');

function emulated(over: Partial<EmulatedMessage>): EmulatedMessage {
  return {
    channel: 'C0ALERTS',
    ts: '1700000000.000100',
    threadTs: undefined,
    text: '',
    blocks: [],
    attachments: undefined,
    metadata: undefined,
    replies: [],
    history: [],
    ...over,
  };
}

describe('receivers page', () => {
  it('turns Slack links and mentions into markup and escapes everything else', () => {
    expect(slackToHtml('a &lt;b&gt; <https://x.test/?a=1&amp;b=2|run"book> <!subteam^S1> <@U2>')).toBe(
      'a &lt;b&gt; <a href="https://x.test/?a=1&amp;b=2">run&quot;book</a> <b class="mention">@S1</b> <b class="mention">@U2</b>',
    );
    expect(slackToHtml('<script>x</script> <javascript:alert(1)|y>')).not.toMatch(/<script|href="javascript/);
  });

  it('shows a Vigil message with its colour bar, and each button as a form carrying the incident id', () => {
    const msg = renderSlack({ incident: incident({ title: '<img src=x>' }), kind: 'opened', links: {} }, now);
    const m = emulated({ text: msg.text, blocks: msg.blocks, attachments: msg.attachments });
    expect(buttonsOf(m).map((b) => `${b.actionId}=${b.value}`)).toEqual([
      'vigil_ack=42',
      'vigil_resolve=42',
      'vigil_silence=42',
      'vigil_not_actionable=42',
    ]);
    const board = new Board(() => [m]);
    const html = renderPage({
      entries: board.entries(),
      mails: [],
      requestUrl: 'http://agent/slack/interactions',
    });
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x&gt;');
    expect(html).toContain('border-left:4px solid #E01E5A');
    expect(html).toContain(
      '<input type="hidden" name="actionId" value="vigil_ack"><input type="hidden" name="value" value="42">',
    );
    expect(board.forIncident('42', 'vigil_resolve')?.n).toBe(1);
    expect(board.forIncident('7', 'vigil_resolve')).toBeUndefined();
  });
});
