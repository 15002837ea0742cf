import type pg from 'pg';
import { formatDuration } from '../../config/duration.js';
import { errorMessage } from '../../errors.js';
import { boundOutput, type ActionContext } from '../action.js';
import type { FixZombieTasksSpec } from './spec.js';
import type { ZombieStatements } from './sql.js';

export interface BatchesOutcome {
  reset: string[];
  gaveUp: string[];
  /** All `maxBatches` batches came back full: there may be more. */
  capped: boolean;
  /** Why the batches stopped early (a failed statement, an id fixed twice, an abort). */
  error?: string;
}

/**
 * Fixes zombies batch by batch, each batch one statement (one transaction), until a batch comes
 * back short or `maxBatches` have run: a run is bounded whatever the table does meanwhile.
 */
export async function fixInBatches(
  client: pg.Client,
  spec: FixZombieTasksSpec,
  sql: ZombieStatements,
  ctx: ActionContext,
): Promise<BatchesOutcome> {
  const out: BatchesOutcome = { reset: [], gaveUp: [], capped: false };
  const seen = new Set<string>();
  for (let n = 1; n <= spec.maxBatches; n++) {
    const name = `batch ${n}`;
    if (ctx.signal.aborted) {
      await ctx.step(name, 'skipped', 'aborted before this batch');
      return { ...out, error: `aborted before batch ${n}` };
    }
    let rows: { id: unknown; give_up: boolean }[];
    try {
      ({ rows } = await client.query<{ id: unknown; give_up: boolean }>(sql.fix, sql.fixParams));
    } catch (err) {
      const why = ctx.signal.aborted ? 'aborted' : statementError(err, spec.timeout);
      await ctx.step(name, 'failed', `${name} failed: ${why}`);
      return { ...out, error: `${name} failed: ${why}` };
    }
    const ids = rows.map((r) => String(r.id));
    const reset = rows.filter((r) => !r.give_up).map((r) => String(r.id));
    const gaveUp = rows.filter((r) => r.give_up).map((r) => String(r.id));
    out.reset.push(...reset);
    out.gaveUp.push(...gaveUp);
    const detail = `${name}: reset ${reset.length}, gave up on ${gaveUp.length}`;
    // The marker keeps fixed rows out of later batches; a trigger that rewrote it would bring them back.
    const again = ids.filter((id) => seen.has(id));
    if (again.length) {
      await ctx.step(
        name,
        'failed',
        `${detail}; ids fixed earlier in this run came back`,
        boundOutput(ids.join(' ')),
      );
      return {
        ...out,
        error: `ids fixed earlier in this run came back in ${name} (${again.slice(0, 5).join(', ')}): stopped`,
      };
    }
    ids.forEach((id) => seen.add(id));
    await ctx.step(name, 'ok', detail, ids.length ? boundOutput(ids.join(' ')) : undefined);
    if (rows.length < spec.batch) return out;
  }
  return { ...out, capped: true };
}

export function statementError(err: unknown, timeout: number): string {
  const code = (err as { code?: string }).code;
  if (code === '57014') return `timed out after ${formatDuration(timeout)}`;
  if (code === '55P03') return `waited over ${formatDuration(timeout)} for a lock on the table`;
  return errorMessage(err);
}
