import { closeOnSignals } from '../cli/shutdown.js';
import { createLogger } from '../log.js';
import { describeCall, say } from './say.js';
import { startSlackEmulator } from './slack-emulator.js';
import { startSmtpSink } from './smtp-sink.js';

/**
 * `vigil stand-ins`: the demo's Slack Web API emulator and SMTP sink on their own, so an agent
 * pointed at a service of your own can alert without a Slack workspace or a mail server. Prints
 * each message as it arrives, until Ctrl-C.
 */
export async function runStandIns(opts: {
  host: string;
  slackPort: number;
  smtpPort: number;
}): Promise<void> {
  const slack = await startSlackEmulator({ host: opts.host, port: opts.slackPort });
  const smtp = await startSmtpSink({ host: opts.host, port: opts.smtpPort }).catch(async (err: unknown) => {
    await slack.close();
    throw err;
  });
  closeOnSignals(
    async () => {
      await Promise.allSettled([slack.close(), smtp.close()]);
    },
    5000,
    createLogger({ level: 'warn' }),
  );
  say(`Slack Web API emulator  ${slack.url}  (any xox… token, any channel)`);
  say(`SMTP sink               ${smtp.url}  (any sender and recipient, no login)`);
  say(`Point an agent at them:  SLACK_API_URL=${slack.url} SMTP_URL=${smtp.url} npx vigil start`);
  say('Ctrl-C to stop.');
  slack.onCall((call) => {
    const line = describeCall(call);
    if (line) say(`📣 ${line} (channel ${String(call.args.channel ?? '?')})`);
  });
  smtp.onMail((mail) => say(`✉️  Email to ${mail.to.join(', ')}: ${mail.subject}`));
}
