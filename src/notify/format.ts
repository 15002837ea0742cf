import type { Severity } from '../contracts/incident.js';
import type { NotificationContext } from './channel.js';

/**
 * Text helpers shared by the Slack and email renderers. No clock of their own (`now` is a
 * parameter) so tests can pin every string.
 */

export type RenderInput = Pick<NotificationContext, 'incident' | 'kind' | 'links' | 'note'>;

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

export function labelsText(labels: Record<string, string>): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}
