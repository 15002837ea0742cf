import type { ZodType } from 'zod';
import type { VigilConfig } from '../config/schema.js';
import type { Ownership, Source } from '../contracts/source.js';
import type { Pool } from '../db/pool.js';
import type { Health } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Redis } from '../queues/connection.js';
import type { Queues } from '../queues/queues.js';
import type { RuleSet } from '../rules/loader.js';

/** What the agent lends its sources: they open nothing of this themselves, and close none of it. */
export interface SourceContext {
  config: VigilConfig;
  rules: RuleSet;
  /** Vigil's own database; a source watching another database opens its own connections. */
  pool: Pool;
  client: Redis;
  /** Blocking connection for BullMQ workers (maxRetriesPerRequest: null). */
  workerConn: Redis;
  queues: Queues;
  metrics: Metrics;
  health: Health;
  /** Already a child logger naming the source. */
  log: Logger;
  agentId: string;
}

/**
 * A kind of source: how its `sources:` entry is validated and how it is built. `ownership` is the
 * kind's, not the entry's: it says which agent does the work (see contracts/source.ts).
 */
export interface SourceKind<Spec extends { kind: string; name: string }> {
  readonly kind: Spec['kind'];
  readonly ownership: Ownership;
  readonly schema: ZodType<Spec>;
  /** Event sources (`event.source`) this kind produces, for `vigil rules validate`. */
  readonly produces: readonly string[];
  /**
   * The names of the events an entry can produce (its signals), for `vigil rules validate`; a kind
   * whose names are open-ended (they come from rows or payloads) leaves it out.
   */
  eventNames?(spec: Spec): readonly string[];
  /** The labels every event of that name carries, for groupBy warnings; open-ended kinds leave it out. */
  eventLabels?(spec: Spec, name: string): readonly string[];
  /** Probe kinds (a rule's `probe.kind`) this kind runs, for `vigil rules validate`. */
  readonly runsProbes?: readonly string[];
  create(spec: Spec, ctx: SourceContext): Source;
}
