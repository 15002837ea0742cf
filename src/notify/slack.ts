import { LogLevel, WebClient, type Logger as SlackLogger } from '@slack/web-api';
import { DependencyError, VigilError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { VigilConfig } from '../config/schema.js';
import type { DigestContext, NotificationContext, NotifyChannel, ThreadRef } from './channel.js';
import { renderSlackDigest, renderSlackDigestEscalation } from './digest-template.js';
import { mapSlackError } from './slack-errors.js';
import { renderSlack, renderSlackThreadReply, type SlackMessage } from './slack-template.js';
import type { NotificationKind } from '../contracts/channels.js';

type SlackConfig = NonNullable<VigilConfig['slack']>;

/** How messages read: `oncall.timeZone` and `oncall.silenceFor` (the Silence button's label). */
export interface SlackRenderOptions {
  timeZone?: string;
  silenceForMs?: number;
}

/** Notifications told as a reply in the incident's thread (besides updating its message). */
const replyKinds: ReadonlySet<NotificationKind> = new Set<NotificationKind>([
  'escalated',
  'reminder',
  'acknowledged',
  'unacknowledged',
  'ack-expired',
  'released',
  'flapping',
  'stable',
  'silenced',
  'remediation',
  'approval',
]);

/** Slack message metadata type Vigil tags its messages with. */
const METADATA_TYPE = 'vigil_notification';
const DIGEST_METADATA_TYPE = 'vigil_digest';

/** Routes the client's own logging into pino instead of its default console output. */
export function slackLogger(log: Logger): SlackLogger {
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    // The client's info lines are about its own retry pauses, which we disabled: debug is enough.
    debug: (...msg: unknown[]) => log.debug(text(msg)),
    info: (...msg: unknown[]) => log.debug(text(msg)),
    // Its warnings repeat what the failed call throws, which the delivery worker logs with context.
    warn: (...msg: unknown[]) => log.debug(text(msg)),
    error: (...msg: unknown[]) => log.error(text(msg)),
    // Levels are pino's business; the client only calls these during construction.
    setLevel: () => undefined,
    getLevel: () => LogLevel.DEBUG,
    setName: () => undefined,
  };
}

