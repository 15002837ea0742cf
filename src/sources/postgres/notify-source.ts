import { randomUUID } from 'node:crypto';
import type { Emit, Source } from '../../contracts/source.js';
import { errorMessage } from '../../errors.js';
import type { SourceContext, SourceKind } from '../kind.js';
import { PgListener } from './listener.js';
import { parsePayload } from './notify-payload.js';
import { toEvent } from './raised.js';
import { pgNotifySourceSchema, type PgNotifySourceSpec } from './schema.js';
import { pgTarget, type PgTarget } from './target.js';

/** Notifications being handed over at once; past that, new ones are refused (counted as `overflow`). */
const MAX_IN_FLIGHT = 10_000;

/**
 * Plain NOTIFY channels as a source, each payload one event. Best effort, by PostgreSQL's design:
 * a notification sent while the listener is disconnected is gone. What must not be lost belongs in
 * the outbox (pg-outbox). Bad payloads are counted and logged with the reason; listening goes on.
 */
class PgNotifySource implements Source {
  readonly kind = 'pg-notify';
  readonly ownership = 'host-bound';
  readonly name: string;
  private readonly target: PgTarget;
  private listener: PgListener | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly spec: PgNotifySourceSpec,
    private readonly ctx: SourceContext,
  ) {
    this.name = spec.name;
    this.target = pgTarget(spec, ctx);
  }

  async start(emit: Emit): Promise<void> {
    const { target, spec } = this;
    this.listener = new PgListener({
      url: target.url,
      applicationName: target.applicationName('listen'),
      channels: spec.channels,
      events: target.watch.connection('notify listener'),
      onConnected: () => undefined,
      onNotification: (channel, payload) => this.receive(channel, payload, emit),
    });
    await this.listener.start();
  }

  private receive(channel: string, text: string, emit: Emit): void {
    const { spec, ctx } = this;
    const refuse = (reason: string, problems: string[]) => {
      ctx.metrics.inc('vigil_source_rejected_total', { source: spec.name, reason });
      ctx.log.warn({ channel, reason, problems, bytes: Buffer.byteLength(text) }, 'notification refused');
    };
    if (this.closing) return;
    if (this.inFlight.size >= MAX_IN_FLIGHT)
      return refuse('overflow', [`${MAX_IN_FLIGHT} notifications are already waiting for the queue`]);
    const parsed = parsePayload(text, spec.maxPayloadBytes);
    if (!parsed.ok) return refuse(parsed.reason, parsed.problems);
    const { id, ...raised } = parsed.payload;
    const event = toEvent(raised, {
      id: `pg-${spec.name}-${id ?? randomUUID()}`,
      at: new Date(),
      host: this.target.host,
      labels: { source: spec.name, channel },
    });
    const sent = emit([event]).catch((err: unknown) =>
      ctx.log.error({ channel, event: event.id, err: errorMessage(err) }, 'notification not queued'),
    );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.listener?.close();
      await Promise.allSettled([...this.inFlight]);
    })();
    return this.closing;
  }
}

export const pgNotifyKind: SourceKind<PgNotifySourceSpec> = {
  kind: 'pg-notify',
  ownership: 'host-bound',
  schema: pgNotifySourceSchema,
  produces: ['pg'],
  create: (spec, ctx) => new PgNotifySource(spec, ctx),
};
