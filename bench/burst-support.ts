import { hostname } from 'node:os';
import pg from 'pg';
import type { VigilEvent } from '../src/contracts/event.js';
import { BURST_PROBE, BURST_RULE } from './burst-world.js';
import type { QueueWatch } from './queue-watch.js';
import { DATABASE_URL } from './world.js';

const host = hostname();

/** A failed probe result for one target, shaped as src/sources/probes/worker.ts records one. */
export function decidingObservation(target: string): VigilEvent {
  return {
    id: `probe:${BURST_PROBE}:${target}`,
    source: 'probe',
    name: BURST_PROBE,
    at: new Date().toISOString(),
    host,
    labels: { probe: BURST_PROBE, target },
    value: 2000,
    ok: false,
    data: { error: 'connect ETIMEDOUT', latencyMs: 2000 },
  };
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 20) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * The burst's incidents by target, read after the run (never during it: the bench's own queries
 * would count among the agent's commits). `writtenAt` is PostgreSQL's now() of the inserting transaction.
 */
export async function incidentsByTarget(
  schema: string,
): Promise<Map<string, { id: string; writtenAt: number }>> {
  const db = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    const { rows } = await db.query<{ id: string; target: string; written: Date }>(
      `SELECT id::text, labels->>'target' AS target, updated_at AS written FROM ${schema}.vigil_incidents
       WHERE rule_id = $1`,
      [BURST_RULE],
    );
    return new Map(rows.map((r) => [r.target, { id: r.id, writtenAt: r.written.getTime() }]));
  } finally {
    await db.end();
  }
}

/**
 * Under a rate limit the old delivery path gives up: once nothing is queued or waiting to retry and
 * some delivery failed for good, there is nothing more to wait for (checked twice, a second apart).
 */
export async function abortWhenNothingLeft(
  watch: QueueWatch,
  giveUp: AbortController,
  done: Promise<boolean>,
): Promise<void> {
  let finished = false;
  void done.then(() => (finished = true));
  let quiet = 0;
  while (!finished) {
    await new Promise((r) => setTimeout(r, 1000));
    if (finished) return;
    await watch.discover();
    const [pending, failed] = await Promise.all([watch.pending(), watch.failed()]);
    quiet = pending === 0 && failed > 0 ? quiet + 1 : 0;
    if (quiet >= 2) return giveUp.abort();
  }
}
