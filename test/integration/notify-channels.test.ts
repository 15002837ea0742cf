import { describe, it, expect, onTestFinished } from 'vitest';
import { startSlackEmulator, type SlackEmulator } from '../../src/demo/slack-emulator.js';
import { startSmtpSink, type SmtpSink } from '../../src/demo/smtp-sink.js';
import { RetryableError, VigilError } from '../../src/errors.js';
import type { Incident } from '../../src/contracts/incident.js';
import { createLogger } from '../../src/log.js';
import type { NotificationKind } from '../../src/contracts/channels.js';
import type { NotifyChannel, ThreadRef } from '../../src/notify/channel.js';
import { createEmailChannel, type EmailOptions } from '../../src/notify/email.js';
import { createChannels } from '../../src/notify/registry.js';
import { createSlackChannel } from '../../src/notify/slack.js';
import type { VigilConfig } from '../../src/config/schema.js';
import { incident as sampleIncident } from '../support/incident.js';
import { notificationKinds } from '../support/notification-kinds.js';
import { resolvedColor } from '../../src/notify/slack-template.js';

const log = createLogger({ level: 'silent' });

// Angle brackets in the title check that each channel escapes it; a recent start keeps "since" realistic.
const incident = (overrides: Partial<Incident> = {}): Incident =>
  sampleIncident({
    id: '7',
    fingerprint: 'fp-7',
    title: 'HELIX API <down>',
    labels: { service: 'helix-api' },
    summary: 'health check failed 3 times',
    startedAt: new Date(Date.now() - 65_000),
    ...overrides,
  });

const resolvedIncident = () => incident({ state: 'resolved', resolvedAt: new Date(), seq: 2 });

const ctxOf = (kind: NotificationKind, i: Incident) => ({
  incident: i,
  kind,
  seq: i.seq,
  thread: undefined,
  links: {},
});

const send = (ch: NotifyChannel, kind: NotificationKind, i: Incident, thread?: ThreadRef, seq = i.seq) =>
  ch.send({ incident: i, kind, seq, thread, links: { incident: 'http://vigil.test/incidents/7' } });

async function rejection(p: Promise<unknown>): Promise<VigilError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VigilError);
  return err as VigilError;
}

async function slackSetup(
  token = 'xoxb-test',
  channel = '#alerts',
): Promise<{ emu: SlackEmulator; slack: NotifyChannel }> {
  const emu = await startSlackEmulator();
  const slack = createSlackChannel(
    { token, apiUrl: emu.url, channel, timeout: 5000, rateLimit: { perSecond: 0, burst: 1 } },
    log,
  );
  onTestFinished(async () => {
    await slack.close();
    await emu.close();
  });
  return { emu, slack };
}

async function emailSetup(options: EmailOptions = {}): Promise<{ sink: SmtpSink; email: NotifyChannel }> {
  const sink = await startSmtpSink();
  const email = createEmailChannel(
    {
      smtpUrl: sink.url,
      from: 'Vigil <vigil@alerts.test>',
      to: ['oncall@example.com'],
      timeout: 5000,
      rateLimit: { perSecond: 0, burst: 1 },
    },
    log,
    options,
  );
  onTestFinished(async () => {
    await email.close();
    await sink.close();
  });
  return { sink, email };
}

