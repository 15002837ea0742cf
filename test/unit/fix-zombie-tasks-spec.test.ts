import { describe, expect, it } from 'vitest';
import { fixZombieTasks } from '../../src/remediate/actions/fix-zombie-tasks.js';
import { remediationActions } from '../../src/remediate/registry.js';
import { zombieStatements } from '../../src/remediate/zombies/sql.js';

const url = 'postgres://helix:${HELIX_DB_PASSWORD}@db/helix';

/** The problems `remediation.targets` reports for one target, as "path: message". */
function problems(target: Record<string, unknown>): string[] {
  const parsed = remediationActions
    .targetsSchema()
    .safeParse({ zombies: { action: 'fix-zombie-tasks', url, ...target } });
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('fix-zombie-tasks spec', () => {
  it('is registered, with the defaults of the seed SOP', () => {
    expect(remediationActions.get('fix-zombie-tasks')).toBe(fixZombieTasks);
    expect(fixZombieTasks.schema.parse({ action: 'fix-zombie-tasks', url })).toEqual({
      action: 'fix-zombie-tasks',
      url,
      table: 'tasks',
      columns: {
        id: 'id',
        status: 'status',
        updatedAt: 'updated_at',
        attempts: 'attempts',
        errorLog: 'error_log',
      },
      processing: 'processing',
      resetTo: 'pending',
      giveUpTo: 'failed',
      stuckFor: 1_800_000,
      maxAttempts: 3,
      batch: 100,
      maxBatches: 20,
      timeout: 10_000,
    });
    expect(problems({ table: 'helix.tasks', columns: { errorLog: 'Error_Log2' } })).toEqual([]);
  });

  it('refuses table and column names that are not plain names, saying which and why', () => {
    expect(problems({ table: 'tasks; DROP TABLE x' })).toEqual([
      'zombies.table: table "tasks; DROP TABLE x" is not a plain name: use letters, digits and "_", optionally "schema.table"',
    ]);
    expect(problems({ table: 'a.b.c' })).toHaveLength(1);
    expect(problems({ table: '"tasks"' })).toHaveLength(1);
    expect(problems({ columns: { id: 'id" OR 1=1 --', status: '1status' } })).toEqual([
      'zombies.columns.id: column "id\\" OR 1=1 --" is not a plain name: use letters, digits and "_"',
      'zombies.columns.status: column "1status" is not a plain name: use letters, digits and "_"',
    ]);
    expect(problems({ columns: { owner: 'x' } })).toEqual([
      expect.stringMatching(/^zombies.columns: .*owner/),
    ]);
  });

  it('refuses a fix that would leave a task in processing, and a batch without bounds', () => {
    expect(problems({ resetTo: 'processing' })).toEqual([
      'zombies: `resetTo` and `giveUpTo` must differ from `processing`: a fixed task would still be a zombie',
    ]);
    expect(problems({ batch: 0, maxBatches: 100_000 }).map((p) => p.split(':')[0])).toEqual([
      'zombies.batch',
      'zombies.maxBatches',
    ]);
  });

  it('puts names in SQL quoted and every value in parameters', () => {
    const spec = fixZombieTasks.schema.parse({
      action: 'fix-zombie-tasks',
      url,
      table: 'helix.Tasks',
      processing: "x'; DROP TABLE tasks; --",
      resetTo: '$(reboot)',
    });
    const sql = zombieStatements(spec, "run'1");
    for (const text of [sql.fix, sql.count]) {
      expect(text).toContain('"helix"."Tasks" t');
      expect(text).not.toMatch(/DROP|reboot|run'1/);
    }
    expect(sql.fixParams).toContain("x'; DROP TABLE tasks; --");
    expect(sql.conditionParams).toContain("[vigil run run'1]");
  });
});
