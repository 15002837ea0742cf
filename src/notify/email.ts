import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { ChannelFailedError, DependencyError, RetryableError, VigilError, errorMessage } from '../errors.js';
import { redactUrl, type Logger } from '../log.js';
import type { VigilConfig } from '../config/schema.js';
import type { NotificationKind } from '../contracts/channels.js';
import type { DigestContext, NotificationContext, NotifyChannel, ThreadRef } from './channel.js';
import { renderEmailDigest } from './digest-template.js';
import { renderEmail } from './email-template.js';

type EmailConfig = NonNullable<VigilConfig['email']>;

export interface EmailOptions {
  /** `oncall.timeZone`: the zone of every time in the mails. */
  timeZone?: string;
  /**
   * Makes a signed, single-use acknowledge link (AckLinks.create); undefined when links are off
   * (no publicUrl or linkSecret). Asked for each mail that tells an unacknowledged incident fires.
   */
  ackLink?: (incidentId: string) => Promise<string | undefined>;
}

/** Mails that ask someone to act: they carry the acknowledge link while the incident is firing. */
const ackKinds: ReadonlySet<NotificationKind> = new Set<NotificationKind>([
  'opened',
  'escalated',
  'reminder',
  'ack-expired',
  'unacknowledged',
  'released',
]);

/** Codes nodemailer (or the socket below it) uses when the connection, not the message, failed. */
const transientCodes = new Set(['ETIMEDOUT', 'ECONNECTION', 'ECONNREFUSED', 'ECONNRESET', 'ESOCKET', 'EDNS']);

/** Codes that say the setup is wrong (credentials, TLS, addresses): no mail goes until it is fixed. */
const channelCodes = new Set(['EAUTH', 'ENOAUTH', 'ETLS', 'EENVELOPE', 'EPROTOCOL']);

interface SmtpErrorShape {
  code?: string;
  responseCode?: number;
  response?: string;
}

export function mapSmtpError(err: unknown, what = 'SMTP send'): VigilError {
  if (err instanceof VigilError) return err;
  const e = (err ?? {}) as SmtpErrorShape;
  const reply = e.response ? `: ${e.response}` : `: ${errorMessage(err)}`;
  const status = e.responseCode;
  if (typeof status === 'number') {
    // RFC 5321: 4yz is transient, 5yz permanent, except 503 (bad command sequence), which a new session fixes.
    if ((status >= 400 && status < 500) || status === 503) {
      return new RetryableError('E_SMTP_UNAVAILABLE', `${what} deferred (${status})${reply}`, { cause: err });
    }
    // 552 (too big) and 554 (transaction failed: content, spam policy) refuse this message. Any other
    // 5yz (login, relay, recipients refused) is the configuration: no mail gets through until fixed.
    if (status === 552 || status === 554) {
      return new VigilError('E_SMTP_REJECTED', `${what} rejected (${status})${reply}`, { cause: err });
    }
    if (status >= 500) {
      return new ChannelFailedError('E_SMTP_REJECTED', `${what} rejected (${status})${reply}`, {
        cause: err,
      });
    }
  }
  if (e.code && transientCodes.has(e.code)) {
    return new RetryableError('E_SMTP_UNAVAILABLE', `${what} failed (${e.code})${reply}`, { cause: err });
  }
  if (e.code && channelCodes.has(e.code)) {
    return new ChannelFailedError('E_SMTP_REJECTED', `${what} failed (${e.code})${reply}`, { cause: err });
  }
  // Unknown to us: assume it may pass (and keep the row owed) rather than drop the alert.
  return new RetryableError('E_SMTP_FAILED', `${what} failed${e.code ? ` (${e.code})` : ''}${reply}`, {
    cause: err,
  });
}

/** The domain part of `from` ("Vigil <alerts@example.com>" → "example.com"), or "vigil". */
function messageIdDomain(from: string): string {
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  const domain = address.slice(address.lastIndexOf('@') + 1).trim();
  return address.includes('@') && /^[A-Za-z0-9.-]+$/.test(domain) ? domain : 'vigil';
}

/**
 * Deterministic per (incident, seq). nodemailer never retries, and a timeout after DATA may still have
 * delivered the message; when the worker retries, the copy carries the same Message-ID, which is what
 * lets a mail client or a dedup filter recognise it as a duplicate rather than a new alert.
 */
