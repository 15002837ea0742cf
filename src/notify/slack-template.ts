import {
  labelsText,
  oneLine,
  severityEmoji,
  severityLabel,
  slackEscape,
  slackLink,
  slackMention,
  truncate,
  type RenderInput,
} from './format.js';
import { eventText, stateText, stateWord } from './story.js';
import { formatElapsed, sinceText } from './when.js';
import type { Severity } from '../contracts/incident.js';

/** Pure renderer: Incident + kind + links → Slack Block Kit. No I/O, so tests can pin every block. */

/** The subset of Block Kit we emit; structurally assignable to @slack/web-api's block types. */
export interface SlackText {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
  verbatim?: boolean;
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

/** Only attachments carry a colour bar: one holds the state line, coloured by severity while open. */
export interface SlackAttachment {
  color: string;
  fallback: string;
  blocks: SlackBlock[];
}

export interface SlackMessage {
  /** Fallback for notifications and screen readers; Slack warns when it is missing. */
  text: string;
  blocks: SlackBlock[];
  attachments?: SlackAttachment[];
}

export const slackActionIds = {
  ack: 'vigil_ack',
  resolve: 'vigil_resolve',
  silence: 'vigil_silence',
  notActionable: 'vigil_not_actionable',
  approve: 'vigil_approve',
  reject: 'vigil_reject',
} as const;

const colors: Record<Severity, string> = {
  critical: '#E01E5A',
  high: '#F2952F',
  warning: '#ECB22E',
  info: '#36C5F0',
};
/** A resolved incident loses its severity colour. */
export const resolvedColor = '#9E9E9E';

/**
 * verbatim: Slack still reads our own `<…>` markup (links, the escalation's mention) but does not
 * auto-parse the text, so a label reading "@here" or "#ops" stays words.
 */
const mrkdwn = (text: string): SlackText => ({ type: 'mrkdwn', text, verbatim: true });
const plain = (text: string): SlackText => ({ type: 'plain_text', text, emoji: true });
const button = (label: string, actionId: string, value: string, style?: 'primary' | 'danger') => ({
  type: 'button' as const,
  text: plain(label),
  action_id: actionId,
  value,
  ...(style ? { style } : {}),
});

/** Whom this notification pages: only an escalation pages anyone. */
function mentionOf(input: RenderInput): string | undefined {
  return input.kind === 'escalated' ? slackMention(input.mention) : undefined;
}

function buttons(input: RenderInput): SlackBlock[] {
  const { incident: i } = input;
  if (i.state === 'resolved') return [];
  const silence = `Silence ${formatElapsed(input.silenceForMs ?? 3_600_000)}`;
  const elements: SlackButton[] = [
    ...(i.state === 'firing' ? [button('Acknowledge', slackActionIds.ack, i.id, 'primary')] : []),
    button('Resolve', slackActionIds.resolve, i.id),
    ...(i.held === 'silenced' ? [] : [button(silence, slackActionIds.silence, i.id, 'danger')]),
    button('Not actionable', slackActionIds.notActionable, i.id),
  ];
  return [{ type: 'actions', block_id: `vigil_incident_${i.id}`, elements }];
}

/** The incident's one message, rendered from the incident as it is now; edited in place on every change. */
export function renderSlack(input: RenderInput, now: Date = new Date()): SlackMessage {
  const { incident: i, links } = input;
  const resolved = i.state === 'resolved';
  const emoji = resolved ? '✅' : severityEmoji(i.severity);
  const sev = severityLabel(i.severity);
  const state = stateText(input, now);
  const mention = mentionOf(input);
  const blocks: SlackBlock[] = [
    // Header blocks are plain_text (no markup, so no mention either) and capped at 150 characters.
    { type: 'header', text: plain(truncate(`${emoji} ${oneLine(i.title)}`, 150)) },
  ];
  if (mention)
    blocks.push({ type: 'section', text: mrkdwn(`${mention} ${slackEscape(eventText(input, now))}`) });
  if (i.summary.trim())
    blocks.push({ type: 'section', text: mrkdwn(truncate(slackEscape(i.summary), 3000)) });
  if (input.description?.trim())
    blocks.push({
      type: 'context',
      elements: [mrkdwn(truncate(slackEscape(input.description.trim()), 2000))],
    });
  // An opening's note beyond its summary: it fired again after a resolve by hand, or why it is held.
  if (input.kind === 'opened' && input.why)
    blocks.push({ type: 'context', elements: [mrkdwn(truncate(slackEscape(input.why), 2000))] });
  blocks.push({
    type: 'section',
    fields: [
      mrkdwn(`*Severity*\n${severityEmoji(i.severity)} ${sev}`),
      mrkdwn(`*Rule*\n\`${slackEscape(i.ruleId)}\``),
      mrkdwn(`*Since*\n${sinceText(i.startedAt, input.timeZone ?? 'UTC', now)}`),
      mrkdwn(`*State*\n${slackEscape(stateWord(i))}`),
      mrkdwn(`*Incident*\n#${slackEscape(i.id)}`),
      ...(i.value === null ? [] : [mrkdwn(`*Value*\n${i.value}`)]),
    ],
  });
  const labels = labelsText(i.labels);
  if (labels)
    blocks.push({ type: 'context', elements: [mrkdwn(truncate(`Labels: ${slackEscape(labels)}`, 2000))] });
  const linkList = [
    ...(links.runbook ? [slackLink(links.runbook, '📖 Runbook')] : []),
    ...(links.incident ? [slackLink(links.incident, `Incident #${i.id} in Vigil`)] : []),
  ];
  if (linkList.length) blocks.push({ type: 'context', elements: [mrkdwn(linkList.join('  ·  '))] });
  if (input.note) blocks.push({ type: 'context', elements: [mrkdwn(`ℹ️ ${slackEscape(input.note)}`)] });
  blocks.push(...buttons(input));

  const attachments: SlackAttachment[] = [
    {
      color: resolved ? resolvedColor : colors[i.severity],
      fallback: slackEscape(state),
      blocks: [{ type: 'section', text: mrkdwn(slackEscape(state)) }],
    },
  ];
  // The fallback text is what notifications preview: a resolved incident must not read as a red alert.
  const tag = resolved ? '✅ [RESOLVED]' : `${emoji} [${sev}]`;
  const text = `${mention ? `${mention} ` : ''}${slackEscape(`${tag} ${oneLine(i.title)} (incident #${i.id}, ${stateWord(i)}): ${state}`)}`;
  return { text, blocks, attachments };
}

/**
 * Thread reply: one line of the incident's timeline. Only an escalation's reply mentions anyone
 * (its target's `mention`); every other reply is silent.
 */
export function renderSlackThreadReply(input: RenderInput, now: Date = new Date()): SlackMessage {
  const mention = mentionOf(input);
  // A remediation's note is a short report (what ran, each step, the run history): its lines stay.
  const report = input.kind === 'remediation' || input.kind === 'approval';
  const note = input.why ? (report ? truncate(input.why.trim(), 2800) : oneLine(input.why)) : '';
  const why = note ? (report ? `\n${slackEscape(note)}` : `\n_${slackEscape(note)}_`) : '';
  const line = `${slackEscape(eventText(input, now))} — incident #${slackEscape(input.incident.id)}${why}`;
  const text = mention ? `${mention} ${line}` : line;
  return { text, blocks: [{ type: 'section', text: mrkdwn(text) }, ...approvalButtons(input)] };
}

/** Approve / Reject under a run's request for approval, while its incident is open. */
function approvalButtons(input: RenderInput): SlackBlock[] {
  const { incident: i, runId } = input;
  if (input.kind !== 'approval' || !runId || i.state === 'resolved') return [];
  const value = `${i.id}:${runId}`;
  return [
    {
      type: 'actions',
      block_id: `vigil_run_${runId}`,
      elements: [
        button('Approve', slackActionIds.approve, value, 'primary'),
        button('Reject', slackActionIds.reject, value, 'danger'),
      ],
    },
  ];
}
