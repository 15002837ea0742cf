import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject, type HeaderValue, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { hrNow, waitForRecord } from './records.js';

export interface SmtpFailure {
  /** SMTP reply code, e.g. 451 (temporary, the sender should retry) or 550 (permanent). */
  code: number;
  message: string;
}

export interface ReceivedMail {
  /** Header addresses as mailparser reads them; `envelope` holds what MAIL FROM / RCPT TO said. */
  from: string;
  to: string[];
  envelope: { from: string; to: string[] };
  subject: string;
  text: string;
  html: string;
  messageId: string | undefined;
  inReplyTo: string | undefined;
  references: string[];
  headers: Map<string, HeaderValue>;
  raw: string;
  at: number;
  hr: number;
  /** Set on mails in `rejected`: the injected failure they were refused with. */
  rejectedWith?: SmtpFailure;
}

export interface SmtpSink {
  url: string;
  messages: ReceivedMail[];
  /** Mails refused because of failNext, so tests can count delivery attempts. */
  rejected: ReceivedMail[];
  waitFor(predicate: (mail: ReceivedMail) => boolean, opts?: { timeoutMs?: number }): Promise<ReceivedMail>;
  /** Calls `listener` on every future accepted mail; returns the unsubscribe function. */
  onMail(listener: (mail: ReceivedMail) => void): () => void;
  failNext(count: number, failure: SmtpFailure): void;
  /** Answers each message's final "." only after `ms` (a slow server); 0 answers at once. */
  replyAfter(ms: number): void;
  reset(): void;
  close(): Promise<void>;
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects
    .flatMap((o) => o.value.flatMap((a) => [a, ...(a.group ?? [])]))
    .flatMap((a) => (a.address ? [a.address] : []));
}

function toReceived(parsed: ParsedMail, raw: string, session: SMTPServerSession): ReceivedMail {
  const { mailFrom, rcptTo } = session.envelope;
  const envelope = { from: mailFrom ? mailFrom.address : '', to: rcptTo.map((r) => r.address) };
  const refs = parsed.references;
  return {
    from: addresses(parsed.from)[0] ?? envelope.from,
    to: parsed.to ? addresses(parsed.to) : envelope.to,
    envelope,
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: parsed.html || '',
    messageId: parsed.messageId,
    inReplyTo: parsed.inReplyTo,
    references: refs === undefined ? [] : Array.isArray(refs) ? refs : [refs],
    headers: parsed.headers,
    raw,
    at: Date.now(),
    hr: hrNow(),
  };
}

export async function startSmtpSink(opts: { port?: number; host?: string } = {}): Promise<SmtpSink> {
  const events = new EventEmitter();
  const messages: ReceivedMail[] = [];
  const rejected: ReceivedMail[] = [];
  let faults: { remaining: number; failure: SmtpFailure }[] = [];
  let delayMs = 0;

  const takeFault = (): SmtpFailure | undefined => {
    const fault = faults[0];
    if (!fault) return undefined;
    if (--fault.remaining <= 0) faults.shift();
    return fault.failure;
  };

  const receive = async (stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    const raw = Buffer.concat(chunks);
    const mail = toReceived(await simpleParser(raw), raw.toString('utf8'), session);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    // Decided once the whole message is in, i.e. the refusal is the reply to the final ".".
    const failure = takeFault();
    if (failure) {
      rejected.push({ ...mail, rejectedWith: failure });
      throw Object.assign(new Error(failure.message), { responseCode: failure.code });
    }
    messages.push(mail);
    events.emit('mail', mail);
  };

  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    // Lets a client configured with credentials log in over plain TCP; any credentials pass.
    allowInsecureAuth: true,
    disableReverseLookup: true,
    logger: false,
    name: 'vigil-smtp-sink',
    onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'anonymous' }),
    onData: (stream, session, callback) => {
      receive(stream, session).then(
        () => callback(),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Client-side hiccups (e.g. a client dropping mid-session) must not crash the test process.
  server.on('error', () => undefined);
  const { address, port } = server.server.address() as AddressInfo;
  const url = `smtp://${address.includes(':') ? `[${address}]` : address}:${port}`;
  let closing: Promise<void> | undefined;

  return {
    url,
    messages,
    rejected,
    onMail: (listener) => {
      events.on('mail', listener);
      return () => events.off('mail', listener);
    },
    waitFor: (predicate, waitOpts = {}) =>
      waitForRecord(events, 'mail', messages, predicate, waitOpts.timeoutMs ?? 10_000, () => {
        const subjects = messages.map((m) => JSON.stringify(m.subject)).join(', ') || 'none';
        return `SMTP sink: waited for a mail (${messages.length} received: ${subjects})`;
      }),
    failNext: (count, failure) => {
      if (count > 0) faults.push({ remaining: count, failure });
    },
    replyAfter: (ms) => {
      delayMs = ms;
    },
    reset: () => {
      messages.length = 0;
      rejected.length = 0;
      faults = [];
      delayMs = 0;
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Without this, close() waits up to closeTimeout (30 s) for pooled clients to QUIT.
        for (const connection of server.connections) connection.close();
      });
      return closing;
    },
  };
}
