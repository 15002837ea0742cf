import type { Incident, Severity } from '../incidents/types.js';
import type { NotificationContext, NotificationKind } from './channel.js';

/**
 * Pure renderers: Incident + kind + links → Slack Block Kit / email bodies. No I/O and no clock
 * of their own (`now` is a parameter) so tests can pin every string.
 */

export type RenderInput = Pick<NotificationContext, 'incident' | 'kind' | 'links'>;

/** The subset of Block Kit we emit; structurally assignable to @slack/web-api's block types. */
export interface SlackText {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}
export interface SlackButton {
  type: 'button';
  text: SlackText;
  action_id: string;
  value?: string;
  url?: string;
  style?: 'primary' | 'danger';
}
export type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'actions'; block_id?: string; elements: SlackButton[] };

export interface SlackMessage {
  /** Fallback for notifications and screen readers; Slack warns when it is missing. */
  text: string;
  blocks: SlackBlock[];
}

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

export const slackActionIds = {
  ack: 'vigil_ack',
  resolve: 'vigil_resolve',
  silence: 'vigil_silence',
} as const;

const emojis: Record<Severity, string> = { critical: '🔴', high: '🟠', warning: '🟡', info: '🔵' };

export function severityEmoji(severity: Severity): string {
  return emojis[severity];
}

/** Slack treats `<`, `>` and `&` as control characters (`<!channel>` pings everyone): escape incident text. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function htmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Titles end up in headers (Slack header, mail Subject): a stray newline must not split them. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** "45s", "3m 5s", "2h 10m", "1d 4h": two units are enough to tell a blip from an outage. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

const mrkdwn = (text: string): SlackText => ({ type: 'mrkdwn', text });
const plain = (text: string): SlackText => ({ type: 'plain_text', text, emoji: true });

export function severityLabel(severity: Severity): string {
  return severity.toUpperCase();
}

/** "2024-05-01T10:00:00.000Z (3m ago)": absolute for the record, relative for the reader. */
export function sinceText(startedAt: Date, now: Date): string {
  return `${startedAt.toISOString()} (${formatElapsed(now.getTime() - startedAt.getTime())} ago)`;
}

/** One line saying where the incident stands after this notification. */
export function stateLine(input: RenderInput, now: Date): string {
  const { incident: i, kind } = input;
  if (kind === 'resolved' || i.state === 'resolved') {
    const at = i.resolvedAt ?? now;
    return `✅ Resolved at ${at.toISOString()} (lasted ${formatElapsed(at.getTime() - i.startedAt.getTime())})`;
  }
  const acked =
    i.state === 'acknowledged'
      ? `acknowledged by ${i.acknowledgedBy ?? 'someone'}${i.acknowledgedAt ? ` at ${i.acknowledgedAt.toISOString()}` : ''}`
      : undefined;
  if (kind === 'escalated') {
    return `⚠️ Escalated: ${acked ?? `not acknowledged within ${formatElapsed(i.ackSlaMs)}`}`;
  }
  if (kind === 'reminder') {
    return `🔔 Reminder: still ${acked ?? 'firing'} after ${formatElapsed(now.getTime() - i.startedAt.getTime())}`;
  }
  if (acked) return `👀 ${acked.charAt(0).toUpperCase()}${acked.slice(1)}`;
  return '🔥 Firing';
}

function labelsText(labels: Record<string, string>): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

