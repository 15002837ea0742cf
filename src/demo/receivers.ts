import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { closeOnSignals } from '../cli/shutdown.js';
import { errorMessage } from '../errors.js';
import { createLogger } from '../log.js';
import { actionIdOf, Board, buttonsOf, type Presser } from './receivers-board.js';
import { runReceiversCommand } from './receivers-commands.js';
import { startReceiversWeb } from './receivers-web.js';
import { say, unslack } from './say.js';
import { startSlackEmulator, type SlackCall, type SlackEmulator } from './slack-emulator.js';
import { startSmtpSink } from './smtp-sink.js';

export interface ReceiversOptions {
  host: string;
  slackPort: number;
  smtpPort: number;
  webPort: number;
  /** The agent's interactivity endpoint, where pressed buttons are POSTed, signed. */
  requestUrl: string;
  signingSecret?: string;
  /** Buttons go over the agent's Socket Mode connection instead (slack.appToken). */
  socketMode: boolean;
  /** Who presses the buttons, as the agent records it. */
  user?: string;
}

/**
 * `vigil receivers`: the Slack Web API emulator and the SMTP sink on their own, for an agent of your
 * own: prints what to put in vigil.yaml, shows each message and mail as it arrives, and presses a
 * message's buttons (signed like Slack would) from the terminal or a local web page. Until Ctrl-C.
 */
export async function runReceivers(opts: ReceiversOptions): Promise<void> {
  const slack = await startSlackEmulator({ host: opts.host, port: opts.slackPort });
  const smtp = await startSmtpSink({ host: opts.host, port: opts.smtpPort }).catch(async (err: unknown) => {
    await slack.close();
    throw err;
  });
  const board = new Board(() => slack.messages());
  const secret = opts.signingSecret ?? randomBytes(16).toString('hex');
  slack.interactivity(
    opts.socketMode ? { socketMode: true } : { requestUrl: opts.requestUrl, signingSecret: secret },
  );
  const user = { id: 'U0RECEIVER', name: opts.user ?? userInfo().username };

  const press: Presser = async (n, actionId, value) => {
    const entry = board.entry(n);
    if (!entry) return `no message [${n}] (list shows them)`;
    const button = entry.buttons.find(
      (b) => b.actionId === actionId && (value === undefined || b.value === value),
    );
    if (!button) return `message [${n}] has no button ${actionId} now`;
    const { channel, ts } = entry.message;
    try {
      const res = await slack.press({
        channel,
        ts,
        actionId,
        ...(button.value ? { value: button.value } : {}),
        user,
      });
      // A 401 is almost always a signing secret from an earlier run of this command: say so.
      const hint =
        res.status === 401
          ? ' (the agent refused the signature: its slack.signingSecret must be the one printed above; each run makes a new one unless given --signing-secret)'
          : '';
      return `pressed ${button.label} on [${n}] as ${user.name}: the agent answered ${res.status}${res.body ? ` ${res.body.slice(0, 200)}` : ''}${hint}`;
    } catch (err) {
      const where = opts.socketMode ? 'the agent over Socket Mode' : opts.requestUrl;
      return `pressing ${button.label} on [${n}] failed: ${errorMessage(err)} (is the agent running and reachable at ${where}?)`;
    }
  };

  const web = await startReceiversWeb({
    host: opts.host,
    port: opts.webPort,
    board,
    mails: smtp.messages,
    requestUrl: opts.socketMode ? 'the agent over Socket Mode' : opts.requestUrl,
    press,
  }).catch(async (err: unknown) => {
    await Promise.allSettled([slack.close(), smtp.close()]);
    throw err;
  });
  const input = createInterface({ input: process.stdin, terminal: false });
  closeOnSignals(
    async () => {
      input.close();
      await Promise.allSettled([slack.close(), smtp.close(), web.close()]);
    },
    5000,
    createLogger({ level: 'warn' }),
  );

  printSetup(opts, slack.url, smtp.url, web.url, secret);
  slack.onCall((call) => describe(board, slack, call, web.url));
  smtp.onMail((mail) => {
    say(`✉️  Email to ${mail.to.join(', ')}: ${mail.subject}`);
    const ack = /^Acknowledge: (\S+)$/m.exec(mail.text)?.[1];
    if (ack) say(`   Acknowledge link (open it in a browser): ${ack}`);
  });
  input.on('line', (line) => {
    runReceiversCommand(line, { board, press, actionIdOf }).then(
      (out) => out && say(out),
      (err: unknown) => say(`⚠️  ${errorMessage(err)}`),
    );
  });
}

