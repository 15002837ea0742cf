import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SocketModeClient, LogLevel } from '@slack/socket-mode';
import { describe, it, expect, onTestFinished } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createEmailChannel } from '../../src/notify/email.js';
import { createSlackChannel } from '../../src/notify/slack.js';
import { verifySlackSignature } from '../../src/api/slack-signature.js';
import { spawnCli, waitForLine } from '../support/cli.js';
import { incident } from '../support/incident.js';

const log = createLogger({ level: 'silent' });
const secret = 'receivers-test-signing-secret';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** Stands in for the agent's /slack/interactions: records each request, answers 200. */
async function startAgent(): Promise<{ url: string; requests: Received[]; next(): Promise<Received> }> {
  const requests: Received[] = [];
  const waiting: ((r: Received) => void)[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const r = { headers: req.headers, body };
      requests.push(r);
      waiting.shift()?.(r);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/slack/interactions`,
    requests,
    next: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

function payloadOf(r: Received): { user: { name: string }; actions: { action_id: string; value: string }[] } {
  return JSON.parse(new URLSearchParams(r.body).get('payload') ?? '{}') as ReturnType<typeof payloadOf>;
}

describe('vigil receivers', () => {
  it('prints the setup, shows each message and mail, and presses buttons from its page and from stdin', async () => {
    const agent = await startAgent();
    const child = spawnCli(
      [
        'receivers',
        '--slack-port',
        '0',
        '--smtp-port',
        '0',
        '--web-port',
        '0',
        '--request-url',
        agent.url,
      ].concat(['--signing-secret', secret, '--user', 'carol']),
      { stdin: 'pipe' },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    onTestFinished(() => void child.kill('SIGKILL'));
    const [point, page, yaml] = await Promise.all([
      waitForLine(child, /Point an agent at them:/),
      waitForLine(child, /Messages and buttons/),
      waitForLine(child, /signingSecret: /),
    ]);
    const slackUrl = /SLACK_API_URL=(\S+)/.exec(point)?.[1] ?? '';
    const smtpUrl = /SMTP_URL=(\S+)/.exec(point)?.[1] ?? '';
    const webUrl = /(http:\/\/\S+)/.exec(page)?.[1] ?? '';
    expect(yaml).toContain(secret);

    // The agent's own Slack channel code (real @slack/web-api) posts an incident to it.
    const slack = createSlackChannel(
      {
        token: 'xoxb-mine',
        apiUrl: slackUrl,
        channel: 'C0ALERTS',
        timeout: 5000,
        rateLimit: { perSecond: 0, burst: 1 },
      },
      log,
    );
    onTestFinished(() => slack.close());
    const shown = waitForLine(child, /📣 \[1\] C0ALERTS: .*HELIX API health check failing/);
    const buttons = waitForLine(child, /buttons: Acknowledge · Resolve · Silence 1 h · Not actionable/);
    const ref = await slack.send({
      incident: incident(),
      kind: 'opened',
      seq: 1,
      thread: undefined,
      links: {},
    });
    await Promise.all([shown, buttons]);

    const html = await (await fetch(webUrl)).text();
    expect(html).toContain('HELIX API health check failing');
    expect(html).toContain('name="actionId" value="vigil_ack"');

    // Pressing Acknowledge on the page: a signed block_actions POST reaches the agent.
    const arrived = agent.next();
    const form = new URLSearchParams({
      channel: 'C0ALERTS',
      ts: ref.externalId,
      actionId: 'vigil_ack',
      value: '42',
    });
    const pressed = await fetch(new URL('/press', webUrl), {
      method: 'POST',
      body: form,
      redirect: 'manual',
    });
    expect(pressed.status).toBe(303);
    const request = await arrived;
    const header = (name: string) => String(request.headers[name] ?? '');
    const problem = verifySlackSignature({
      signingSecret: secret,
      timestamp: header('x-slack-request-timestamp'),
      signature: header('x-slack-signature'),
      rawBody: request.body,
    });
    expect(problem).toBeUndefined();
    expect(payloadOf(request)).toMatchObject({
      user: { name: 'carol' },
      actions: [{ action_id: 'vigil_ack', value: '42' }],
    });
    const after = await (await fetch(new URL(pressed.headers.get('location') ?? '/', webUrl))).text();
    expect(after).toContain('pressed Acknowledge on [1] as carol: the agent answered 200');

    // Typed commands press too.
    const typed = agent.next();
    const said = waitForLine(child, /pressed Resolve on \[1\] as carol/);
    child.stdin?.write('resolve 42\n');
    expect(payloadOf(await typed).actions[0]?.action_id).toBe('vigil_resolve');
    await said;

    // The update shows, and mail with its acknowledge link.
    const updated = waitForLine(child, /📝 \[1\] updated: .*RESOLVED/);
    await slack.send({
      incident: incident({ state: 'resolved', resolvedAt: new Date(), seq: 2 }),
      kind: 'resolved',
      seq: 2,
      thread: ref,
      links: {},
    });
    await updated;
    const email = createEmailChannel(
      {
        smtpUrl,
        from: 'vigil@example.com',
        to: ['me@example.com'],
        timeout: 5000,
        rateLimit: { perSecond: 0, burst: 1 },
      },
      log,
    );
    onTestFinished(() => email.close());
    const mailed = waitForLine(child, /Acknowledge link .*: http:\/\/vigil\.test\/ack\/abc/);
    await email.send({
      incident: incident(),
      kind: 'opened',
      seq: 1,
      thread: undefined,
      links: { ack: 'http://vigil.test/ack/abc' },
    });
    await mailed;
    expect(await (await fetch(webUrl)).text()).toContain(
      '<a href="http://vigil.test/ack/abc">Acknowledge</a>',
    );

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(agent.requests).toHaveLength(2);
  }, 60_000);

  it('--socket-mode: a press goes over the Socket Mode connection of an agent with an app token', async () => {
    const child = spawnCli(
      ['receivers', '--slack-port', '0', '--smtp-port', '0', '--web-port', '0', '--socket-mode'].concat([
        '--user',
        'dave',
      ]),
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    onTestFinished(() => void child.kill('SIGKILL'));
    const [point, page, yaml] = await Promise.all([
      waitForLine(child, /Point an agent at them:/),
      waitForLine(child, /Messages and buttons/),
      waitForLine(child, /appToken: xapp-/),
    ]);
    const slackUrl = /SLACK_API_URL=(\S+)/.exec(point)?.[1] ?? '';
    const webUrl = /(http:\/\/\S+)/.exec(page)?.[1] ?? '';
    const appToken = /appToken: (\S+)/.exec(yaml)?.[1] ?? '';

    // The real Socket Mode client stands in for the agent's end of the connection.
    const socket = new SocketModeClient({
      appToken,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: slackUrl },
    });
    const interaction = new Promise<{ body: { user: { name: string }; actions: { action_id: string }[] } }>(
      (resolve) =>
        socket.on('interactive', (event: { ack: () => Promise<void>; body: never }) => {
          void event.ack();
          resolve(event);
        }),
    );
    await socket.start();
    onTestFinished(() => socket.disconnect());

    const slack = createSlackChannel(
      {
        token: 'xoxb-mine',
        apiUrl: slackUrl,
        channel: 'C0ALERTS',
        timeout: 5000,
        rateLimit: { perSecond: 0, burst: 1 },
      },
      log,
    );
    onTestFinished(() => slack.close());
    const ref = await slack.send({
      incident: incident(),
      kind: 'opened',
      seq: 1,
      thread: undefined,
      links: {},
    });
    const form = new URLSearchParams({
      channel: 'C0ALERTS',
      ts: ref.externalId,
      actionId: 'vigil_silence',
      value: '42',
    });
    const pressed = await fetch(new URL('/press', webUrl), {
      method: 'POST',
      body: form,
      redirect: 'manual',
    });
    expect(pressed.status).toBe(303);
    const { body } = await interaction;
    expect(body).toMatchObject({ user: { name: 'dave' }, actions: [{ action_id: 'vigil_silence' }] });

    await socket.disconnect();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