export function renderSlack(input: RenderInput, now: Date = new Date()): SlackMessage {
  const { incident: i, kind, links } = input;
  const emoji = severityEmoji(i.severity);
  const sev = severityLabel(i.severity);
  const state = stateLine(input, now);
  const blocks: SlackBlock[] = [
    // Header blocks are plain_text (no escaping needed) and capped at 150 characters by Slack.
    { type: 'header', text: plain(truncate(`${emoji} ${oneLine(i.title)}`, 150)) },
    {
      type: 'section',
      fields: [
        mrkdwn(`*Incident*\n#${slackEscape(i.id)}`),
        mrkdwn(`*Rule*\n\`${slackEscape(i.ruleId)}\``),
        mrkdwn(`*Severity*\n${emoji} ${sev}`),
        mrkdwn(`*Value*\n${i.value === null ? '—' : String(i.value)}`),
        mrkdwn(`*Since*\n${sinceText(i.startedAt, now)}`),
      ],
    },
  ];
  if (i.summary.trim())
    blocks.push({ type: 'section', text: mrkdwn(truncate(slackEscape(i.summary), 3000)) });
  const labels = labelsText(i.labels);
  if (labels)
    blocks.push({ type: 'context', elements: [mrkdwn(truncate(`Labels: ${slackEscape(labels)}`, 2000))] });
  blocks.push({ type: 'context', elements: [mrkdwn(slackEscape(state))] });

  // Every open incident keeps its buttons (acknowledged ones minus Acknowledge); resolved ones have none.
  if (kind !== 'resolved' && i.state !== 'resolved') {
    const buttons: SlackButton[] = [];
    if (i.state !== 'acknowledged') {
      buttons.push({
        type: 'button',
        text: plain('Acknowledge'),
        action_id: slackActionIds.ack,
        value: i.id,
        style: 'primary',
      });
    }
    buttons.push(
      { type: 'button', text: plain('Resolve'), action_id: slackActionIds.resolve, value: i.id },
      {
        type: 'button',
        text: plain('Silence'),
        action_id: slackActionIds.silence,
        value: i.id,
        style: 'danger',
      },
    );
    // A link button still sends an interaction payload; the distinct action_id lets the endpoint ignore it.
    if (links.incident)
      buttons.push({ type: 'button', text: plain('Open'), action_id: 'vigil_open', url: links.incident });
    blocks.push({ type: 'actions', block_id: `vigil_incident_${i.id}`, elements: buttons });
  }

  const text = slackEscape(`${emoji} [${sev}] ${oneLine(i.title)} (incident #${i.id}, ${i.state}): ${state}`);
  return { text, blocks };
}

/** Thread reply for re-fires: short, so the channel's thread view reads as a timeline. */
export function renderSlackThreadReply(input: RenderInput, now: Date = new Date()): SlackMessage {
  const line = slackEscape(stateLine(input, now));
  const text = `${line} — incident #${slackEscape(input.incident.id)}`;
  return { text, blocks: [{ type: 'section', text: mrkdwn(text) }] };
}

export function emailSubject(incident: Incident, kind: NotificationKind): string {
  const tag = kind === 'resolved' ? 'RESOLVED' : severityLabel(incident.severity);
  return `[Vigil][${tag}] ${oneLine(incident.title)} (#${oneLine(incident.id)})`;
}

function headline(input: RenderInput): string {
  const { incident: i, kind } = input;
  switch (kind) {
    case 'opened':
      return `Incident #${i.id} opened`;
    case 'acknowledged':
      return `Incident #${i.id} acknowledged by ${i.acknowledgedBy ?? 'someone'}`;
    case 'resolved':
      return `Incident #${i.id} resolved`;
    case 'escalated':
      return `Incident #${i.id} escalated`;
    case 'reminder':
      return `Reminder: incident #${i.id} is still open`;
  }
}

export function renderEmail(input: RenderInput, now: Date = new Date()): EmailMessage {
  const { incident: i, links } = input;
  const rows: [string, string][] = [
    ['Severity', severityLabel(i.severity)],
    ['Rule', i.ruleId],
    ['State', i.state],
    ['Value', i.value === null ? '—' : String(i.value)],
    ['Since', sinceText(i.startedAt, now)],
  ];
  const labels = labelsText(i.labels);
  if (labels) rows.push(['Labels', labels]);
  const state = stateLine(input, now);
  const head = headline(input);

  const text = [
    head,
    '',
    oneLine(i.title),
    state,
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    ...(i.summary.trim() ? ['', i.summary] : []),
    '',
    ...(links.ack ? [`Acknowledge: ${links.ack}`] : []),
    ...(links.incident ? [`Open in Vigil: ${links.incident}`] : []),
    '-- ',
    'Vigil alerting agent',
  ].join('\n');

  const e = htmlEscape;
  const linkHtml = [
    links.ack ? `<a href="${e(links.ack)}">Acknowledge</a>` : '',
    links.incident ? `<a href="${e(links.incident)}">Open in Vigil</a>` : '',
  ].filter(Boolean);
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<p>${e(head)}</p>`,
    `<h2>${e(severityEmoji(i.severity))} ${e(oneLine(i.title))}</h2>`,
    `<p><strong>${e(state)}</strong></p>`,
    '<table cellpadding="4">',
    ...rows.map(([k, v]) => `<tr><th align="left">${e(k)}</th><td>${e(v)}</td></tr>`),
    '</table>',
    i.summary.trim() ? `<pre style="white-space:pre-wrap">${e(i.summary)}</pre>` : '',
    linkHtml.length ? `<p>${linkHtml.join(' · ')}</p>` : '',
    '<p style="color:#888">Vigil alerting agent</p>',
    '</body></html>',
  ]
    .filter(Boolean)
    .join('\n');

  return { subject: emailSubject(i, input.kind), text, html };
}
