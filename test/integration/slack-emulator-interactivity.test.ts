import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { verifySlackSignature } from '../../src/api/slack-signature.js';
import { startSlackEmulator, type SlackEmulator } from '../../src/demo/slack-emulator.js';

let emulator: SlackEmulator | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  await emulator?.close();
});

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A stand-in for the agent's endpoint that records what it was sent. */
async function receiver(): Promise<{
  url: string;
  got: { headers: IncomingMessage['headers']; body: string }[];
}> {
  const got: { headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      got.push({ headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/interactions`, got };
}

describe('the Slack emulator: interactivity and directory', () => {
  it("presses a message's button with a block_actions payload signed like Slack's", async () => {
    emulator = await startSlackEmulator();
    const slack = new WebClient('xoxb-test', { slackApiUrl: emulator.url, retryConfig: { retries: 0 } });
    const blocks = [
      {
        type: 'actions',
        block_id: 'b1',
        elements: [{ type: 'button', action_id: 'vigil_ack', value: '42' }],
      },
    ];
    const posted = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'alert', blocks });
    const target = await receiver();
    emulator.interactivity({ requestUrl: target.url, signingSecret: 'shh' });

    const res = await emulator.press({ channel: 'C0ALERTS', ts: posted.ts!, actionId: 'vigil_ack' });
    expect(res.status).toBe(200);
    const [req] = target.got;
    const problem = verifySlackSignature({
      signingSecret: 'shh',
      timestamp: req?.headers['x-slack-request-timestamp'] as string,
      signature: req?.headers['x-slack-signature'] as string,
      rawBody: req?.body ?? '',
    });
    expect(problem).toBeUndefined();
    const payload = JSON.parse(new URLSearchParams(req?.body).get('payload') ?? '{}') as Record<
      string,
      unknown
    >;
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0PRESSER', username: 'alice' },
      channel: { id: 'C0ALERTS' },
      message: { ts: posted.ts, blocks },
      actions: [{ action_id: 'vigil_ack', value: '42', block_id: 'b1' }],
      response_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/response\/\d+$/),
    });
  });

  it('answers conversations.info and usergroups.list from what the test declared', async () => {
    emulator = await startSlackEmulator();
    const slack = new WebClient('xoxb-test', { slackApiUrl: emulator.url, retryConfig: { retries: 0 } });
    emulator.declareChannel('C0GONE', { exists: false });
    emulator.declareChannel('C0OUTSIDE', { member: false });
    emulator.declareUsergroup({ id: 'S0ONCALL', handle: 'oncall' });

    expect((await slack.conversations.info({ channel: 'C0ALERTS' })).channel).toMatchObject({
      id: 'C0ALERTS',
      is_member: true,
    });
    expect((await slack.conversations.info({ channel: 'C0OUTSIDE' })).channel?.is_member).toBe(false);
    await expect(slack.conversations.info({ channel: 'C0GONE' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    expect((await slack.usergroups.list()).usergroups).toEqual([
      expect.objectContaining({ id: 'S0ONCALL', handle: 'oncall' }),
    ]);
  });

  it('opens Socket Mode connections for app-level tokens only', async () => {
    emulator = await startSlackEmulator();
    const app = new WebClient(undefined, { slackApiUrl: emulator.url, retryConfig: { retries: 0 } });
    const opened = await app.apps.connections.open({ token: 'xapp-1-test' });
    expect(opened.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/socket-mode\?ticket=/);
    await expect(app.apps.connections.open({ token: 'xoxb-test' })).rejects.toMatchObject({
      data: { error: 'not_allowed_token_type' },
    });
  });
});
