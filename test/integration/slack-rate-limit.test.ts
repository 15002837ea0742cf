import { ErrorCode, LogLevel, WebClient, type WebAPIRateLimitedError } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackEmulator, type SlackEmulator } from '../../src/demo/slack-emulator.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

/** Configured as src/notify/slack.ts configures it: every 429 surfaces to the caller. */
function clientFor(emulator: SlackEmulator): WebClient {
  return new WebClient('xoxb-test-token', {
    slackApiUrl: emulator.url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 5000,
    logLevel: LogLevel.ERROR,
  });
}

function post(emulator: SlackEmulator, channel: string, text: string): Promise<Response> {
  return fetch(`${emulator.url}chat.postMessage`, {
    method: 'POST',
    headers: { authorization: 'Bearer xoxb-raw', 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ channel, text }),
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Slack emulator per-channel rate limit', () => {
  let emulator: SlackEmulator | undefined;
  let env: TestEnv | undefined;

  afterEach(async () => {
    await emulator?.close();
    await env?.cleanup();
    emulator = env = undefined;
  });

  it('refuses a burst over the limit with 429 and Retry-After, and accepts again after the wait', async () => {
    emulator = await startSlackEmulator({ rateLimit: { perSecond: 1, burst: 3 } });
    const client = clientFor(emulator);
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((n) => client.chat.postMessage({ channel: 'C0BURST', text: `incident ${n}` })),
    );

    const limited = results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason as WebAPIRateLimitedError] : [],
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(limited).toHaveLength(2);
    for (const err of limited) {
      expect(err.code).toBe(ErrorCode.RateLimitedError);
      expect(err.retryAfter).toBe(1);
    }
    expect(emulator.messages()).toHaveLength(3);
    const refused = emulator.calls.filter((c) => c.status === 429);
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({ method: 'chat.postMessage', rateLimited: { retryAfterSec: 1 } });

    await sleep((limited[0]?.retryAfter ?? 1) * 1000);
    await expect(client.chat.postMessage({ channel: 'C0BURST', text: 'later' })).resolves.toMatchObject({
      ok: true,
    });
    expect(emulator.messages().map((m) => m.text)).toContain('later');
  });

  it('says how long to wait from the refill rate, in whole seconds', async () => {
    emulator = await startSlackEmulator({ rateLimit: { perSecond: 0.25, burst: 1 } });
    expect((await post(emulator, 'C0SLOW', 'first')).status).toBe(200);
    const refused = await post(emulator, 'C0SLOW', 'second');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('4');
    expect(await refused.json()).toEqual({ ok: false, error: 'ratelimited' });
    expect(emulator.messages().map((m) => m.text)).toEqual(['first']);
  });

  it('keeps channels, and chat.update, on buckets of their own', async () => {
    emulator = await startSlackEmulator({ rateLimit: { perSecond: 1, burst: 1 } });
    const client = clientFor(emulator);
    const first = await client.chat.postMessage({ channel: 'C0ONE', text: 'one' });
    await expect(client.chat.postMessage({ channel: 'C0ONE', text: 'again' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
    });
    // Named channels count under the id Slack gives them, so '#two' and its id share one bucket.
    const second = await client.chat.postMessage({ channel: '#two', text: 'two' });
    await expect(
      client.chat.postMessage({ channel: second.channel as string, text: 'two again' }),
    ).rejects.toMatchObject({ code: ErrorCode.RateLimitedError });

    const update = { channel: 'C0ONE', ts: first.ts as string, text: 'one, resolved' };
    await expect(client.chat.update(update)).resolves.toMatchObject({ ok: true });
    await expect(client.chat.update(update)).rejects.toMatchObject({ code: ErrorCode.RateLimitedError });
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true });

    expect(emulator.calls.map((c) => [c.method, c.status])).toEqual([
      ['chat.postMessage', 200],
      ['chat.postMessage', 429],
      ['chat.postMessage', 200],
      ['chat.postMessage', 429],
      ['chat.update', 200],
      ['chat.update', 429],
      ['auth.test', 200],
    ]);
    expect(emulator.messages().map((m) => m.text)).toEqual(['one, resolved', 'two']);
  });

  it('is off by default and on in a test world that asks for Slack’s limit', async () => {
    emulator = await startSlackEmulator();
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, n) => post(emulator as SlackEmulator, 'C0FREE', `m${n}`)),
    );
    expect(statuses.map((r) => r.status)).toEqual(Array(20).fill(200));

    env = await createTestEnv({ slackRateLimit: true });
    const limited = [];
    for (let n = 0; n < 5; n++) limited.push((await post(env.slack, 'C0ALERTS', `m${n}`)).status);
    expect(limited.slice(0, 3)).toEqual([200, 200, 200]);
    expect(limited).toContain(429);
  });
});
