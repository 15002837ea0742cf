import type { Incident } from '../contracts/incident.js';
import type { NotificationKind } from '../contracts/channels.js';
import { htmlEscape, labelsText, oneLine, severityEmoji, severityLabel, type RenderInput } from './format.js';
import { eventText, stateText, stateWord } from './story.js';
import { sinceText } from './when.js';

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

/** First line of the mail: what this one says. "Incident #42 opened", "Incident #42: ⚠️ Escalated: …". */
function headline(input: RenderInput, now: Date): string {
  const { incident: i, kind } = input;
  return kind === 'opened' ? `Incident #${i.id} opened` : `Incident #${i.id}: ${eventText(input, now)}`;
}

export function renderEmail(input: RenderInput, now: Date = new Date()): EmailMessage {
  const { incident: i, links } = input;
  const rows: [string, string][] = [
    ['Severity', severityLabel(i.severity)],
    ['Rule', i.ruleId],
    ['State', stateWord(i)],
    ...(i.value === null ? [] : [['Value', String(i.value)] as [string, string]]),
    ['Since', sinceText(i.startedAt, input.timeZone ?? 'UTC', now)],
  ];
  const labels = labelsText(i.labels);
  if (labels) rows.push(['Labels', labels]);
  const state = stateText(input, now);
  const head = headline(input, now);
  const linkList: [string, string][] = [
    ...(links.ack ? [['Acknowledge', links.ack] as [string, string]] : []),
    ...(links.runbook ? [['Runbook', links.runbook] as [string, string]] : []),
    ...(links.incident ? [['Open in Vigil', links.incident] as [string, string]] : []),
  ];

  const text = [
    ...(input.note ? [input.note, ''] : []),
    head,
    ...(input.why ? [input.why] : []),
    '',
    oneLine(i.title),
    state,
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    ...(i.summary.trim() ? ['', i.summary] : []),
    ...(input.description?.trim() ? ['', input.description.trim()] : []),
    '',
    ...linkList.map(([k, v]) => `${k}: ${v}`),
    ...(links.ack ? ['(the link asks you to confirm before it acknowledges)'] : []),
    '-- ',
    'Vigil alerting agent',
  ].join('\n');

  const e = htmlEscape;
  const linkHtml = linkList.map(([k, v]) => `<a href="${e(v)}">${e(k)}</a>`);
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    input.note ? `<p><strong>${e(input.note)}</strong></p>` : '',
    `<p>${e(head)}</p>`,
    input.why ? `<p><em>${e(input.why)}</em></p>` : '',
    `<h2>${e(i.state === 'resolved' ? '✅' : severityEmoji(i.severity))} ${e(oneLine(i.title))}</h2>`,
    `<p><strong>${e(state)}</strong></p>`,
    '<table cellpadding="4">',
    ...rows.map(([k, v]) => `<tr><th align="left">${e(k)}</th><td>${e(v)}</td></tr>`),
    '</table>',
    i.summary.trim() ? `<pre style="white-space:pre-wrap">${e(i.summary)}</pre>` : '',
    input.description?.trim() ? `<p>${e(input.description.trim())}</p>` : '',
    linkHtml.length ? `<p>${linkHtml.join(' · ')}</p>` : '',
    '<p style="color:#888">Vigil alerting agent</p>',
    '</body></html>',
  ]
    .filter(Boolean)
    .join('\n');

  return { subject: emailSubject(i, input.kind), text, html };
}
