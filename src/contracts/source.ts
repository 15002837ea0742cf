import type { RuleSet } from '../rules/loader.js';
import type { VigilEvent } from './event.js';

/**
 * Who does a source's work when several agents run. The three differ in what a second agent adds:
 * - `cluster-scheduled`: one run per interval across all agents (probes, through a BullMQ scheduler);
 *   a second agent adds capacity, never a second run.
 * - `host-bound`: only the agent on that host can do it (log tails, process and system probes); each
 *   agent does its own host's, and its events carry the host.
 * - `claimed`: work items taken by whichever agent is free (the PostgreSQL outbox, rows claimed with
 *   `SKIP LOCKED`); a second agent adds capacity, and no item is taken twice.
 */
export type Ownership = 'cluster-scheduled' | 'host-bound' | 'claimed';

/**
 * Hands events to the events queue, in batches. Resolves once every one of them is durable in Redis:
 * a source that keeps a position (a file offset, an outbox row) advances it only after that.
 */
export type Emit = (events: readonly VigilEvent[]) => Promise<void>;

/** One listener, poller or timer that turns what it watches into events. */
export interface Source {
  readonly kind: string;
  /** Unique among the agent's sources; logs and metrics name it. */
  readonly name: string;
  readonly ownership: Ownership;
  /** Begins watching. Resolves once it runs; problems later are the source's to log and survive. */
  start(emit: Emit): Promise<void>;
  /**
   * The rule set was reloaded (hot reload): a source whose work depends on the rules (their probes,
   * the log signals they match) adopts the new set. Called only between start() and close().
   */
  rulesChanged?(rules: RuleSet): Promise<void>;
  /** Stops watching and waits for what it was emitting. Idempotent. */
  close(): Promise<void>;
}
