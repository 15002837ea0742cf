import {
  labelsText,
  oneLine,
  severityEmoji,
  severityLabel,
  sinceText,
  slackEscape,
  stateLine,
  truncate,
  type RenderInput,
} from './format.js';

/** Pure renderer: Incident + kind + links → Slack Block Kit. No I/O, so tests can pin every block. */

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

export const slackActionIds = {
  ack: 'vigil_ack',
  resolve: 'vigil_resolve',
  silence: 'vigil_silence',
} as const;

const mrkdwn = (text: string): SlackText => ({ type: 'mrkdwn', text });
const plain = (text: string): SlackText => ({ type: 'plain_text', text, emoji: true });

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
  if (input.note) blocks.push({ type: 'context', elements: [mrkdwn(`ℹ️ ${slackEscape(input.note)}`)] });

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

  // The fallback text is what notifications preview: a resolved incident must not read as a red alert.
  const tag = i.state === 'resolved' || kind === 'resolved' ? '✅ [RESOLVED]' : `${emoji} [${sev}]`;
  const text = slackEscape(`${tag} ${oneLine(i.title)} (incident #${i.id}, ${i.state}): ${state}`);
  return { text, blocks };
}

/** Thread reply for re-fires: short, so the channel's thread view reads as a timeline. */
export function renderSlackThreadReply(input: RenderInput, now: Date = new Date()): SlackMessage {
  const line = slackEscape(stateLine(input, now));
  const text = `${line} — incident #${slackEscape(input.incident.id)}`;
  return { text, blocks: [{ type: 'section', text: mrkdwn(text) }] };
}
