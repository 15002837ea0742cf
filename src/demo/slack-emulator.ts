import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hrNow, waitForRecord } from './records.js';
import { createRateLimiter, type SlackRateLimit } from './slack-rate-limit.js';
import { readArgs } from './slack-wire.js';
import { SlackDirectory, type ChannelDeclaration, type Usergroup } from './slack-directory.js';
import {
  blockActionsPayload,
  deliverPress,
  postInteraction,
  type InteractivityConfig,
  type PressOptions,
  type PressResult,
  type SignedInteraction,
} from './slack-interactivity.js';
import { SlackSocketServer } from './slack-socket-server.js';

export { slackDefaultRateLimit, type SlackRateLimit } from './slack-rate-limit.js';
export type {
  InteractivityConfig,
  PressOptions,
  PressResult,
  SignedInteraction,
} from './slack-interactivity.js';

/**
 * `accepted: true` with 500: the message is posted, then the answer is lost (a timeout after Slack
 * took it), which is how a naive retry posts a duplicate.
 */
export type SlackFailure =
  { status: 429; retryAfterSec: number } | { status: 500; accepted?: boolean } | { error: string };

export interface SlackCall {
  method: string;
  /** The request body with JSON-encoded fields (blocks, attachments, metadata) decoded; no token. */
  args: Record<string, unknown>;
  at: number;
  hr: number;
  status: number;
  response: unknown;
  failure?: SlackFailure;
  /** Set when the emulator's own rate limit (not an injected fault) refused the call. */
  rateLimited?: { retryAfterSec: number };
}

export interface EmulatedMessage {
  channel: string;
  ts: string;
  threadTs: string | undefined;
  text: string | undefined;
  blocks: unknown;
  attachments: unknown;
  metadata: unknown;
  replies: EmulatedMessage[];
  /** Earlier versions, oldest first, each replaced by a chat.update. */
  history: { text: string | undefined; blocks: unknown; hr: number }[];
}

export interface SlackEmulator {
  url: string;
  calls: SlackCall[];
  messages(): EmulatedMessage[];
  message(channel: string, ts: string): EmulatedMessage | undefined;
  waitFor(predicate: (call: SlackCall) => boolean, opts?: { timeoutMs?: number }): Promise<SlackCall>;
  /** Calls `listener` on every future call; returns the unsubscribe function. */
  onCall(listener: (call: SlackCall) => void): () => void;
  failNext(count: number, failure: SlackFailure): void;
  /** Where pressed buttons go: a signed POST to the agent's request URL, or its Socket Mode connection. */
  interactivity(config: InteractivityConfig): void;
  /** Presses a button of a posted message, as a person in Slack would (see PressOptions). */
  press(opts: PressOptions): Promise<PressResult>;
  /** Sends a signed interaction again, byte for byte: a replay. */
  post(request: SignedInteraction): Promise<{ status: number; body: string }>;
  /** Open Socket Mode connections. */
  socketConnections(): number;
  /** Drops them all (no close handshake): the client has to reconnect. */
  dropSocketConnections(): void;
  /** conversations.info: channels exist with the bot in them unless declared otherwise. */
  declareChannel(channel: string, declaration: ChannelDeclaration): void;
  declareUsergroup(group: Usergroup): void;
  reset(): void;
  close(): Promise<void>;
}

const faultableMethods = new Set(['chat.postMessage', 'chat.update']);