function printSetup(
  opts: ReceiversOptions,
  slackUrl: string,
  smtpUrl: string,
  webUrl: string,
  secret: string,
) {
  say(`Slack Web API emulator  ${slackUrl}  (any xox… token, any channel)`);
  say(`SMTP sink               ${smtpUrl}  (any sender and recipient, no login)`);
  say(`Messages and buttons    ${webUrl}`);
  say(`Point an agent at them:  SLACK_API_URL=${slackUrl} SMTP_URL=${smtpUrl} npx vigil start`);
  const lines = [
    'slack:',
    `  apiUrl: ${slackUrl}`,
    '  token: xoxb-receivers',
    '  channel: C0ALERTS',
    opts.socketMode ? '  appToken: xapp-receivers' : `  signingSecret: ${secret}`,
    'email:',
    `  smtpUrl: ${smtpUrl}`,
    '  from: Vigil <vigil@localhost>',
    '  to: [oncall@localhost]',
    'http:',
    `  linkSecret: ${randomBytes(24).toString('hex')}   # with publicUrl: emails carry an Acknowledge link`,
    `publicUrl: ${new URL(opts.requestUrl).origin}`,
  ];
  console.log(['', 'Or in vigil.yaml:', ...lines.map((l) => `  ${l}`), ''].join('\n'));
  if (!opts.socketMode)
    say(`Buttons are signed and POSTed to ${opts.requestUrl} (the agent's; --request-url to change)`);
  else say('Buttons go to the agent over Socket Mode (it connects with slack.appToken)');
  say('Type help for commands. Ctrl-C to stop.');
}

/** One line per message, update and reply, with the message's number and buttons. */
function describe(board: Board, slack: SlackEmulator, call: SlackCall, webUrl: string): void {
  if (call.status !== 200 || !['chat.postMessage', 'chat.update'].includes(call.method)) return;
  const res = call.response as { ok?: boolean; channel?: string; ts?: string };
  if (!res.ok || !res.channel || !res.ts) return;
  const lines = String(call.args.text ?? '').split('\n');
  const text = lines[0] ?? '';
  const threadTs = typeof call.args.thread_ts === 'string' ? call.args.thread_ts : undefined;
  if (threadTs) {
    // A reply's lines are what it says (a remediation's outcome and steps): shown, not only its heading.
    const rest = lines.slice(1, 13).map((l) => `\n      ${unslack(l)}`);
    if (lines.length > 13) rest.push(`\n      … ${lines.length - 13} more lines (the page shows all)`);
    const run = buttonsOf({ blocks: call.args.blocks, attachments: call.args.attachments })
      .find((b) => b.actionId === 'vigil_approve')
      ?.value?.split(':')[1];
    if (run) rest.push(`\n      approve or reject: vigil remediation approve ${run} (or reject ${run})`);
    say(`💬 [${board.numberOf(res.channel, threadTs)}] thread reply: ${text}${rest.join('')}`);
    return;
  }
  const n = board.numberOf(res.channel, res.ts);
  const posted = call.method === 'chat.postMessage';
  say(posted ? `📣 [${n}] ${res.channel}: ${text}` : `📝 [${n}] updated: ${text}`);
  const message = slack.message(res.channel, res.ts);
  const buttons = message ? buttonsOf(message) : [];
  if (buttons.length)
    say(
      `   buttons: ${buttons.map((b) => b.label).join(' · ')}  (press ${n} ack|resolve|silence|not-actionable, or ${webUrl}#m${n})`,
    );
}
