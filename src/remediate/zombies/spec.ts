import { z } from 'zod';
import { duration } from '../../config/duration.js';
import { integer } from '../../config/fields.js';

const name = '[A-Za-z_][A-Za-z0-9_]*';

/**
 * Table and column names go into SQL text (quoted), so they come from vigil.yaml only and must be
 * plain names: anything else is refused here, naming the value, before a run could ever use it.
 */
const identifier = (what: string, pattern = new RegExp(`^${name}$`), shape = '') =>
  z.string().regex(pattern, {
    error: (issue) =>
      `${what} ${JSON.stringify(issue.input)} is not a plain name: use letters, digits and "_"${shape}`,
  });

const column = (fallback: string) => identifier('column').default(fallback);

/** vigil.yaml `remediation.targets.<name>` with `action: fix-zombie-tasks`. */
export const fixZombieTasksSchema = z
  .object({
    action: z.literal('fix-zombie-tasks'),
    /** Explicit, like the sql probe's: the run may happen on any agent. `${VAR}` keeps the password out. */
    url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL'),
    table: identifier('table', new RegExp(`^${name}(\\.${name})?$`), ', optionally "schema.table"').default(
      'tasks',
    ),
    columns: z
      .object({
        id: column('id'),
        status: column('status'),
        updatedAt: column('updated_at'),
        attempts: column('attempts'),
        errorLog: column('error_log'),
      })
      .strict()
      .prefault({}),
    /** The status of a task a worker is on. */
    processing: z.string().min(1).default('processing'),
    /** Where a stuck task goes so the orchestrator picks it up again. */
    resetTo: z.string().min(1).default('pending'),
    /** Where a task re-processed `maxAttempts` times goes, so it stops looping. */
    giveUpTo: z.string().min(1).default('failed'),
    /** In processing and not updated for this long: its worker is gone. */
    stuckFor: duration.default(1_800_000),
    /** In processing after this many attempts: it loops; given up rather than reset. */
    maxAttempts: integer(1, 1_000_000).default(3),
    batch: integer(1, 10_000).default(100),
    /** A run stops after this many batches even with zombies left, and says so. */
    maxBatches: integer(1, 1000).default(20),
    /** Each statement's server-side limit (and the connect timeout). */
    timeout: duration.default(10_000),
  })
  .strict()
  .refine((s) => s.resetTo !== s.processing && s.giveUpTo !== s.processing, {
    message: '`resetTo` and `giveUpTo` must differ from `processing`: a fixed task would still be a zombie',
  });

export type FixZombieTasksSpec = z.output<typeof fixZombieTasksSchema>;
