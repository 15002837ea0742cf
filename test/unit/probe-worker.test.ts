import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../src/events/event.js';
import type { QueuePayloads } from '../../src/queues/names.js';
import { probeProcessor } from '../../src/sources/probes/worker.js';
import { startHelixSim } from '../../src/demo/helix-sim.js';
import type { ProbeSpec } from '../../src/sources/probes/schema.js';

describe('probe worker', () => {
  it('gives a re-run of the same scheduled run the same event (id and time), so it counts once', async () => {
    const sim = await startHelixSim({ healthy: false });
    try {
      const spec: ProbeSpec = {
        kind: 'http',
        name: 'helix-api-health',
        url: `${sim.url}/api/v1/health`,
        method: 'GET',
        every: 5000,
        timeout: 1000,
        expectStatus: [200],
        labels: { service: 'helix-api' },
      };
      const events: VigilEvent[] = [];
      const run = probeProcessor(new Map([[spec.name, spec]]), async (e) => void events.push(e));
      const planned = Date.parse('2026-11-29T08:00:05Z');
      // What BullMQ hands a worker for one scheduler iteration; a re-run after a crash is the same job.
      const job = {
        id: `repeat:probe-helix-api-health:${planned}`,
        data: { probe: spec.name },
        opts: { prevMillis: planned },
        timestamp: planned - 5000,
      } as unknown as Job<QueuePayloads['probes']>;
      await run(job);
      await run(job);
      expect(events).toHaveLength(2);
      expect(events[1]).toMatchObject({ id: events[0]!.id, at: '2026-11-29T08:00:05.000Z', ok: false });
      expect(events[0]!.data).toMatchObject({ status: 503 });
    } finally {
      await sim.close();
    }
  });
});
