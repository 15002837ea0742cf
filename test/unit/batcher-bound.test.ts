import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VigilEvent } from '../../src/contracts/event.js';
import { Batcher, type BatcherOptions } from '../../src/queues/batcher.js';

function event(n: number): VigilEvent {
  return {
    id: `e-${n}`,
    source: 'probe',
    name: 'helix-api-health',
    at: new Date(1_700_000_000_000 + n).toISOString(),
    host: 'test-host',
    labels: {},
    ok: true,
  };
}

/**
 * A queue that hangs while "Redis is down": every batch handed over stays in flight until `up()`;
 * from then on batches are taken at once. Records what was handed over, in order.
 */
function outage() {
  const delivered: string[] = [];
  const hanging: Array<() => void> = [];
  let down = true;
  let peakInFlight = 0;
  const flush = (events: VigilEvent[]): Promise<void> => {
    const take = () => {
      delivered.push(...events.map((e) => e.id));
    };
    if (!down) return Promise.resolve().then(take);
    return new Promise<void>((resolve) => {
      hanging.push(() => {
        take();
        resolve();
      });
      peakInFlight = Math.max(peakInFlight, hanging.length);
    });
  };
  const q = {
    flush,
    delivered,
    inFlight: () => hanging.length,
    peakInFlight: () => peakInFlight,
    up() {
      down = false;
      hanging.splice(0).forEach((release) => release());
    },
  };
  outages.push(q);
  return q;
}
const outages: Array<{ up: () => void }> = [];

const open: Batcher[] = [];
function batcher(flush: (events: VigilEvent[]) => Promise<void>, opts: Omit<BatcherOptions, 'onError'>) {
  const b = new Batcher(flush, {
    ...opts,
    onError: () => {
      throw new Error('onError must not be called');
    },
  });
  open.push(b);
  return b;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
});
afterEach(async () => {
  // A test that failed mid-outage would otherwise leave close() waiting forever.
  outages.splice(0).forEach((q) => q.up());
  const closing = Promise.allSettled(open.splice(0).map((b) => b.close()));
  await vi.runAllTimersAsync();
  await closing;
  vi.useRealTimers();
});

const settled = (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  return () => done;
};

describe('Batcher bounds while the queue is unreachable', () => {
  it('keeps in-flight batches and buffered events within their bounds, and loses nothing once the queue is back', async () => {
    // The defaults (events.batchSize 200, linger 2ms, maxInFlight 4, maxBuffered 10,000), and
    // 30,000 events arriving over a minute of outage: 500 events every second.
    const q = outage();
    const b = batcher(q.flush, { maxSize: 200, lingerMs: 2, maxInFlight: 4, maxBuffered: 10_000 });
    const adds: Array<Promise<void>> = [];
    let peakBuffered = 0;
    for (let second = 0; second < 60; second++) {
      for (let i = 0; i < 500; i++) adds.push(b.add(event(adds.length)));
      await vi.advanceTimersByTimeAsync(1000);
      peakBuffered = Math.max(peakBuffered, b.buffered);
      expect(q.inFlight()).toBeLessThanOrEqual(4);
    }
    expect(q.peakInFlight()).toBe(4);
    expect(peakBuffered).toBe(10_000);
    expect(b.saturated).toBe(true);
    // Nobody was told their event is safe: it is not.
    const anyDone = settled(Promise.race(adds));
    const ready = settled(b.whenReady());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(anyDone()).toBe(false);
    expect(ready()).toBe(false);

    q.up();
    await vi.runAllTimersAsync();
    await Promise.all(adds);
    expect(ready()).toBe(true);
    expect(b.saturated).toBe(false);
    expect(b.buffered).toBe(0);
    expect(q.delivered).toHaveLength(30_000);
    expect(q.delivered).toEqual(adds.map((_, n) => `e-${n}`));
  });

  it('makes add() wait for room, and whenReady() say when there is some', async () => {
    const q = outage();
    const b = batcher(q.flush, { maxSize: 2, lingerMs: 5, maxInFlight: 1, maxBuffered: 3 });
    const first = [b.add(event(1)), b.add(event(2))]; // a full batch: in flight at once
    const buffered = [b.add(event(3)), b.add(event(4)), b.add(event(5))];
    expect(q.inFlight()).toBe(1);
    expect(b.buffered).toBe(3);
    expect(b.saturated).toBe(true);
    const sixth = settled(b.add(event(6)));
    const ready = settled(b.whenReady());
    await vi.advanceTimersByTimeAsync(1000);
    expect(b.buffered).toBe(3);
    expect([sixth(), ready()]).toEqual([false, false]);

    q.up();
    await Promise.all([...first, ...buffered]);
    expect(ready()).toBe(true);
    await vi.runAllTimersAsync();
    expect(sixth()).toBe(true);
    expect(q.delivered).toEqual(['e-1', 'e-2', 'e-3', 'e-4', 'e-5', 'e-6']);
  });

  it('close() hands over what is buffered and what is waiting, within the bound, and waits for all of it', async () => {
    const q = outage();
    const b = batcher(q.flush, { maxSize: 2, lingerMs: 600_000, maxInFlight: 2, maxBuffered: 4 });
    const adds = Array.from({ length: 12 }, (_, n) => b.add(event(n)));
    expect(q.inFlight()).toBe(2);
    expect(b.buffered).toBe(4);
    let closed = false;
    const closing = b.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(1000);
    expect(q.inFlight()).toBe(2);
    expect(closed).toBe(false);
    q.up();
    await closing;
    await Promise.all(adds);
    expect(q.delivered).toEqual(adds.map((_, n) => `e-${n}`));
    await expect(b.add(event(99))).rejects.toThrow(/closed/);
  });
});
