import {
  ErrorCode,
  LogLevel,
  WebClient,
  type WebAPIHTTPError,
  type WebAPIRateLimitedError,
} from '@slack/web-api';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHelixSim, type HelixSim } from '../../src/demo/helix-sim.js';
import { startSlackEmulator, type SlackEmulator } from '../../src/demo/slack-emulator.js';
import { startSmtpSink, type SmtpSink } from '../../src/demo/smtp-sink.js';

describe('Slack emulator with @slack/web-api', () => {
  let emulator: SlackEmulator;
  let client: WebClient;

  beforeEach(async () => {
    emulator = await startSlackEmulator();
    client = new WebClient('xoxb-test-token', {
      slackApiUrl: emulator.url,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: 5000,
      logLevel: LogLevel.ERROR,
    });
  });
  afterEach(async () => {
    await emulator.close();
    await emulator.close();
  });

  it('answers auth.test and refuses calls without a token', async () => {
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    const auth = await client.auth.test();
    expect(auth).toMatchObject({ ok: true, team_id: 'T000', user_id: 'U000', bot_id: 'B000' });

    const anonymous = new WebClient(undefined, { slackApiUrl: emulator.url, retryConfig: { retries: 0 } });
    await expect(anonymous.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    await expect(client.apiCall('chat.nope')).rejects.toMatchObject({ data: { error: 'unknown_method' } });
  });

  it('also accepts JSON bodies', async () => {
    const blocks = [{ type: 'divider' }];
    const res = await fetch(`${emulator.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: 'Bearer xoxb-json', 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0JSON', text: 'hi', blocks }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C0JSON', message: { text: 'hi', blocks } });
    expect(emulator.calls[0]?.args).toEqual({ channel: 'C0JSON', text: 'hi', blocks });
  });

  it('round-trips blocks, updates the message and threads replies', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*HELIX down*' } }];
    const posted = await client.chat.postMessage({ channel: '#alerts', text: 'HELIX down', blocks });
    expect(posted.ok).toBe(true);
    expect(posted.channel).toMatch(/^C[0-9A-F]+$/);
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);

    const call = await emulator.waitFor((c) => c.method === 'chat.postMessage');
    expect(call.args.blocks).toEqual(blocks);
    expect(call.args).not.toHaveProperty('token');

    const channel = posted.channel as string;
    const ts = posted.ts as string;
    const reply = await client.chat.postMessage({ channel, thread_ts: ts, text: 'still down' });
    expect(Number(reply.ts)).toBeGreaterThan(Number(ts));

    const updated = await client.chat.update({ channel, ts, text: 'HELIX recovered', blocks: [] });
    expect(updated).toMatchObject({ ok: true, channel, ts, text: 'HELIX recovered' });

    const [message] = emulator.messages();
    expect(message).toMatchObject({ channel, ts, text: 'HELIX recovered', blocks: [] });
    expect(message?.history).toEqual([expect.objectContaining({ text: 'HELIX down', blocks })]);
    expect(message?.replies.map((r) => r.text)).toEqual(['still down']);

    await expect(client.chat.update({ channel, ts: '1.000000', text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
    expect(emulator.calls.map((c) => c.method)).toEqual([
      'chat.postMessage',
      'chat.postMessage',
      'chat.update',
      'chat.update',
    ]);
  });

  it('waitFor sees future calls and times out with a clear error', async () => {
    const waiting = emulator.waitFor((c) => c.method === 'auth.test');
    await client.auth.test();
    await expect(waiting).resolves.toMatchObject({ method: 'auth.test', status: 200 });
    await expect(emulator.waitFor((c) => c.method === 'chat.update', { timeoutMs: 50 })).rejects.toThrow(
      /Slack emulator.*nothing matched within 50 ms/,
    );
  });

  it('injects rate limits, server errors and platform errors', async () => {
    emulator.failNext(1, { status: 429, retryAfterSec: 7 });
    emulator.failNext(1, { status: 500 });
    emulator.failNext(1, { error: 'channel_not_found' });

    const limited = await client.chat.postMessage({ channel: 'C123', text: 'a' }).catch((e: unknown) => e);
    expect((limited as WebAPIRateLimitedError).code).toBe(ErrorCode.RateLimitedError);
    expect((limited as WebAPIRateLimitedError).retryAfter).toBe(7);

    const failed = await client.chat.postMessage({ channel: 'C123', text: 'b' }).catch((e: unknown) => e);
    expect((failed as WebAPIHTTPError).code).toBe(ErrorCode.HTTPError);
    expect((failed as WebAPIHTTPError).statusCode).toBe(500);

    await expect(client.chat.postMessage({ channel: 'C123', text: 'c' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: 'channel_not_found' },
    });
    await expect(client.chat.postMessage({ channel: 'C123', text: 'd' })).resolves.toMatchObject({
      ok: true,
    });

    expect(emulator.calls.map((c) => [c.status, c.failure])).toEqual([
      [429, { status: 429, retryAfterSec: 7 }],
      [500, { status: 500 }],
      [200, { error: 'channel_not_found' }],
      [200, undefined],
    ]);
    expect(emulator.messages().map((m) => m.text)).toEqual(['d']);
    emulator.reset();
    expect(emulator.calls).toHaveLength(0);
    expect(emulator.messages()).toHaveLength(0);
  });
});

describe('SMTP sink with nodemailer', () => {
  let sink: SmtpSink;

  beforeEach(async () => {
    sink = await startSmtpSink();
  });
  afterEach(async () => {
    await sink.close();
    await sink.close();
  });

  it('parses text, html and threading headers', async () => {
    expect(sink.url).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+$/);
    const transport = nodemailer.createTransport(sink.url);
    const first = await transport.sendMail({
      from: 'Vigil <vigil@example.test>',
      to: ['ops@example.test', 'Oncall <oncall@example.test>'],
      subject: '[Vigil] HELIX down',
      text: 'HELIX is down',
      html: '<p>HELIX is <b>down</b></p>',
      messageId: '<incident-1@vigil.test>',
    });
    expect(first.accepted).toEqual(['ops@example.test', 'oncall@example.test']);

    const waiting = sink.waitFor((m) => m.inReplyTo !== undefined);
    await transport.sendMail({
      from: 'vigil@example.test',
      to: 'ops@example.test',
      subject: 'Re: [Vigil] HELIX down',
      text: 'resolved',
      messageId: '<incident-1-resolved@vigil.test>',
      inReplyTo: '<incident-1@vigil.test>',
      references: ['<incident-1@vigil.test>'],
    });
    const reply = await waiting;
    const opened = await sink.waitFor((m) => m.subject === '[Vigil] HELIX down');

    expect(opened).toMatchObject({
      from: 'vigil@example.test',
      to: ['ops@example.test', 'oncall@example.test'],
      text: 'HELIX is down',
      html: '<p>HELIX is <b>down</b></p>',
      messageId: '<incident-1@vigil.test>',
      references: [],
    });
    expect(opened.headers.get('subject')).toBe('[Vigil] HELIX down');
    expect(reply.inReplyTo).toBe(opened.messageId);
    expect(reply.references).toEqual([opened.messageId]);
    expect(sink.messages).toHaveLength(2);
    transport.close();
  });

  it('rejects the next messages with an injected SMTP code', async () => {
    const transport = nodemailer.createTransport(sink.url);
    const mail = { from: 'vigil@example.test', to: 'ops@example.test', subject: 'flaky', text: 'x' };
    sink.failNext(1, { code: 451, message: 'Try again later' });

    await expect(transport.sendMail(mail)).rejects.toMatchObject({ responseCode: 451 });
    expect(sink.rejected.map((m) => m.rejectedWith)).toEqual([{ code: 451, message: 'Try again later' }]);
    expect(sink.messages).toHaveLength(0);

    await transport.sendMail(mail);
    await sink.waitFor((m) => m.subject === 'flaky');
    await expect(sink.waitFor((m) => m.subject === 'never', { timeoutMs: 50 })).rejects.toThrow(/SMTP sink/);
    sink.reset();
    expect(sink.messages).toHaveLength(0);
    transport.close();
  });
});

describe('HELIX simulator with fetch', () => {
  let helix: HelixSim;

  afterEach(async () => {
    await helix.close();
    await helix.close();
  });

  it('reports health, toggles and records each answer', async () => {
    helix = await startHelixSim();
    expect(helix.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const up = await fetch(`${helix.url}/api/v1/health`);
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({
      status: 'healthy',
      components: { database: 'healthy', api: 'healthy' },
    });

    helix.setHealthy(false);
    const down = await fetch(`${helix.url}/api/v1/health`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'unhealthy', components: { database: 'unhealthy' } });

    const root = await fetch(`${helix.url}/`);
    expect(await root.text()).toMatch(/HELIX/);
    expect((await fetch(`${helix.url}/nope`)).status).toBe(404);

    expect(helix.healthRequests.map((r) => [r.healthy, r.status])).toEqual([
      [true, 200],
      [false, 503],
    ]);
    const [unhealthy] = await helix.waitForRequests(1, (r) => !r.healthy);
    expect(unhealthy?.at).toBeGreaterThan(helix.healthRequests[0]?.at ?? Infinity);
  });

  it('applies latency and lets tests await requests', async () => {
    helix = await startHelixSim({ latencyMs: 150, healthy: false });
    const waiting = helix.waitForRequests(2);
    const started = performance.timeOrigin + performance.now();
    const responses = await Promise.all([1, 2].map(() => fetch(`${helix.url}/api/v1/health`)));
    expect(responses.map((r) => r.status)).toEqual([503, 503]);
    const answered = await waiting;
    for (const entry of answered) expect(entry.at - started).toBeGreaterThanOrEqual(140);

    helix.setLatency(0);
    helix.setHealthy(true);
    const quick = await fetch(`${helix.url}/api/v1/health`);
    expect(quick.status).toBe(200);
    await expect(helix.waitForRequests(5, undefined, { timeoutMs: 50 })).rejects.toThrow(/3\/5/);
  });
});
