import type { Redis } from 'ioredis';
import type { VigilEvent } from '../contracts/event.js';
import type { Health } from '../health.js';
import type { Metrics } from '../metrics.js';

/** The event name the rule engine recognises as a canary (no rule can match `manual` events of it). */
export const CANARY_EVENT = 'vigil.canary';

/** Where a canary that came all the way through a channel's queue records itself, per sending agent. */
export const canaryKey = (prefix: string, agent: string, channel: string) =>
  `${prefix}:canary:${agent}:${channel}`;

/** What a canary's notify job carries instead of a lease. */
export interface CanaryTag {
  agent: string;
  sentAt: number;
}

export function isCanary(e: VigilEvent): boolean {
  return e.source === 'manual' && e.name === CANARY_EVENT;
}

/**
 * Sends a canary every `everyMs` and watches how old the newest one that came back is. A canary
 * passes through the batcher, the events queue, the rule engine and a dry-run delivery on each
 * channel queue, so its age grows when any of them is stuck, even while every dependency answers.
 */
export class Canary {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private lastSeen: number | undefined;

  constructor(
    private readonly d: {
      redis: Redis;
      prefix: string;
      agentId: string;
      host: string;
      /** Channels whose queues the canary must come through. */
      channels: readonly string[];
      send: (e: VigilEvent) => Promise<void>;
      health: Health;
      metrics: Metrics;
      everyMs: number;
      maxAgeMs: number;
    },
  ) {
    d.metrics.gauge('vigil_canary_age_seconds', {}, () => this.ageMs() / 1000);
  }

  /** Milliseconds since the newest canary that came back was sent (since start, before the first). */
  ageMs(): number {
    return Date.now() - (this.lastSeen ?? this.startedAt);
  }

  start(): void {
    const loop = () => {
      void this.beat().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(loop, this.d.everyMs);
      });
    };
    this.timer = setTimeout(loop, 0);
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async beat(): Promise<void> {
    const { d } = this;
    const now = Date.now();
    // Not awaited for the check: a stuck queue must not stop us from noticing it is stuck.
    d.send({
      id: `canary:${d.agentId}:${now}`,
      source: 'manual',
      name: CANARY_EVENT,
      at: new Date(now).toISOString(),
      host: d.host,
      labels: { agent: d.agentId },
    }).catch(() => undefined);
    // The slowest channel decides: a canary has come through when it came through every queue.
    const keys = d.channels.map((c) => canaryKey(d.prefix, d.agentId, c));
    const seen = keys.length ? await d.redis.mget(...keys).catch(() => []) : [];
    const slowest = Math.min(...seen.map((v) => Number(v ?? 0)));
    if (seen.length === keys.length && slowest > 0) this.lastSeen = Math.max(this.lastSeen ?? 0, slowest);
    const age = this.ageMs();
    d.health.set(
      'canary',
      age > d.maxAgeMs ? `no canary has come through the pipeline for ${Math.round(age / 1000)}s` : undefined,
    );
  }
}
