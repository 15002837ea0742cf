import { LogLevel, SocketModeClient, type Logger as SlackLogger } from '@slack/socket-mode';
import type { Queue } from 'bullmq';
import type { QueuePayloads } from '../contracts/queues.js';
import { errorMessage } from '../errors.js';
import type { Health } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { enqueueActionJobs, SlackPayloadError, slackActionJobs } from './slack-actions.js';

export interface SlackSocketDeps {
  /** App-level token (xapp-…): it authenticates the connection, so envelopes carry no signature. */
  appToken: string;
  apiUrl: string;
  timeoutMs: number;
  queue: Queue<QueuePayloads['events']>;
  metrics: Metrics;
  /** A connection that fails shows in /healthz: buttons pressed meanwhile do nothing. */
  health: Health;
  log: Logger;
  /** Pause before reconnecting after a failure, doubled each time up to 30 s (default 1 s). */
  retryBaseMs?: number;
}

function slackLogger(log: Logger): SlackLogger {
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => log.debug(text(msg)),
    info: (...msg: unknown[]) => log.debug(text(msg)),
    warn: (...msg: unknown[]) => log.warn(text(msg)),
    // Its errors are connection failures that the reconnect loop reports once, with the attempt.
    error: (...msg: unknown[]) => log.debug(text(msg)),
    setLevel: () => undefined,
    getLevel: () => LogLevel.DEBUG,
    setName: () => undefined,
  };
}

/**
 * Interactions over Slack Socket Mode: no public URL needed. The reconnect loop is ours, not the
 * library's: its own reconnect retries `apps.connections.open` for hours on timers close() cannot
 * stop, and rejects unhandled when it gives up.
 */
export class SlackSocket {
  private readonly client: SocketModeClient;
  private readonly log: Logger;
  private closed = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly d: SlackSocketDeps) {
    this.log = d.log.child({ component: 'slack-socket' });
    this.client = new SocketModeClient({
      appToken: d.appToken,
      autoReconnectEnabled: false,
      logger: slackLogger(this.log),
      clientOptions: { slackApiUrl: d.apiUrl, timeout: d.timeoutMs, retryConfig: { retries: 0 } },
    });
    this.client.on(
      'interactive',
      (event: { ack: () => Promise<void>; body: unknown }) => void this.onInteractive(event),
    );
  }

  /** Begins connecting; returns at once (Slack being away must not stop the agent from starting). */
  start(): void {
    if (this.closed) return;
    this.loop ??= this.run();
  }

  private async onInteractive(event: { ack: () => Promise<void>; body: unknown }): Promise<void> {
    const count = (outcome: string) =>
      this.d.metrics.inc('vigil_slack_interactions_total', { transport: 'socket', outcome });
    try {
      const jobs = slackActionJobs(event.body);
      await enqueueActionJobs(this.d.queue, jobs);
      count(jobs.length ? 'queued' : 'ignored');
      if (jobs.length)
        this.log.info(
          { jobs: jobs.map((j) => `${j.data.action} #${j.data.incidentId}`) },
          'Slack interaction queued',
        );
    } catch (err) {
      const bad = err instanceof SlackPayloadError;
      count(bad ? 'bad payload' : 'failed');
      this.log.warn(
        { reason: errorMessage(err) },
        bad ? 'Slack interaction refused' : 'Slack interaction not queued',
      );
    }
    // Acknowledged either way: Slack sending the same envelope again would meet the same fate.
    await event
      .ack()
      .catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'envelope not acknowledged'));
  }

  private async run(): Promise<void> {
    for (let failures = 0; !this.closed;) {
      const ended = { resolve: (): void => undefined };
      const disconnected = new Promise<void>((resolve) => (ended.resolve = resolve));
      const onDisconnect = () => ended.resolve();
      this.client.once('disconnected', onDisconnect);
      try {
        await this.client.start();
        if (this.closed) break;
        this.log.info('Socket Mode connected');
        this.d.health.set('slack-socket', undefined);
        failures = 0;
        await disconnected;
        if (!this.closed) this.log.warn('Socket Mode disconnected; reconnecting');
      } catch (err) {
        this.client.removeListener('disconnected', onDisconnect);
        failures += 1;
        if (!this.closed) {
          this.log.warn({ err: errorMessage(err), failures }, 'Socket Mode connection failed');
          this.d.health.set('slack-socket', `Socket Mode not connected: ${errorMessage(err)}`);
        }
      }
      if (this.closed) break;
      const pauseMs = Math.min((this.d.retryBaseMs ?? 1000) * 2 ** Math.max(0, failures - 1), 30_000);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pauseMs);
        this.wake = () => (clearTimeout(timer), resolve());
      });
    }
    // A start() that was still opening when close() came may have connected since.
    await this.client.disconnect();
  }

  /** Idempotent; resolves once the connection is closed and nothing is left to reconnect it. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.wake?.();
      await this.client.disconnect();
      await this.loop;
    })();
    return this.closing;
  }
}