export function createSlackChannel(
  cfg: SlackConfig,
  log: Logger,
  options: SlackRenderOptions = {},
): NotifyChannel {
  const clog = log.child({ component: 'notify.slack' });
  const client = new WebClient(cfg.token, {
    slackApiUrl: cfg.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: cfg.timeout,
    logger: slackLogger(clog.child({ component: 'slack-web-api' })),
  });
  let closed = false;

  async function call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    if (closed) throw new VigilError('E_CHANNEL_CLOSED', 'Slack channel is closed');
    try {
      return await fn();
    } catch (err) {
      throw mapSlackError(err, method);
    }
  }

  /** Tags every message with the notification it carries, so a retry can find it (findDelivered). */
  const tag = (ctx: NotificationContext) => ({
    event_type: METADATA_TYPE,
    event_payload: { incident: ctx.incident.id, seq: ctx.seq, kind: ctx.kind },
  });

  async function post(
    ctx: NotificationContext,
    channel: string,
    msg: SlackMessage,
    threadTs?: string,
    broadcast = false,
  ): Promise<ThreadRef> {
    const base = {
      channel,
      text: msg.text,
      blocks: msg.blocks,
      ...(msg.attachments ? { attachments: msg.attachments } : {}),
      metadata: tag(ctx),
    };
    const res = await call('chat.postMessage', () =>
      threadTs
        ? client.chat.postMessage({ ...base, thread_ts: threadTs, reply_broadcast: broadcast })
        : client.chat.postMessage(base),
    );
    if (!res.ts) throw new VigilError('E_SLACK_BAD_RESPONSE', 'Slack chat.postMessage returned no ts');
    return { externalId: res.ts, channelId: res.channel ?? channel };
  }

  async function update(channel: string, thread: ThreadRef, message: SlackMessage): Promise<void> {
    await call('chat.update', () =>
      client.chat.update({
        channel,
        ts: thread.externalId,
        text: message.text,
        blocks: message.blocks,
        ...(message.attachments ? { attachments: message.attachments } : {}),
      }),
    );
  }

  const render = (ctx: NotificationContext) => ({ ...ctx, ...options });
  /** Updates never page anyone: the mention is for an escalation's own post or reply. */
  const quiet = (ctx: NotificationContext) => renderSlack({ ...render(ctx), mention: undefined });
  /** The target's channel, else the configured one; chat.update needs the id Slack returned. */
  const home = (ctx: NotificationContext) => ctx.thread?.channelId ?? ctx.destination ?? cfg.channel;

  return {
    name: 'slack',

    async refresh(ctx: NotificationContext): Promise<void> {
      if (!ctx.thread) return;
      await update(home(ctx), ctx.thread, quiet(ctx));
    },

    async send(ctx: NotificationContext): Promise<ThreadRef> {
      const { kind, thread, incident } = ctx;
      if (kind === 'opened' || !thread) {
        // Without a thread (the `opened` delivery failed for good, a target first told by an escalation or
        // a release) a fresh message is better than nothing.
        const ref = await post(ctx, home(ctx), renderSlack(render(ctx)));
        clog.debug({ incident: incident.id, kind, ts: ref.externalId }, 'slack message posted');
        return ref;
      }
      const channel = home(ctx);
      // A newer transition's notification renders the newer state: do not paint over it with ours.
      if (kind !== 'reminder' && incident.seq <= ctx.seq) await update(channel, thread, quiet(ctx));
      // The reply goes after the update so a retry after a failed reply repeats only idempotent work first.
      if (replyKinds.has(kind)) {
        const reply = renderSlackThreadReply(render(ctx));
        await post(ctx, channel, reply, thread.externalId, kind === 'escalated');
      }
      clog.debug({ incident: incident.id, kind, ts: thread.externalId }, 'slack thread updated');
      return thread;
    },

    async sendDigest(ctx: DigestContext): Promise<ThreadRef> {
      const message = renderSlackDigest(ctx);
      // The incidents this call newly tells, named in metadata (ids joined: Slack takes scalars there).
      const metadata = {
        event_type: DIGEST_METADATA_TYPE,
        event_payload: { digest: ctx.digestId, added: ctx.added.map((i) => i.id).join(',') },
      };
      let ref: ThreadRef;
      if (ctx.thread) {
        const thread = ctx.thread;
        const channel = thread.channelId ?? cfg.channel;
        await call('chat.update', () =>
          client.chat.update({
            channel,
            ts: thread.externalId,
            text: message.text,
            blocks: message.blocks,
            metadata,
          }),
        );
        ref = thread;
      } else {
        const res = await call('chat.postMessage', () =>
          client.chat.postMessage({
            channel: cfg.channel,
            text: message.text,
            blocks: message.blocks,
            metadata,
          }),
        );
        if (!res.ts) throw new VigilError('E_SLACK_BAD_RESPONSE', 'Slack chat.postMessage returned no ts');
        ref = { externalId: res.ts, channelId: res.channel ?? cfg.channel };
      }
      if (ctx.escalated.length) {
        const reply = renderSlackDigestEscalation(ctx);
        await call('chat.postMessage', () =>
          client.chat.postMessage({
            channel: ref.channelId ?? cfg.channel,
            thread_ts: ref.externalId,
            reply_broadcast: true,
            text: reply.text,
            blocks: reply.blocks,
            metadata: {
              event_type: DIGEST_METADATA_TYPE,
              event_payload: { digest: ctx.digestId, escalated: ctx.escalated.map((i) => i.id).join(',') },
            },
          }),
        );
      }
      return ref;
    },

    async findDelivered(ctx: NotificationContext): Promise<ThreadRef | undefined> {
      const { incident, seq, thread } = ctx;
      const inThread = thread !== undefined && replyKinds.has(ctx.kind);
      if (thread && !inThread) return undefined; // an update: repeating it is harmless
      const channel = home(ctx);
      try {
        const res = inThread
          ? await client.conversations.replies({
              channel,
              ts: thread.externalId,
              limit: 50,
              include_all_metadata: true,
            })
          : await client.conversations.history({ channel, limit: 50, include_all_metadata: true });
        const found = res.messages?.find((m) => {
          const meta = m.metadata as
            { event_type?: string; event_payload?: Record<string, unknown> } | undefined;
          return (
            meta?.event_type === METADATA_TYPE &&
            meta.event_payload?.incident === incident.id &&
            meta.event_payload?.seq === seq
          );
        });
        if (!found?.ts) return undefined;
        return inThread ? thread : { externalId: found.ts, channelId: channel };
      } catch (err) {
        // Without channels:history scope, or with a channel name instead of an id, we cannot look:
        // posting again risks a duplicate, which beats risking no message at all.
        clog.debug(
          { incident: incident.id, err: errorMessage(err) },
          'could not look for an earlier delivery',
        );
        return undefined;
      }
    },

    async check(): Promise<string> {
      try {
        const res = await call('auth.test', () => client.auth.test());
        return `Slack OK: team ${res.team ?? '?'} as bot ${res.user ?? '?'} at ${res.url ?? cfg.apiUrl}`;
      } catch (err) {
        const mapped = mapSlackError(err, 'auth.test');
        const hint =
          mapped.code === 'E_SLACK_REJECTED'
            ? 'check slack.token (a bot token, xoxb-…) and its scopes'
            : `check that ${cfg.apiUrl} is reachable from this host`;
        throw new DependencyError(mapped.code, mapped.message, hint, {
          cause: mapped,
          retryable: mapped.retryable,
        });
      }
    },

    async close(): Promise<void> {
      // WebClient holds no sockets of its own (fetch pools them); closing just refuses further sends.
      closed = true;
    },
  };
}
