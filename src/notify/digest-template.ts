import type { Incident } from '../contracts/incident.js';
import type { DigestContext } from './channel.js';
import type { EmailMessage } from './email-template.js';
import { htmlEscape, labelsText, oneLine, severityEmoji, slackEscape, truncate } from './format.js';
import type { SlackBlock, SlackMessage } from './slack-template.js';

/** Pure renderers for a storm's digest. No I/O; `now` is a parameter. */

/** Slack allows 50 blocks and 3,000 characters a section: list this many, count the rest. */
const LISTED = 40;

function line(i: Incident): string {
  const labels = labelsText(i.labels);
  const state = i.state === 'resolved' ? '✅ resolved' : i.state;
  return `${severityEmoji(i.severity)} #${i.id} ${oneLine(i.title)}${labels ? ` (${labels})` : ''} — ${state}`;
}

/** Firing first (newest first), then the resolved ones: what still needs eyes comes on top. */
function ordered(incidents: readonly Incident[]): Incident[] {
  return [...incidents].sort(
    (a, b) => Number(a.state === 'resolved') - Number(b.state === 'resolved') || Number(b.id) - Number(a.id),
  );
}

function counts(incidents: readonly Incident[]) {
  const open = incidents.filter((i) => i.state !== 'resolved').length;
  return { open, resolved: incidents.length - open };
}

export function renderSlackDigest(ctx: DigestContext, now: Date = new Date()): SlackMessage {
  const { open, resolved } = counts(ctx.incidents);
  const list = ordered(ctx.incidents);
  const shown = list.slice(0, LISTED);
  const head = `🌩️ Alert storm: ${ctx.incidents.length} incidents (${open} open, ${resolved} resolved)`;
  const lines = shown.map((i) => slackEscape(line(i)));
  if (list.length > shown.length)
    lines.push(`…and ${list.length - shown.length} more (vigil incidents list)`);
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(head, 150), emoji: true } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Too many incidents opened at once to post each alone; this message lists them and is kept up to date (${now.toISOString()}).`,
        },
      ],
    },
  ];
  // One section per 20 lines keeps every section under Slack's 3,000 characters.
  for (let k = 0; k < lines.length; k += 20) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(lines.slice(k, k + 20).join('\n'), 3000) },
    });
  }
  if (ctx.note) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: slackEscape(ctx.note) }] });
  return { text: slackEscape(head), blocks };
}

/** Thread reply on the digest when listed incidents escalate: one page for all of them. */
export function renderSlackDigestEscalation(ctx: DigestContext): SlackMessage {
  const list = ordered(ctx.escalated);
  const lines = list.slice(0, LISTED).map((i) => slackEscape(line(i)));
  if (list.length > LISTED) lines.push(`…and ${list.length - LISTED} more`);
  const head = `⚠️ ${list.length} incident${list.length === 1 ? '' : 's'} of this storm not acknowledged within the ack SLA`;
  const blocks: SlackBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${slackEscape(head)}*` } },
  ];
  for (let k = 0; k < lines.length; k += 20) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(lines.slice(k, k + 20).join('\n'), 3000) },
    });
  }
  return { text: slackEscape(head), blocks };
}

export function renderEmailDigest(ctx: DigestContext): EmailMessage {
  const parts: string[] = [];
  if (ctx.added.length) parts.push(`${ctx.added.length} opened`);
  if (ctx.resolved.length) parts.push(`${ctx.resolved.length} resolved`);
  if (ctx.escalated.length) parts.push(`${ctx.escalated.length} escalated`);
  const subject = `[Vigil][STORM] ${parts.join(', ')} (digest #${ctx.digestId})`;
  const section = (title: string, list: readonly Incident[]) =>
    list.length ? [title, ...ordered(list).map((i) => `  ${line(i)}`), ''] : [];
  const text = [
    ...(ctx.note ? [ctx.note, ''] : []),
    `Alert storm: too many incidents at once to mail each alone. Digest #${ctx.digestId}, ${ctx.incidents.length} incidents so far.`,
    '',
    ...section('Opened:', ctx.added),
    ...section('Resolved:', ctx.resolved),
    ...section('Escalated (not acknowledged within the ack SLA):', ctx.escalated),
    '-- ',
    'Vigil alerting agent',
  ].join('\n');
  const e = htmlEscape;
  const htmlSection = (title: string, list: readonly Incident[]) =>
    list.length
      ? `<h3>${e(title)}</h3><ul>${ordered(list)
          .map((i) => `<li>${e(line(i))}</li>`)
          .join('')}</ul>`
      : '';
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    ctx.note ? `<p><strong>${e(ctx.note)}</strong></p>` : '',
    `<p>Alert storm: too many incidents at once to mail each alone. Digest #${e(ctx.digestId)}, ${ctx.incidents.length} incidents so far.</p>`,
    htmlSection('Opened', ctx.added),
    htmlSection('Resolved', ctx.resolved),
    htmlSection('Escalated (not acknowledged within the ack SLA)', ctx.escalated),
    '<p style="color:#888">Vigil alerting agent</p>',
    '</body></html>',
  ]
    .filter(Boolean)
    .join('\n');
  return { subject, text, html };
}
