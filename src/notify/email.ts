import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { ChannelFailedError, DependencyError, RetryableError, VigilError, errorMessage } from '../errors.js';
import { redactUrl, type Logger } from '../log.js';
import type { VigilConfig } from '../config/schema.js';
import type { DigestContext, NotificationContext, NotifyChannel, ThreadRef } from './channel.js';
import { renderEmailDigest } from './digest-template.js';
import { renderEmail } from './email-template.js';

type EmailConfig = NonNullable<VigilConfig['email']>;

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
export function incidentMessageId(incidentId: string, seq: number, from: string): string {
  const id = incidentId.replace(/[^A-Za-z0-9.-]/g, '_');
  return `<vigil-incident-${id}-${seq}@${messageIdDomain(from)}>`;
}

export function createEmailChannel(cfg: EmailConfig, log: Logger): NotifyChannel {
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

  return {
    name: 'email',

    async send(ctx: NotificationContext): Promise<ThreadRef> {
      ensureOpen();
      const { incident, kind, thread } = ctx;
      const body = renderEmail(ctx);
      const messageId = incidentMessageId(incident.id, ctx.seq, cfg.from);
      const threaded = kind !== 'opened' && thread !== undefined;
      try {
        await transport.sendMail({
          from: cfg.from,
          to: ctx.destination === undefined ? cfg.to : [ctx.destination].flat(),
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
