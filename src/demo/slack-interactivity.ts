import { randomBytes } from 'node:crypto';
import { slackSignatureHeaders } from '../api/slack-signature.js';
import type { SlackSocketServer } from './slack-socket-server.js';

/** How pressed buttons reach the agent: a signed POST to its request URL, or its Socket Mode connection. */
export type InteractivityConfig = { requestUrl: string; signingSecret: string } | { socketMode: true };

export interface PressOptions {
  channel: string;
  ts: string;
  actionId: string;
  /** Default: the value of the message's button with this action id. */
  value?: string;
  user?: { id: string; name: string };
  /** HTTP only, for tests of refused requests: sign as of this time, or with another secret. */
  timestampSec?: number;
  signingSecret?: string;
}

/** Exactly what was sent, so a test can send the same bytes again (a replay). */
export interface SignedInteraction {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface PressResult {
  status: number;
  body: string;
  request?: SignedInteraction;
}

interface Button {
  action_id?: unknown;
  value?: unknown;
  text?: unknown;
}
interface Block {
  type?: unknown;
  block_id?: unknown;
  elements?: Button[];
}

export interface PressedMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  blocks: unknown;
}

function findButton(blocks: unknown, actionId: string): { block: Block; button: Button } | undefined {
  for (const block of Array.isArray(blocks) ? (blocks as Block[]) : []) {
    if (block.type !== 'actions') continue;
    const button = block.elements?.find((e) => e.action_id === actionId);
    if (button) return { block, button };
  }
  return undefined;
}

/** A `block_actions` payload shaped like Slack's for a press of one button of a posted message. */
export function blockActionsPayload(
  message: PressedMessage,
  opts: PressOptions,
  responseUrl: string,
): Record<string, unknown> {
  const found = findButton(message.blocks, opts.actionId);
  const value = opts.value ?? found?.button.value;
  if (value === undefined)
    throw new Error(`Slack emulator: message ${message.ts} has no button "${opts.actionId}" with a value`);
  const user = opts.user ?? { id: 'U0PRESSER', name: 'alice' };
  const now = Date.now() / 1000;
  const actionTs = now.toFixed(6);
  return {
    type: 'block_actions',
    user: { id: user.id, username: user.name, name: user.name, team_id: 'T000' },
    api_app_id: 'A000',
    token: 'emulated-verification-token',
    container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
    trigger_id: `${Math.floor(now)}.${randomBytes(4).readUInt32BE()}.${randomBytes(16).toString('hex')}`,
    team: { id: 'T000', domain: 'vigil-test' },
    channel: { id: message.channel, name: message.channel.toLowerCase() },
    message: {
      type: 'message',
      user: 'U000',
      bot_id: 'B000',
      ts: message.ts,
      text: message.text,
      blocks: message.blocks,
    },
    state: { values: {} },
    response_url: responseUrl,
    actions: [
      {
        type: 'button',
        action_id: opts.actionId,
        block_id: typeof found?.block.block_id === 'string' ? found.block.block_id : 'emulated',
        text: found?.button.text ?? { type: 'plain_text', text: opts.actionId },
        value,
        action_ts: actionTs,
      },
    ],
  };
}

/** Sends a signed interaction; `post` alone sends the same bytes again. */
export async function postInteraction(request: SignedInteraction): Promise<{ status: number; body: string }> {
  const res = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body });
  return { status: res.status, body: await res.text() };
}

export async function deliverPress(
  config: InteractivityConfig | undefined,
  payload: Record<string, unknown>,
  opts: PressOptions,
  socket: SlackSocketServer,
): Promise<PressResult> {
  if (!config) throw new Error('Slack emulator: call interactivity({...}) before press()');
  if ('socketMode' in config) return { status: 200, body: JSON.stringify(await socket.send(payload)) };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const request: SignedInteraction = {
    url: config.requestUrl,
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...slackSignatureHeaders(opts.signingSecret ?? config.signingSecret, body, opts.timestampSec),
    },
  };
  return { ...(await postInteraction(request)), request };
}
