import pg from 'pg';
import { formatDuration } from '../../config/duration.js';
import { errorMessage } from '../../errors.js';
import { redactUrl } from '../../log.js';
import type { RemediationAction } from '../action.js';
import { fixInBatches, statementError, type BatchesOutcome } from '../zombies/batches.js';
import { zombieStatements } from '../zombies/sql.js';
import { fixZombieTasksSchema, type FixZombieTasksSpec } from '../zombies/spec.js';

/**
 * The seed's fix-zombie-tasks.sh as code: tasks in processing whose worker is gone (no update for
 * `stuckFor`) go back to `resetTo`; tasks re-processed `maxAttempts` times go to `giveUpTo` so they
 * stop looping. Rows a live worker holds locked are skipped, never waited for.
 */
export const fixZombieTasks: RemediationAction<FixZombieTasksSpec> = {
  name: 'fix-zombie-tasks',
  schema: fixZombieTasksSchema,

  describe(spec) {
    return (
      `in ${spec.table}: reset tasks in "${spec.processing}" for over ${formatDuration(spec.stuckFor)} ` +
      `to "${spec.resetTo}", give up ("${spec.giveUpTo}") on those at ${spec.maxAttempts}+ attempts; ` +
      `batches of ${spec.batch}, at most ${spec.maxBatches}`
    );
  },

  async run(spec, ctx) {
    if (ctx.signal.aborted) {
      await ctx.step('connect', 'skipped', 'aborted before connecting');
      return { outcome: 'failed', summary: 'aborted before connecting' };
    }
    const client = new pg.Client({
      connectionString: spec.url,
      connectionTimeoutMillis: spec.timeout,
      statement_timeout: spec.timeout,
      lock_timeout: spec.timeout,
      // A backstop for a server that stops answering altogether (statement_timeout is the server's).
      query_timeout: spec.timeout + 500,
      application_name: `vigil remediate ${ctx.target}`,
    });
    client.on('error', () => undefined);
    // Ending the connection rejects a statement in flight; the server rolls its batch back.
    const abort = () => void client.end().catch(() => undefined);
    ctx.signal.addEventListener('abort', abort, { once: true });
    try {
      try {
        await client.connect();
      } catch (err) {
        const why = `could not connect to ${redactUrl(spec.url)}: ${errorMessage(err)}`;
        await ctx.step('connect', 'failed', why);
        return { outcome: 'failed', summary: why };
      }
      await ctx.step('connect', 'ok', `connected to ${redactUrl(spec.url)}`);
      const sql = zombieStatements(spec, ctx.runId);
      const done = await fixInBatches(client, spec, sql, ctx);
      if (done.error) return { outcome: 'failed', summary: fixedPart(spec, done, `; then ${done.error}`) };
      let left: number | string;
      try {
        const { rows } = await client.query<{ n: number }>(sql.count, sql.conditionParams);
        left = rows[0]?.n ?? 0;
        await ctx.step('left', 'ok', `${left} zombie tasks left`);
      } catch (err) {
        left = `could not count those left: ${statementError(err, spec.timeout)}`;
        await ctx.step('left', 'failed', left);
      }
      return { outcome: 'done', summary: summary(spec, done, left) };
    } finally {
      ctx.signal.removeEventListener('abort', abort);
      await client.end().catch(() => undefined);
    }
  },
};

function summary(spec: FixZombieTasksSpec, done: BatchesOutcome, left: number | string): string {
  const fixed = done.reset.length + done.gaveUp.length;
  if (fixed === 0 && left === 0) return 'no zombie tasks';
  const rest =
    typeof left === 'string'
      ? `; ${left}`
      : done.capped && left > 0
        ? `; stopped at the cap of ${spec.maxBatches} batches of ${spec.batch}: ${left} more left`
        : left > 0
          ? `; ${left} locked by a worker, left`
          : '';
  return fixedPart(spec, done, rest);
}

function fixedPart(spec: FixZombieTasksSpec, done: BatchesOutcome, rest: string): string {
  const parts = [];
  if (done.reset.length) parts.push(`reset ${done.reset.length} stuck tasks to ${spec.resetTo}`);
  if (done.gaveUp.length)
    parts.push(`gave up on ${done.gaveUp.length} re-processed ≥${spec.maxAttempts} times (${spec.giveUpTo})`);
  const ids = [...done.reset, ...done.gaveUp];
  const shown =
    ids.length > 20 ? `${ids.slice(0, 20).join(', ')}, … ${ids.length - 20} more` : ids.join(', ');
  const fixed = parts.length ? `${parts.join(', ')} (ids ${shown})` : 'fixed no tasks';
  return `${fixed}${rest}`;
}