export function incidentMessageId(
  incidentId: string,
  seq: number,
  from: string,
  destination?: string,
): string {
  const id = incidentId.replace(/[^A-Za-z0-9.-]/g, '_');
  // Each target's list gets a mail of its own, so its own Message-ID (and its own thread).
  const to = destination ? `-${createHash('sha1').update(destination).digest('hex').slice(0, 10)}` : '';
  return `<vigil-incident-${id}-${seq}${to}@${messageIdDomain(from)}>`;
}

export function createEmailChannel(cfg: EmailConfig, log: Logger, options: EmailOptions = {}): NotifyChannel {
  const clog = log.child({ component: 'notify.email' });
  // Keys next to `url` apply where the URL's query string does not set them.
  const transport = nodemailer.createTransport({
    url: cfg.smtpUrl,
    connectionTimeout: cfg.timeout,
    greetingTimeout: cfg.timeout,
    socketTimeout: cfg.timeout,
  });
  let closed = false;

  const ensureOpen = () => {
    if (closed) throw new VigilError('E_CHANNEL_CLOSED', 'email channel is closed');
  };

  /** The acknowledge link for this mail, if it should carry one; a failure to make one costs the link only. */
  async function ackLinkFor(ctx: NotificationContext): Promise<string | undefined> {
    if (ctx.links.ack) return ctx.links.ack;
    const { incident } = ctx;
    if (!options.ackLink || !ackKinds.has(ctx.kind) || incident.state !== 'firing') return undefined;
    try {
      return await options.ackLink(incident.id);
    } catch (err) {
      clog.warn({ incident: incident.id, err: errorMessage(err) }, 'no acknowledge link for this mail');
      return undefined;
    }
  }

  return {
    name: 'email',

    async send(ctx: NotificationContext): Promise<ThreadRef> {
      ensureOpen();
      const { incident, kind, thread } = ctx;
      const ack = await ackLinkFor(ctx);
      const links = ack ? { ...ctx.links, ack } : ctx.links;
      const body = renderEmail({
        ...ctx,
        links,
        ...(options.timeZone ? { timeZone: options.timeZone } : {}),
      });
      const messageId = incidentMessageId(incident.id, ctx.seq, cfg.from, ctx.destination);
      const threaded = kind !== 'opened' && thread !== undefined;
      try {
        await transport.sendMail({
          from: cfg.from,
          // A target's own list (comma-joined addresses), else the configured one.
          to: ctx.destination ?? cfg.to,
          messageId,
          // "Re:" plus In-Reply-To/References is what both header- and subject-threading clients group on.
          subject: threaded ? `Re: ${body.subject}` : body.subject,
          text: body.text,
          html: body.html,
          ...(threaded ? { inReplyTo: thread.externalId, references: thread.externalId } : {}),
          headers: { 'X-Vigil-Incident': incident.id, 'X-Vigil-Kind': kind },
        });
      } catch (err) {
        throw mapSmtpError(err);
      }
      clog.debug({ incident: incident.id, kind, messageId }, 'email sent');
      return threaded ? thread : { externalId: messageId };
    },

    async sendDigest(ctx: DigestContext): Promise<ThreadRef> {
      ensureOpen();
      const body = renderEmailDigest(ctx);
      // What this mail says (which openings, which resolutions): a retry of it keeps its Message-ID.
      const ids = [
        ...ctx.added.map((i) => `o${i.id}`),
        ...ctx.resolved.map((i) => `r${i.id}`),
        ...ctx.escalated.map((i) => `e${i.id}`),
      ].join('-');
      const messageId = incidentMessageId(
        `digest-${ctx.digestId}-${createHash('sha1').update(ids).digest('hex').slice(0, 12)}`,
        0,
        cfg.from,
      );
      try {
        await transport.sendMail({
          from: cfg.from,
          to: cfg.to,
          messageId,
          subject: body.subject,
          text: body.text,
          html: body.html,
          headers: { 'X-Vigil-Digest': ctx.digestId },
        });
      } catch (err) {
        throw mapSmtpError(err);
      }
      return { externalId: messageId };
    },

    async check(): Promise<string> {
      ensureOpen();
      try {
        await transport.verify();
      } catch (err) {
        const mapped = mapSmtpError(err, 'SMTP verify');
        const hint = mapped.retryable
          ? `check that ${redactUrl(cfg.smtpUrl)} is reachable from this host`
          : 'check the credentials and TLS settings in email.smtpUrl';
        throw new DependencyError(mapped.code, mapped.message, hint, {
          cause: mapped,
          retryable: mapped.retryable,
        });
      }
      return `SMTP OK: ${redactUrl(cfg.smtpUrl)} accepts connections (from ${cfg.from})`;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      transport.close();
    },
  };
}
