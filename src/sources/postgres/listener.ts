import pgListen, { type Subscriber } from 'pg-listen';
import type { ConnectionEvents } from '../../connection-watch.js';
import { errorMessage } from '../../errors.js';

export interface ListenerOptions {
  url: string;
  /** Shown in pg_stat_activity, so an operator (or a test) can tell this connection apart. */
  applicationName: string;
  channels: readonly string[];
  events: ConnectionEvents;
  /** After the first connect and every reconnect, once every channel is listened to again. */
  onConnected: () => void;
  /** `payload` is the raw text ('' when none): parsing it is the caller's, so nothing here can throw. */
  onNotification: (channel: string, payload: string) => void;
}

// CommonJS typed as `export default`: `.default` is the function under Node, tsx and vitest alike.
const createSubscriber = pgListen.default;

/** Between attempts while the server is away: quick at first, then every few seconds. */
const retryDelay = (attempt: number) => Math.min(100 * 2 ** attempt, 5000);

/**
 * A LISTEN connection that comes back by itself, however long the server is away. pg-listen does the
 * reconnecting (given retryTimeout Infinity, and a parse that cannot throw: its default JSON.parse
 * turns one bad payload into an error event); this class also retries the first connect, which
 * pg-listen leaves to its caller, so an agent starts while a watched database is down.
 */
export class PgListener {
  private subscriber: Subscriber | undefined;
  private retry: NodeJS.Timeout | undefined;
  private attempts = 0;
  private closed = false;

  constructor(private readonly opts: ListenerOptions) {}

  /** Resolves after the first attempt, whether or not it connected; later attempts follow on their own. */
  async start(): Promise<void> {
    if (this.closed) return;
    const { opts } = this;
    const subscriber = createSubscriber(
      { connectionString: opts.url, application_name: opts.applicationName },
      { retryTimeout: Infinity, retryInterval: retryDelay, paranoidChecking: 5000, parse: (s) => s },
    );
    subscriber.events.on('connected', () => {
      // pg-listen's reconnect loop does not stop at close(): a connection it makes afterwards is ended here.
      if (this.closed) return void subscriber.close().catch(() => undefined);
      opts.events.ok();
      opts.onConnected();
    });
    subscriber.events.on('reconnect', (attempt) => {
      if (attempt === 1) opts.events.error(new Error('LISTEN connection lost'));
    });
    // Only a failed re-LISTEN after a reconnect gets here; the paranoid check then reconnects again.
    subscriber.events.on('error', (err) => opts.events.error(err));
    subscriber.events.on('notification', (n) =>
      opts.onNotification(n.channel, typeof n.payload === 'string' ? n.payload : ''),
    );
    try {
      await subscriber.connect();
      await Promise.all(opts.channels.map((c) => subscriber.listenTo(c)));
      this.subscriber = subscriber;
      if (this.closed) await this.close();
    } catch (err) {
      opts.events.error(Object.assign(new Error(errorMessage(err)), { cause: err }));
      await subscriber.close().catch(() => undefined);
      if (!this.closed) this.retry = setTimeout(() => void this.start(), retryDelay(++this.attempts));
      return;
    }
    // pg-listen said "connected" before the channels were listened to; what came before is drained now.
    opts.onConnected();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    await subscriber?.close().catch(() => undefined);
  }
}
