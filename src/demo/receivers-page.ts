import { htmlEscape as e } from '../notify/format.js';
import type { BoardEntry } from './receivers-board.js';
import { unslack } from './say.js';
import type { EmulatedMessage } from './slack-emulator.js';
import type { ReceivedMail } from './smtp-sink.js';

/** The receivers' web page: every Slack message as it is now, its thread, its buttons; every mail. */

/** Slack mrkdwn to HTML: `<url|label>` links and mentions become markup, everything else is text. */
export function slackToHtml(text: string): string {
  return text
    .split(/(<[^<>]+>)/)
    .map((part) => {
      const m = /^<([^|>]+)(?:\|([^>]*))?>$/.exec(part);
      if (!m) return e(unslack(part));
      const [, target = '', label] = m;
      if (/^https?:/.test(target))
        return `<a href="${e(unslack(target))}">${e(unslack(label ?? target))}</a>`;
      // A mention: shown bold, so one can see who an escalation paged.
      return `<b class="mention">@${e(target.replace(/^[@!](subteam\^)?/, ''))}</b>`;
    })
    .join('')
    .replace(/\n/g, '<br>');
}

interface TextLike {
  type?: unknown;
  text?: unknown;
}

/** The texts of a block, in reading order. */
function blockHtml(block: unknown): string {
  const b = block as { type?: unknown; text?: TextLike; fields?: TextLike[]; elements?: TextLike[] };
  const text = (t: TextLike | undefined) =>
    typeof t?.text !== 'string' ? '' : t.type === 'mrkdwn' ? slackToHtml(t.text) : e(t.text);
  switch (b.type) {
    case 'header':
      return `<h3>${text(b.text)}</h3>`;
    case 'section':
      return [
        b.text ? `<p>${text(b.text)}</p>` : '',
        b.fields ? `<div class="fields">${b.fields.map((f) => `<div>${text(f)}</div>`).join('')}</div>` : '',
      ].join('');
    case 'context':
      return `<p class="context">${(b.elements ?? []).map(text).join(' ')}</p>`;
    default:
      return '';
  }
}

function messageHtml(m: Pick<EmulatedMessage, 'text' | 'blocks' | 'attachments'>): string {
  const blocks = Array.isArray(m.blocks) ? (m.blocks as unknown[]) : [];
  const attachments = Array.isArray(m.attachments)
    ? (m.attachments as { color?: unknown; blocks?: unknown }[])
    : [];
  const body = blocks.length ? blocks.map(blockHtml).join('') : `<p>${slackToHtml(m.text ?? '')}</p>`;
  const bars = attachments.map((a) => {
    const color = typeof a.color === 'string' && /^#[0-9A-Fa-f]{3,6}$/.test(a.color) ? a.color : '#ddd';
    const inner = Array.isArray(a.blocks) ? (a.blocks as unknown[]).map(blockHtml).join('') : '';
    return `<div class="attachment" style="border-left:4px solid ${color}">${inner}</div>`;
  });
  return body + bars.join('');
}

function entryHtml({ n, message, buttons }: BoardEntry): string {
  const forms = buttons.map(
    (b) =>
      `<form method="post" action="/press"><input type="hidden" name="channel" value="${e(message.channel)}">` +
      `<input type="hidden" name="ts" value="${e(message.ts)}"><input type="hidden" name="actionId" value="${e(b.actionId)}">` +
      `${b.value === undefined ? '' : `<input type="hidden" name="value" value="${e(b.value)}">`}` +
      `<button type="submit">${e(b.label)}</button></form>`,
  );
  const replies = message.replies.map((r) => `<li>${messageHtml(r)}</li>`).join('');
  return [
    `<article id="m${n}"><p class="meta">[${n}] channel ${e(message.channel)} · ts ${e(message.ts)}` +
      `${message.history.length ? ` · updated ${message.history.length}×` : ''}</p>`,
    messageHtml(message),
    forms.length ? `<div class="buttons">${forms.join('')}</div>` : '',
    replies ? `<ul class="thread">${replies}</ul>` : '',
    '</article>',
  ].join('\n');
}

/** Links in a mail's text, the Acknowledge link first: what a reader would click. */
function mailHtml(mail: ReceivedMail): string {
  const links = [...mail.text.matchAll(/^([A-Za-z ]+): (https?:\/\/\S+)$/gm)].map(
    ([, label = '', url = '']) => `<a href="${e(url)}">${e(label)}</a>`,
  );
  return [
    `<article><p class="meta">to ${e(mail.to.join(', '))} · ${e(mail.messageId ?? '')}</p>`,
    `<h3>${e(mail.subject)}</h3>`,
    links.length ? `<p class="links">${links.join(' · ')}</p>` : '',
    `<details><summary>text</summary><pre>${e(mail.text)}</pre></details>`,
    '</article>',
  ].join('\n');
}

export function renderPage(opts: {
  entries: BoardEntry[];
  mails: readonly ReceivedMail[];
  said?: string;
  requestUrl: string;
}): string {
  return [
    '<!doctype html><html><head><meta charset="utf-8"><title>Vigil receivers</title>',
    '<meta http-equiv="refresh" content="5">',
    '<style>body{font-family:sans-serif;max-width:60em;margin:1em auto}article{border:1px solid #ccc;padding:.5em 1em;margin:1em 0}',
    '.meta,.context{color:#666;font-size:90%}.fields{display:grid;grid-template-columns:1fr 1fr;gap:.3em}',
    '.attachment{padding-left:.8em}.buttons form{display:inline;margin-right:.4em}.said{background:#ffd}</style></head><body>',
    '<h1>Vigil receivers</h1>',
    opts.said ? `<p class="said">${e(opts.said)}</p>` : '',
    `<p>Buttons are signed and sent to ${e(opts.requestUrl)}.</p>`,
    '<h2>Slack</h2>',
    opts.entries.length ? [...opts.entries].reverse().map(entryHtml).join('\n') : '<p>No messages yet.</p>',
    '<h2>Email</h2>',
    opts.mails.length ? [...opts.mails].reverse().map(mailHtml).join('\n') : '<p>No mail yet.</p>',
    '</body></html>',
  ].join('\n');
}
