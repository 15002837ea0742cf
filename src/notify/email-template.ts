import type { Incident } from '../contracts/incident.js';
import type { NotificationKind } from '../contracts/channels.js';
import {
  htmlEscape,
  labelsText,
  oneLine,
  severityEmoji,
  severityLabel,
  sinceText,
  stateLine,
  type RenderInput,
} from './format.js';

/** Pure renderer: Incident + kind + links → mail subject, text and HTML bodies. No I/O. */

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
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
    case 'unacknowledged':
      return `Incident #${i.id} is no longer acknowledged`;
    case 'ack-expired':
      return `Incident #${i.id}: acknowledgement expired, still firing`;
    case 'released':
      return `Incident #${i.id} is firing (no longer ${i.held ?? 'held'})`;
    case 'flapping':
      return `Incident #${i.id}: its alert is flapping; further changes are held`;
    case 'stable':
      return `Incident #${i.id}: its alert is stable again`;
    case 'silenced':
      return `Incident #${i.id} silenced`;
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
    ...(input.note ? [input.note, ''] : []),
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
    input.note ? `<p><strong>${e(input.note)}</strong></p>` : '',
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
