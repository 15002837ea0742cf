import type { Emit, Source } from '../../contracts/source.js';
import { createPool, type Pool } from '../../db/pool.js';
import { errorMessage } from '../../errors.js';
import type { SourceContext, SourceKind } from '../kind.js';
import { PgListener } from './listener.js';
import { OutboxDrain } from './outbox-drain.js';
import { ensureOutbox, pruneSql, raisesInFlightSql, type OutboxPlace } from './outbox-sql.js';
import { pgOutboxSourceSchema, type PgOutboxSourceSpec } from './schema.js';
import { pgTarget, type PgTarget } from './target.js';

/** Rows deleted per statement when pruning, so one prune never holds a long transaction. */
const PRUNE_CHUNK = 10_000;

/**
 * The outbox of a watched database as a source: `vigil_raise(…)` inserts a row and wakes the
 * listener; the rows, not the notifications, are the events, so a notification lost while the
 * listener reconnects loses nothing: every reconnect and the safety timer drain as well.
 */
class PgOutboxSource implements Source {
  readonly kind = 'pg-outbox';
  readonly ownership = 'claimed';
  readonly name: string;
  private readonly place: OutboxPlace;
  private readonly target: PgTarget;
  private pool: Pool | undefined;
  private listener: PgListener | undefined;
  private drain: OutboxDrain | undefined;
  private timer: NodeJS.Timeout | undefined;
  private prepared: Promise<void> | undefined;
  private pruning: Promise<void> | undefined;
  private failing: string | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly spec: PgOutboxSourceSpec,
    private readonly ctx: SourceContext,
  ) {
    this.name = spec.name;
    this.place = { schema: spec.schema ?? ctx.config.database.schema, channel: spec.channel };
    this.target = pgTarget(spec, ctx);
  }

  async start(emit: Emit): Promise<void> {
    const { spec, ctx, target, place } = this;
    const pool = createPool(
      { url: target.url, schema: place.schema, poolSize: 2 },
      target.applicationName('drain'),
      target.watch.connection('outbox pool'),
    );
    this.pool = pool;
    this.drain = new OutboxDrain({
      pool,
      place,
      batchSize: spec.batchSize,
      source: spec.name,
      host: target.host,
      emit,
      prepare: () => this.prepare(),
      raisesInFlight: async () =>
        (await pool.query<{ open: boolean }>(raisesInFlightSql, [place.schema])).rows[0]?.open === true,
      reject: (row, problems) => {
        ctx.metrics.inc('vigil_source_rejected_total', { source: spec.name, reason: 'shape' });
        ctx.log.warn({ row, problems }, 'outbox row is not an event: marked done, not sent');
      },
      report: (problem) => this.report(problem),
    });
    const wake = () => this.drain?.wake();
    const notified = () => this.drain?.notified();
    this.listener = new PgListener({
      url: target.url,
      applicationName: target.applicationName('listen'),
      channels: [place.channel],
      events: target.watch.connection('outbox listener'),
      // A notification sent while reconnecting is gone; the reconnect stands for it.
      onConnected: notified,
      onNotification: notified,
    });
    this.timer = setInterval(() => {
      wake();
      this.prune();
    }, spec.safetyEvery);
    // Ready once the outbox exists, so `vigil_raise` can be called when start() resolves. A watched
    // database that is down does not hold up the agent: the drains retry, and health says so.
    await this.prepare().catch((err: unknown) => this.report(`outbox not created: ${errorMessage(err)}`));
    await this.listener.start();
    wake();
  }

  /** Logged when it starts failing, changes or recovers: wake-ups keep coming while it fails. */
  private report(problem: string | undefined): void {
    if (problem === this.failing) return;
    const { ctx } = this;
    if (problem) ctx.log.warn({ err: problem }, 'outbox drain failing; every wake-up retries');
    else ctx.log.info('outbox drain works again');
    this.failing = problem;
    ctx.health.set(`source ${this.name}`, problem && `outbox drain failing (rows stay pending): ${problem}`);
  }

  /** Creates the outbox once per source; a failure is retried by the next drain. */
  private prepare(): Promise<void> {
    const pool = this.pool as Pool;
    this.prepared ??= ensureOutbox(pool, this.place).catch((err: unknown) => {
      this.prepared = undefined;
      throw err;
    });
    return this.prepared;
  }

  private prune(): void {
    const pool = this.pool;
    if (this.pruning || !pool) return;
    this.pruning = (async () => {
      try {
        await this.prepare();
        let deleted = PRUNE_CHUNK;
        while (deleted === PRUNE_CHUNK && !this.closing)
          deleted =
            (await pool.query(pruneSql(this.place), [this.spec.retention, PRUNE_CHUNK])).rowCount ?? 0;
      } catch (err) {
        this.ctx.log.warn({ err: errorMessage(err) }, 'pruning done outbox rows failed; retried later');
      } finally {
        this.pruning = undefined;
      }
    })();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      await this.listener?.close();
      await this.drain?.close();
      await this.pruning;
      await this.pool?.end();
    })();
    return this.closing;
  }
}

export const pgOutboxKind: SourceKind<PgOutboxSourceSpec> = {
  kind: 'pg-outbox',
  ownership: 'claimed',
  schema: pgOutboxSourceSchema,
  produces: ['pg'],
  create: (spec, ctx) => new PgOutboxSource(spec, ctx),
};
