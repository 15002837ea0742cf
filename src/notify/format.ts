import type { Severity } from '../contracts/incident.js';
import type { NotificationContext } from './channel.js';

/**
 * Text helpers shared by the Slack and email renderers. No clock of their own (`now` is a
 * parameter) so tests can pin every string.
 */

export interface RenderInput extends Pick<
  NotificationContext,
  'incident' | 'kind' | 'links' | 'note' | 'mention' | 'why' | 'description' | 'runId'
> {
  /** IANA zone of every time shown (`oncall.timeZone`); UTC when absent. */
  timeZone?: string;
  /** Length of the Silence button's silence (`oncall.silenceFor`), for its label. */
  silenceForMs?: number;
}

const emojis: Record<Severity, string> = { critical: '🔴', high: '🟠', warning: '🟡', info: '🔵' };

export function severityEmoji(severity: Severity): string {
  return emojis[severity];
}

export function severityLabel(severity: Severity): string {
  return severity.toUpperCase();
}

/** Slack treats `<`, `>` and `&` as control characters (`<!channel>` pings everyone): escape incident text. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A target's `mention` as Slack markup: user group `S…` → `<!subteam^S…>`, user `U…`/`W…` → `<@U…>`,
 * `here`/`channel` → `<!here>`/`<!channel>`. Anything else is no mention at all: this is the only
 * place Vigil writes mention markup, so a config typo cannot smuggle other markup into a message.
 */
export function slackMention(value: string | undefined): string | undefined {
  const v = value?.trim().replace(/^@/, '') ?? '';
  if (/^S[A-Z0-9]{2,}$/.test(v)) return `<!subteam^${v}>`;
  if (/^[UW][A-Z0-9]{2,}$/.test(v)) return `<@${v}>`;
  if (v === 'here' || v === 'channel') return `<!${v}>`;
  return undefined;
}

/** A URL inside Slack's `<url|label>` link markup: the characters that would end the link are encoded. */
export function slackLink(url: string, label: string): string {
  const safe = url.replace(/[<>| ]/g, (c) => encodeURIComponent(c)).replace(/&/g, '&amp;');
  return `<${safe}|${slackEscape(label)}>`;
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

export function labelsText(labels: Record<string, string>): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}