/** Real Slack answers with channel ids; names are mapped to a stable fake id so threads line up. */
function channelId(channel: string): string {
  if (/^[CGD][A-Z0-9]{2,}$/.test(channel)) return channel;
  let hash = 0;
  for (const ch of channel.replace(/^#/, '')) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) >>> 0;
  return `C${hash.toString(16).toUpperCase().padStart(8, '0')}`;
}

function rejectionOf(method: string, knownMethod: boolean, token: unknown): string | undefined {
  if (!knownMethod) return 'unknown_method';
  if (typeof token !== 'string' || !token) return 'not_authed';
  // Socket Mode's connection is opened with the app-level token; everything else takes a bot token.
  if (method === 'apps.connections.open')
    return token.startsWith('xapp-') ? undefined : 'not_allowed_token_type';
  return token.startsWith('xox') ? undefined : 'invalid_auth';
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain' : 'application/json; charset=utf-8';
  res.writeHead(status, { 'content-type': type, ...headers }).end(text);
}

/** Newest first, like Slack; metadata only when asked for (include_all_metadata). */
function listed(list: EmulatedMessage[], args: Record<string, unknown>) {
  const limit = Number(args.limit ?? 100);
  const withMeta = args.include_all_metadata === true || args.include_all_metadata === 'true';
  return [...list]
    .sort((a, b) => Number(b.ts) - Number(a.ts))
    .slice(0, limit)
    .map((m) => ({
      type: 'message',
      ts: m.ts,
      text: m.text,
      ...(withMeta && m.metadata ? { metadata: m.metadata } : {}),
    }));
}

/** The channel a call is counted against; none when it names no channel (Slack refuses it anyway). */
function limitedChannel(args: Record<string, unknown>): string | undefined {
  return typeof args.channel === 'string' && args.channel ? channelId(args.channel) : undefined;
}

export async function startSlackEmulator(
  opts: { port?: number; host?: string; rateLimit?: SlackRateLimit } = {},
): Promise<SlackEmulator> {
  const limiter = createRateLimiter(opts.rateLimit ?? false);
  const events = new EventEmitter();
  const calls: SlackCall[] = [];
  const messages = new Map<string, EmulatedMessage>();
  let faults: { remaining: number; failure: SlackFailure }[] = [];
  let tsCounter = 0;
  let url = '';
  let interactivity: InteractivityConfig | undefined;
  let responses = 0;
  const directory = new SlackDirectory(channelId);
  const sockets = new SlackSocketServer(() => url.replace(/^http/, 'ws').replace(/api\/$/, ''));

  const key = (channel: string, ts: string): string => `${channel}/${ts}`;
  // Monotonic across reset() so a ts is never handed out twice by one emulator.
  const nextTs = (): string => {
    tsCounter += 100;
    const seconds = 1_700_000_000 + Math.floor(tsCounter / 1_000_000);
    return `${seconds}.${String(tsCounter % 1_000_000).padStart(6, '0')}`;
  };

  const takeFault = (method: string): SlackFailure | undefined => {
    const fault = faultableMethods.has(method) ? faults[0] : undefined;
    if (!fault) return undefined;
    if (--fault.remaining <= 0) faults.shift();
    return fault.failure;
  };

  const handlers: Record<string, (args: Record<string, unknown>) => Record<string, unknown>> = {
    ...directory.handlers,
    'apps.connections.open': () => sockets.connectionsOpen(),
    'auth.test': () => ({
      ok: true,
      url: url.replace(/api\/$/, ''),
      team: 'Vigil Test',
      team_id: 'T000',
      user: 'vigil',
      user_id: 'U000',
      bot_id: 'B000',
    }),
    'chat.postMessage': (args) => {
      if (typeof args.channel !== 'string' || !args.channel) return { ok: false, error: 'channel_not_found' };
      const channel = channelId(args.channel);
      const threadTs = typeof args.thread_ts === 'string' && args.thread_ts ? args.thread_ts : undefined;
      const parent = threadTs === undefined ? undefined : messages.get(key(channel, threadTs));
      if (threadTs !== undefined && !parent) return { ok: false, error: 'thread_not_found' };
      const ts = nextTs();
      const msg: EmulatedMessage = {
        channel,
        ts,
        threadTs,
        text: args.text as string | undefined,
        blocks: args.blocks,
        attachments: args.attachments,
        metadata: args.metadata,
        replies: [],
        history: [],
      };
      messages.set(key(channel, ts), msg);
      parent?.replies.push(msg);
      const message = {
        type: 'message',
        user: 'U000',
        bot_id: 'B000',
        ts,
        thread_ts: threadTs,
        text: msg.text,
      };
      return { ok: true, channel, ts, message: { ...message, blocks: msg.blocks } };
    },
    'conversations.history': (args) => {
      if (typeof args.channel !== 'string' || !/^[CGD]/.test(args.channel))
        return { ok: false, error: 'channel_not_found' };
      const top = [...messages.values()].filter(
        (m) => m.channel === args.channel && m.threadTs === undefined,
      );
      return { ok: true, messages: listed(top, args) };
    },
    'conversations.replies': (args) => {
      const parent = messages.get(key(String(args.channel), String(args.ts)));
      if (!parent) return { ok: false, error: 'thread_not_found' };
      return { ok: true, messages: listed([parent, ...parent.replies], args) };
    },
    'chat.update': (args) => {
      if (typeof args.channel !== 'string' || !args.channel) return { ok: false, error: 'channel_not_found' };
      const channel = channelId(args.channel);
      const msg = typeof args.ts === 'string' ? messages.get(key(channel, args.ts)) : undefined;
      if (!msg) return { ok: false, error: 'message_not_found' };
      msg.history.push({ text: msg.text, blocks: msg.blocks, hr: hrNow() });
      if (args.text !== undefined) msg.text = args.text as string;
      if (args.blocks !== undefined) msg.blocks = args.blocks;
      if (args.attachments !== undefined) msg.attachments = args.attachments;
      return {
        ok: true,
        channel,
        ts: msg.ts,
        text: msg.text,
        message: { text: msg.text, blocks: msg.blocks },
      };
    },
  };

  const record = (call: Omit<SlackCall, 'at' | 'hr'>): void => {
    const full: SlackCall = { ...call, at: Date.now(), hr: hrNow() };
    calls.push(full);
    events.emit('call', full);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const reqUrl = new URL(req.url ?? '/', 'http://emulator');
    if (reqUrl.pathname.startsWith('/response/')) {
      // A response_url: what the agent said to the person who pressed (an ephemeral message).
      const args = await readArgs(req, reqUrl.searchParams);
      record({ method: 'response_url', args, status: 200, response: 'ok' });
      return send(res, 200, 'ok');
    }
    const method = reqUrl.pathname.startsWith('/api/') ? reqUrl.pathname.slice('/api/'.length) : undefined;
    if (method === undefined) return send(res, 404, { ok: false, error: 'not_found' });
    const { token, ...args } = await readArgs(req, reqUrl.searchParams);
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? token;
    // hasOwn: a method named e.g. 'constructor' must not reach Object.prototype.
    const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
    const rejection = rejectionOf(method, handler !== undefined, bearer);
    const channel = handler && !rejection ? limitedChannel(args) : undefined;
    const retryAfterSec = channel === undefined ? undefined : limiter.take(method, channel);
    if (retryAfterSec !== undefined) {
      // Slack limits before it looks at the message: nothing is posted and no injected fault is used.
      const body = { ok: false, error: 'ratelimited' };
      record({ method, args, status: 429, response: body, rateLimited: { retryAfterSec } });
      return send(res, 429, body, { 'retry-after': String(retryAfterSec) });
    }
    const failure = handler && !rejection ? takeFault(method) : undefined;
    let response: Record<string, unknown>;
    if (rejection) response = { ok: false, error: rejection };
    else if (!handler) response = { ok: false, error: 'unknown_method' };
    else if (!failure) response = handler(args);
    else if ('accepted' in failure && failure.accepted) {
      const accepted = handler(args);
      record({ method, args, status: 500, response: accepted, failure });
      return send(res, 500, 'Internal Server Error');
    } else if ('error' in failure) response = { ok: false, error: failure.error };
    else if (failure.status === 429) {
      const body = { ok: false, error: 'ratelimited' };
      record({ method, args, status: 429, response: body, failure });
      return send(res, 429, body, { 'retry-after': String(failure.retryAfterSec) });
    } else {
      record({ method, args, status: 500, response: 'Internal Server Error', failure });
      return send(res, 500, 'Internal Server Error');
    }
    record({ method, args, status: 200, response, ...(failure ? { failure } : {}) });
    send(res, 200, response);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 400, { ok: false, error: 'invalid_request', detail: String(err) });
    });
  });
  server.on('upgrade', (req, socket, head) => sockets.upgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  url = `http://${address.includes(':') ? `[${address}]` : address}:${port}/api/`;
  let closing: Promise<void> | undefined;

  return {
    url,
    calls,
    messages: () => [...messages.values()].filter((m) => m.threadTs === undefined),
    message: (channel, ts) => messages.get(key(channelId(channel), ts)),
    onCall: (listener) => {
      events.on('call', listener);
      return () => events.off('call', listener);
    },
    waitFor: (predicate, waitOpts = {}) =>
      waitForRecord(events, 'call', calls, predicate, waitOpts.timeoutMs ?? 10_000, () => {
        const seen = calls.map((c) => c.method).join(', ') || 'none';
        return `Slack emulator: waited for a call (${calls.length} recorded: ${seen})`;
      }),
    failNext: (count, failure) => {
      if (count > 0) faults.push({ remaining: count, failure });
    },
    interactivity: (config) => void (interactivity = config),
    press: async (pressOpts) => {
      const msg = messages.get(key(channelId(pressOpts.channel), pressOpts.ts));
      if (!msg) throw new Error(`Slack emulator: no message ${pressOpts.ts} in ${pressOpts.channel}`);
      const responseUrl = `${url.replace(/api\/$/, '')}response/${++responses}`;
      const payload = blockActionsPayload(msg, pressOpts, responseUrl);
      return deliverPress(interactivity, payload, pressOpts, sockets);
    },
    post: postInteraction,
    socketConnections: () => sockets.connections,
    dropSocketConnections: () => sockets.drop(),
    declareChannel: (channel, declaration) => directory.declareChannel(channel, declaration),
    declareUsergroup: (group) => directory.declareUsergroup(group),
    reset: () => {
      calls.length = 0;
      messages.clear();
      directory.reset();
      faults = [];
      limiter.reset();
    },
    close: () => {
      closing ??= Promise.all([
        sockets.close(),
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
      ]).then(() => undefined);
      return closing;
    },
  };
}