describe('slack channel against the emulator', () => {
  it('posts on opened and updates the same message on resolved', async () => {
    const { emu, slack } = await slackSetup();
    const ref = await send(slack, 'opened', incident());
    expect(ref.externalId).toMatch(/^\d+\.\d+$/);
    expect(ref.channelId).toMatch(/^C/);
    const post = await emu.waitFor((c) => c.method === 'chat.postMessage');
    expect(post.args.channel).toBe('#alerts');
    expect(post.args.text).toContain('#7');
    expect(JSON.stringify(post.args.blocks)).toContain('vigil_ack');

    const again = await send(slack, 'resolved', resolvedIncident(), ref);
    expect(again).toEqual(ref);
    const update = await emu.waitFor((c) => c.method === 'chat.update');
    expect(update.args.ts).toBe(ref.externalId);
    const msg = emu.message(ref.channelId ?? '', ref.externalId);
    expect(msg?.history).toHaveLength(1);
    expect(JSON.stringify(msg?.attachments)).toContain('Resolved at');
    expect(msg?.attachments).toMatchObject([{ color: resolvedColor }]);
    expect(JSON.stringify(msg?.blocks)).not.toContain('vigil_ack');
    expect(emu.messages()).toHaveLength(1);
  });

  it('tells each later kind as a thread reply; only the escalation mentions its target, updates never', async () => {
    const { emu, slack } = await slackSetup();
    const ref = await send(slack, 'opened', incident());
    const kinds = notificationKinds.filter((k) => k !== 'opened' && k !== 'resolved');
    let seq = 1;
    for (const kind of kinds) {
      seq += 1;
      await slack.send({
        incident: incident({ seq }),
        kind,
        seq,
        thread: ref,
        links: {},
        mention: 'S0ONCALL',
      });
    }
    const msg = emu.message(ref.channelId ?? '', ref.externalId);
    expect(msg?.replies.map((r) => r.text)).toHaveLength(kinds.length);
    const paging = emu.calls.filter((c) => JSON.stringify(c.args).includes('<!subteam^S0ONCALL>'));
    expect(paging.map((c) => [c.method, c.args.thread_ts])).toEqual([['chat.postMessage', ref.externalId]]);
    expect(paging[0]?.args.text).toMatch(/^<!subteam\^S0ONCALL> ⚠️ Escalated/);
  });

  it("posts to the target's own channel when the notification names one", async () => {
    const { emu, slack } = await slackSetup();
    const ref = await slack.send({ ...ctxOf('opened', incident()), destination: 'C0DBTEAM' });
    expect(ref.channelId).toBe('C0DBTEAM');
    await slack.send({ ...ctxOf('resolved', resolvedIncident()), thread: ref, destination: 'C0DBTEAM' });
    expect(emu.calls.map((c) => [c.method, c.args.channel])).toEqual([
      ['chat.postMessage', 'C0DBTEAM'],
      ['chat.update', 'C0DBTEAM'],
    ]);
  });

  it('escalation updates the message and replies in its thread', async () => {
    const { emu, slack } = await slackSetup();
    const ref = await send(slack, 'opened', incident());
    await send(slack, 'escalated', incident({ seq: 2 }), ref);
    const msg = emu.message(ref.channelId ?? '', ref.externalId);
    expect(msg?.history).toHaveLength(1);
    expect(msg?.replies).toHaveLength(1);
    expect(msg?.replies[0]?.text).toContain('Escalated');
  });

  it('finds what an earlier attempt delivered, by the metadata on the message, and nothing else', async () => {
    // Looking needs the channel's id (conversations.history takes no names).
    const { slack } = await slackSetup('xoxb-test', 'C0ALERTS');
    const ctx = (kind: NotificationKind, seq: number, thread?: ThreadRef) => ({
      incident: incident({ seq }),
      kind,
      seq,
      thread,
      links: {},
    });
    expect(await slack.findDelivered!(ctx('opened', 1))).toBeUndefined();
    const ref = await send(slack, 'opened', incident(), undefined, 1);
    expect(await slack.findDelivered!(ctx('opened', 1))).toEqual(ref);
    expect(await slack.findDelivered!(ctx('escalated', 2, ref))).toBeUndefined();
    await send(slack, 'escalated', incident({ seq: 2 }), ref, 2);
    expect(await slack.findDelivered!(ctx('escalated', 2, ref))).toEqual(ref);
    // An update is repeated rather than looked for: doing it twice is harmless.
    expect(await slack.findDelivered!(ctx('resolved', 3, ref))).toBeUndefined();
  });

  it('an older follow-up does not paint over a newer state, but still replies in the thread', async () => {
    const { emu, slack } = await slackSetup();
    const ref = await send(slack, 'opened', incident(), undefined, 1);
    const resolved = incident({ state: 'resolved', resolvedAt: new Date(), seq: 3 });
    await send(slack, 'resolved', resolved, ref, 3);
    // The escalation (seq 2) runs late, when the incident is already resolved (seq 3).
    await send(slack, 'escalated', resolved, ref, 2);
    const msg = emu.message(ref.channelId ?? '', ref.externalId);
    expect(msg?.history).toHaveLength(1);
    expect(JSON.stringify(msg?.blocks)).toMatch(/resolved/i);
    expect(msg?.replies).toHaveLength(1);
  });

  it('posts a fresh message when a later kind has no thread', async () => {
    const { emu, slack } = await slackSetup();
    const ref = await send(slack, 'acknowledged', incident({ state: 'acknowledged', acknowledgedBy: 'bob' }));
    expect(emu.message(ref.channelId ?? '', ref.externalId)?.text).toMatch(/acknowledged by bob/i);
    expect(emu.calls.map((c) => c.method)).toEqual(['chat.postMessage']);
  });

  it('429 becomes a RetryableError carrying Retry-After, without client-side retries', async () => {
    const { emu, slack } = await slackSetup();
    emu.failNext(1, { status: 429, retryAfterSec: 7 });
    const err = await rejection(send(slack, 'opened', incident()));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.code).toBe('E_SLACK_RATE_LIMITED');
    expect((err as RetryableError).retryAfterMs).toBe(7000);
    expect(emu.calls).toHaveLength(1);
  });

  it('HTTP 500 is retryable', async () => {
    const { emu, slack } = await slackSetup();
    emu.failNext(1, { status: 500 });
    const err = await rejection(send(slack, 'opened', incident()));
    expect(err.retryable).toBe(true);
    expect(err.code).toBe('E_SLACK_UNAVAILABLE');
    expect(emu.calls).toHaveLength(1);
    // The fault was one-shot: the worker's next attempt goes through.
    await expect(send(slack, 'opened', incident())).resolves.toHaveProperty('externalId');
  });

  it('platform errors: channel_not_found is final, internal_error is retryable', async () => {
    const { emu, slack } = await slackSetup();
    emu.failNext(1, { error: 'channel_not_found' });
    const rejected = await rejection(send(slack, 'opened', incident()));
    expect(rejected.code).toBe('E_SLACK_REJECTED');
    expect(rejected.retryable).toBe(false);
    expect(rejected.message).toContain('channel_not_found');

    emu.failNext(1, { error: 'internal_error' });
    const transient = await rejection(send(slack, 'opened', incident()));
    expect(transient.retryable).toBe(true);
  });

  it('check() reports the workspace, and a bad token as non-retryable', async () => {
    const { slack } = await slackSetup();
    await expect(slack.check()).resolves.toMatch(/^Slack OK: team Vigil Test as bot vigil at http:/);
    const { slack: badSlack } = await slackSetup('not-a-token');
    const err = await rejection(badSlack.check());
    expect(err.code).toBe('E_SLACK_REJECTED');
    expect(err.retryable).toBe(false);
  });

  it('connection refused is retryable, and close() is idempotent', async () => {
    const { emu, slack } = await slackSetup();
    await emu.close();
    const err = await rejection(send(slack, 'opened', incident()));
    expect(err.code).toBe('E_SLACK_UNAVAILABLE');
    expect(err.retryable).toBe(true);
    await slack.close();
    await slack.close();
    expect((await rejection(send(slack, 'opened', incident()))).code).toBe('E_CHANNEL_CLOSED');
  });
});

