import { errorMessage } from '../errors.js';
import type { Health } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';

/**
 * Calls a dead-man's-switch URL every `everyMs` while the agent is healthy, and stops calling when it
 * is not: whoever watches the URL is told Vigil is stuck even when Vigil cannot tell anyone itself.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly d: {
      url: string;
      everyMs: number;
      timeoutMs: number;
      health: Health;
      metrics: Metrics;
      log: Logger;
    },
  ) {}

  start(): void {
    const loop = () => {
      void this.beat().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(loop, this.d.everyMs);
      });
    };
    this.timer = setTimeout(loop, this.d.everyMs);
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async beat(): Promise<void> {
    const { d } = this;
    if (!d.health.ok) {
      d.metrics.inc('vigil_heartbeats_total', { outcome: 'withheld' });
      return;
    }
    try {
      const res = await fetch(d.url, { method: 'POST', signal: AbortSignal.timeout(d.timeoutMs) });
      await res.body?.cancel();
      d.metrics.inc('vigil_heartbeats_total', { outcome: res.ok ? 'sent' : 'failed' });
      if (!res.ok) d.log.warn({ status: res.status }, 'heartbeat not accepted');
    } catch (err) {
      d.metrics.inc('vigil_heartbeats_total', { outcome: 'failed' });
      d.log.warn({ err: errorMessage(err) }, 'heartbeat failed');
    }
  }
}
