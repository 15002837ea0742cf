import { afterEach, describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../src/contracts/event.js';
import { Batcher } from '../../src/queues/batcher.js';

function event(n: number): VigilEvent {
  return {
    id: `probe-run-${n}`,
    source: 'probe',
    name: 'helix-api-health',
    at: new Date(1_700_000_000_000 + n * 1000).toISOString(),
    host: 'test-host',
    labels: { service: 'helix-api' },
    ok: n % 2 === 0,
  };
}

/** A flush function that records every batch it was handed, with when it was handed it. */
function recorder(fail?: (batch: VigilEvent[]) => Error | undefined) {
  const batches: Array<{ ids: string[]; at: number }> = [];
  const flush = async (events: VigilEvent[]) => {
    batches.push({ ids: events.map((e) => e.id), at: performance.now() });
    const err = fail?.(events);
    if (err) throw err;
  };
  return { batches, flush };
}

const open: Batcher[] = [];
function batcher(...args: ConstructorParameters<typeof Batcher>): Batcher {
  const b = new Batcher(...args);
  open.push(b);
  return b;
}
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((b) => b.close()));
});

/** The defaults of events.maxInFlight / events.maxBuffered. */
const bounds = { maxInFlight: 4, maxBuffered: 10_000 };

const noErrors = () => {
  throw new Error('onError must not be called');
};

describe('Batcher', () => {
  it('flushes as soon as a batch is full, without waiting for the linger', async () => {
    const { batches, flush } = recorder();
    // A linger far longer than the test timeout: only the size can have flushed.
    const b = batcher(flush, { maxSize: 3, lingerMs: 600_000, ...bounds, onError: noErrors });
    const adds = [b.add(event(1)), b.add(event(2))];
    expect(batches).toHaveLength(0);
    adds.push(b.add(event(3)));
    // The full batch is handed over synchronously, in order, as one batch.
    expect(batches.map((x) => x.ids)).toEqual([['probe-run-1', 'probe-run-2', 'probe-run-3']]);
    await Promise.all(adds);

    // The next events start a new batch.
    const more = [b.add(event(4)), b.add(event(5)), b.add(event(6))];
    await Promise.all(more);
    expect(batches.map((x) => x.ids)).toEqual([
      ['probe-run-1', 'probe-run-2', 'probe-run-3'],
      ['probe-run-4', 'probe-run-5', 'probe-run-6'],
    ]);
  });

  it('sends a lone event at once when the queue is idle, keeping events added together in one batch', async () => {
    const { batches, flush } = recorder();
    // A linger far longer than the test timeout: only idleness can have flushed.
    const b = batcher(flush, { maxSize: 100, lingerMs: 600_000, ...bounds, onError: noErrors });
    const first = b.add(event(1));
    const second = b.add(event(2));
    expect(batches).toHaveLength(0);
    await Promise.all([first, second]);
    expect(batches.map((x) => x.ids)).toEqual([['probe-run-1', 'probe-run-2']]);

    await b.add(event(3));
    expect(batches.map((x) => x.ids)).toEqual([['probe-run-1', 'probe-run-2'], ['probe-run-3']]);
  });

  it('while a batch is in flight, collects the next one for at most the linger', async () => {
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const batches: Array<{ ids: string[]; at: number }> = [];
    const b = batcher(
      async (events) => {
        batches.push({ ids: events.map((e) => e.id), at: performance.now() });
        if (batches.length === 1) await slow;
      },
      { maxSize: 100, lingerMs: 25, ...bounds, onError: noErrors },
    );
    const first = b.add(event(1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toHaveLength(1);
    const started = performance.now();
    const later = [b.add(event(2)), b.add(event(3))];
    await Promise.all(later);
    // It was the linger, not idleness (the first batch is still in flight), that flushed them.
    expect(batches[1]!.ids).toEqual(['probe-run-2', 'probe-run-3']);
    expect(batches[1]!.at - started).toBeGreaterThanOrEqual(20);
    release();
    await first;
  });

  it('resolves add() only once the batch has been handed over (durable)', async () => {
    let release!: () => void;
    const handedOver = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const b = batcher(
      async () => {
        calls++;
        await handedOver;
      },
      { maxSize: 1, lingerMs: 600_000, ...bounds, onError: noErrors },
    );
    let done = false;
    const add = b.add(event(1)).then(() => (done = true));
    expect(calls).toBe(1);
    // The flush is still in flight: the caller must not believe the event is safe yet.
    await Promise.resolve();
    expect(done).toBe(false);
    release();
    await add;
    expect(done).toBe(true);
  });

  it('close() flushes what is buffered and waits for every batch in flight', async () => {
    const finished: string[][] = [];
    const releases: Array<() => void> = [];
    const b = batcher(
      (events) =>
        new Promise<void>((resolve) =>
          releases.push(() => {
            finished.push(events.map((e) => e.id));
            resolve();
          }),
        ),
      { maxSize: 2, lingerMs: 600_000, ...bounds, onError: noErrors },
    );
    const adds = [b.add(event(1)), b.add(event(2)), b.add(event(3))];
    expect(releases).toHaveLength(1); // [1, 2] is in flight, [3] is buffered
    let closed = false;
    const closing = b.close().then(() => (closed = true));
    // close() flushed the rest at once rather than waiting for the linger.
    expect(releases).toHaveLength(2);
    releases[1]!();
    await adds[2];
    expect(closed).toBe(false); // the first batch is still in flight
    releases[0]!();
    await closing;
    expect(closed).toBe(true);
    expect(finished).toEqual([['probe-run-3'], ['probe-run-1', 'probe-run-2']]);
    await Promise.all(adds);
    // Idempotent.
    await b.close();
  });

  it('rejects add() after close(), and never hands that event over', async () => {
    const { batches, flush } = recorder();
    const b = batcher(flush, { maxSize: 10, lingerMs: 5, ...bounds, onError: noErrors });
    await b.close();
    await expect(b.add(event(1))).rejects.toThrow(/closed/);
    await b.close();
    expect(batches).toHaveLength(0);
  });

  it('rejects every waiting add() of a batch that failed and reports it once to onError', async () => {
    const failure = new Error('Redis is down');
    const { batches, flush } = recorder((events) => (events[0]!.id === 'probe-run-1' ? failure : undefined));
    const errors: Array<{ err: unknown; ids: string[] }> = [];
    const b = batcher(flush, {
      maxSize: 2,
      lingerMs: 600_000,
      ...bounds,
      onError: (err, events) => errors.push({ err, ids: events.map((e) => e.id) }),
    });
    const failed = [b.add(event(1)), b.add(event(2))];
    const results = await Promise.allSettled(failed);
    expect(results).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
    expect(errors).toEqual([{ err: failure, ids: ['probe-run-1', 'probe-run-2'] }]);

    // A failed batch does not poison the batcher: the next one goes through.
    await Promise.all([b.add(event(3)), b.add(event(4))]);
    expect(batches.map((x) => x.ids)).toEqual([
      ['probe-run-1', 'probe-run-2'],
      ['probe-run-3', 'probe-run-4'],
    ]);
    expect(errors).toHaveLength(1);
  });

  it('close() waits for a failing batch and does not throw itself', async () => {
    const failure = new Error('queue unavailable');
    const errors: unknown[] = [];
    const b = batcher(
      async () => {
        throw failure;
      },
      { maxSize: 100, lingerMs: 600_000, ...bounds, onError: (err) => errors.push(err) },
    );
    const pending = b.add(event(1));
    const rejected = expect(pending).rejects.toBe(failure);
    await b.close();
    await rejected;
    expect(errors).toEqual([failure]);
  });
});