describe('email channel against the SMTP sink', () => {
  it('opened and resolved share one thread', async () => {
    const { sink, email } = await emailSetup();
    const ref = await send(email, 'opened', incident());
    expect(ref.externalId).toBe('<vigil-incident-7-1@alerts.test>');
    const first = await sink.waitFor(() => true);
    expect(first.messageId).toBe(ref.externalId);
    expect(first.subject).toBe('[Vigil][CRITICAL] HELIX API <down> (#7)');
    expect(first.html).toContain('HELIX API &lt;down&gt;');
    expect(first.to).toEqual(['oncall@example.com']);

    expect(await send(email, 'resolved', resolvedIncident(), ref)).toEqual(ref);
    const second = await sink.waitFor((m) => m.subject.includes('RESOLVED'));
    expect(second.subject).toBe('Re: [Vigil][RESOLVED] HELIX API <down> (#7)');
    expect(second.messageId).toBe('<vigil-incident-7-2@alerts.test>');
    expect(second.inReplyTo).toBe(first.messageId);
    expect(second.references).toEqual([first.messageId]);
  });

  it('asks for an acknowledge link for mails about a firing incident, in the time zone', async () => {
    const asked: string[] = [];
    const { sink, email } = await emailSetup({
      timeZone: 'Asia/Tokyo',
      ackLink: async (id) => {
        asked.push(id);
        return `http://vigil.test/ack/token-${asked.length}`;
      },
    });
    const ref = await send(email, 'opened', incident());
    const opened = await sink.waitFor(() => true);
    expect(opened.text).toContain('Acknowledge: http://vigil.test/ack/token-1');
    expect(opened.html).toContain('<a href="http://vigil.test/ack/token-1">Acknowledge</a>');
    expect(opened.text).toMatch(/Since: \d\d:\d\d GMT\+9 \(1 min\)/);
    await send(email, 'escalated', incident({ seq: 2 }), ref, 2);
    const escalated = await sink.waitFor((m) => m.text.includes('Escalated'));
    expect(escalated.text).toContain('Acknowledge: http://vigil.test/ack/token-2');
    await send(email, 'resolved', resolvedIncident(), ref, 3);
    const resolved = await sink.waitFor((m) => m.subject.includes('RESOLVED'));
    expect(resolved.text).not.toContain('Acknowledge');
    expect(asked).toEqual(['7', '7']);
  });

  it('a mail goes without its link when making one fails', async () => {
    const { sink, email } = await emailSetup({
      ackLink: () => Promise.reject(new Error('redis down')),
    });
    await send(email, 'opened', incident());
    expect((await sink.waitFor(() => true)).text).not.toContain('Acknowledge');
  });

  it("sends to the target's own list, with a Message-ID of its own", async () => {
    const { sink, email } = await emailSetup();
    await email.send({ ...ctxOf('opened', incident()), destination: 'dba@example.com,lead@example.com' });
    const mail = await sink.waitFor(() => true);
    expect(mail.envelope.to).toEqual(['dba@example.com', 'lead@example.com']);
    expect(mail.messageId).toMatch(/^<vigil-incident-7-1-[0-9a-f]{10}@alerts\.test>$/);
  });

  it('gives each notification its own Message-ID even when it goes out after the incident moved on', async () => {
    const { sink, email } = await emailSetup();
    // The `opened` mail was delayed (SMTP down) until after the incident resolved (seq 2).
    const ref = await send(email, 'opened', resolvedIncident(), undefined, 1);
    expect(ref.externalId).toBe('<vigil-incident-7-1@alerts.test>');
    await send(email, 'resolved', resolvedIncident(), ref, 2);
    const second = await sink.waitFor((m) => m.subject.includes('RESOLVED'));
    expect(second.messageId).toBe('<vigil-incident-7-2@alerts.test>');
    expect(new Set(sink.messages.map((m) => m.messageId)).size).toBe(2);
  });

  it('SMTP 451 is retryable, and the retry carries the same Message-ID', async () => {
    const { sink, email } = await emailSetup();
    sink.failNext(1, { code: 451, message: 'Try again later' });
    const err = await rejection(send(email, 'opened', incident()));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.code).toBe('E_SMTP_UNAVAILABLE');
    await send(email, 'opened', incident());
    expect(sink.rejected[0]?.messageId).toBe(sink.messages[0]?.messageId);
  });

  it('SMTP 550 is a final rejection', async () => {
    const { sink, email } = await emailSetup();
    sink.failNext(1, { code: 550, message: 'Mailbox unavailable' });
    const err = await rejection(send(email, 'opened', incident()));
    expect(err.code).toBe('E_SMTP_REJECTED');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('550');
  });

  it('check() verifies the server; connection refused is retryable; close() is idempotent', async () => {
    const { sink, email } = await emailSetup();
    await expect(email.check()).resolves.toMatch(/^SMTP OK: smtp:\/\/127\.0\.0\.1:\d+/);
    await sink.close();
    const err = await rejection(send(email, 'opened', incident()));
    expect(err.code).toBe('E_SMTP_UNAVAILABLE');
    expect(err.retryable).toBe(true);
    await email.close();
    await email.close();
  });
});

describe('channel registry', () => {
  it('builds only the configured channels', async () => {
    const base = {
      log: { level: 'silent' },
      oncall: { timeZone: 'UTC', silenceFor: 3_600_000 },
    } as unknown as VigilConfig;
    expect([...createChannels(base, log).keys()]).toEqual([]);
    const both = {
      ...base,
      slack: { token: 'xoxb-x', apiUrl: 'http://127.0.0.1:9/api/', channel: '#a', timeout: 1000 },
      email: { smtpUrl: 'smtp://127.0.0.1:9', from: 'a@b.c', to: ['d@e.f'], timeout: 1000 },
    } as VigilConfig;
    const channels = createChannels(both, log);
    onTestFinished(async () => {
      for (const ch of channels.values()) await ch.close();
    });
    expect([...channels.keys()]).toEqual(['slack', 'email']);
    expect(channels.get('slack')?.name).toBe('slack');
  });
});
