import { hostname } from 'node:os';
import type { VigilEvent } from '../src/contracts/event.js';
import { hrNow } from '../src/demo/records.js';
import type { SlackRecord } from './receivers-protocol.js';
import type { World } from './world.js';

/** What one alert needs of a world: the agent, its Redis, the receivers, and when it is idle. */
export type AlertWorld = Pick<World, 'prefix' | 'redis' | 'agent' | 'receivers' | 'email' | 'idle'>;

const PROBE = 'helix-api-health';
const host = hostname();
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

/** A failed health probe result, shaped exactly as src/sources/probes/worker.ts records one. */
export function failedProbe(service: string, n: number): VigilEvent {
  const latencyMs = 1.5;
  return {
    id: `probe:${PROBE}:bench-${service}-${n}`,
    source: 'probe',
    name: PROBE,
    at: new Date().toISOString(),
    host,
    labels: { probe: PROBE, service },
    value: latencyMs,
    ok: false,
    data: { status: 503, latencyMs, error: 'status 503; status is "degraded", expected "healthy"' },
  };
}

/** Polls (outside the timed section) until a condition holds; fails after timeoutMs. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(1);
  }
}

export const isPostFor = (service: string) => (c: SlackRecord) =>
  c.method === 'chat.postMessage' && c.status === 200 && c.services.includes(service);

/**
 * One alert: failures 1 and 2 are recorded and fully evaluated (as a probe interval would let them
 * be), then the clock starts just before failure 3 is recorded and stops at the emulator's stamp
 * (taken in the receivers process, reported over IPC) of the chat.postMessage. The next alert
 * starts only when every delivery of this one is done.
 */
export async function measureAlert(world: AlertWorld, service: string): Promise<number> {
  for (const n of [1, 2]) {
    // Durable in the events queue once ingest resolves; evaluated once the queue is idle again.
    await world.agent.ingest(failedProbe(service, n));
    await until(`failure ${n} of ${service} evaluated`, () => world.idle());
  }
  const third = failedProbe(service, 3);
  const posted = world.receivers.waitForSlack(isPostFor(service), 10_000);
  const t0 = hrNow();
  await world.agent.ingest(third);
  const call = await posted;
  const latency = call.hr - t0;
  if (world.email) await world.receivers.waitForMail((m) => m.services.includes(service), 10_000);
  await until('deliveries to finish', () => world.idle());
  return latency;
}

export async function measureAlerts(world: AlertWorld, label: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++)
    out.push(await measureAlert(world, `${label}-${String(i).padStart(4, '0')}`));
  return out;
}
