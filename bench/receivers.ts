/**
 * Child process of the bench: the Slack Web API emulator and the SMTP sink from src/demo, away from
 * the agent's event loop (in production Slack and the mail server are other machines). Forked by
 * bench/remote-receivers.ts; reports every Slack call and accepted mail to the parent over IPC and
 * exits when told to or as soon as the parent goes away.
 */
import { hrNow } from '../src/demo/records.js';
import { startSlackEmulator, type SlackRateLimit } from '../src/demo/slack-emulator.js';
import { startSmtpSink } from '../src/demo/smtp-sink.js';
import { incidentsIn, servicesIn, type FromChild, type ToChild } from './receivers-protocol.js';

if (!process.send) {
  console.error('bench/receivers.ts is started by the bench (npm run bench), not on its own');
  process.exit(2);
}

const send = (message: FromChild): void => {
  if (process.connected) process.send?.(message);
};

/** BENCH_SLACK_RATE_LIMIT: `{"perSecond":1,"burst":3}` for Slack's per-channel limit; unset: none. */
const rateLimit = process.env.BENCH_SLACK_RATE_LIMIT
  ? (JSON.parse(process.env.BENCH_SLACK_RATE_LIMIT) as SlackRateLimit)
  : false;
const slack = await startSlackEmulator({ rateLimit });
const smtp = process.env.BENCH_EMAIL === '0' ? undefined : await startSmtpSink();

let closing: Promise<void> | undefined;
const shutdown = (code: number): Promise<void> =>
  (closing ??= (async () => {
    // Servers drop their connections on close; this only guards against a hang.
    setTimeout(() => process.exit(code), 3000).unref();
    await Promise.allSettled([slack.close(), smtp?.close()]);
    process.exit(code);
  })());

// setImmediate: the emulator answers the HTTP request first; the record keeps its own hr stamp.
slack.onCall((call) =>
  setImmediate(() =>
    send({
      type: 'slack',
      method: call.method,
      status: call.status,
      hr: call.hr,
      services: servicesIn(JSON.stringify(call.args.blocks ?? '')),
      ...incidentsIn(call.args.metadata),
    }),
  ),
);
smtp?.onMail((mail) =>
  setImmediate(() =>
    send({ type: 'mail', subject: mail.subject, hr: mail.hr, services: servicesIn(mail.text) }),
  ),
);

process.on('message', (message: ToChild) => {
  switch (message.type) {
    case 'ping':
      send({ type: 'pong', id: message.id, hr: hrNow() });
      break;
    case 'reset':
      slack.reset();
      smtp?.reset();
      send({ type: 'reset-done', id: message.id });
      break;
    case 'close':
      void shutdown(0);
      break;
  }
});
// The parent closed the channel or died (even by SIGKILL): never outlive it.
process.on('disconnect', () => void shutdown(0));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(0));

send({ type: 'ready', slackUrl: slack.url, smtpUrl: smtp?.url });
