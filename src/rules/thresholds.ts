import type pg from 'pg';
import type { Rule, ThresholdKey } from './schema.js';

export type ThresholdSnapshot = ReadonlyMap<string, number>;

/**
 * The live numbers of the alert thresholds table. A tuned row wins over the rule file's default.
 * The table is read at most once per `maxAgeMs` (one small query for all rules, shared by
 * concurrent callers), so a change made with plain SQL reaches every agent within that time.
 */
export class ThresholdStore {
  private snapshotValue: ThresholdSnapshot = new Map();
  private loadedAt = -Infinity;
  private loading: Promise<ThresholdSnapshot> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly maxAgeMs = 1000,
  ) {}

  async snapshot(): Promise<ThresholdSnapshot> {
    if (performance.now() - this.loadedAt < this.maxAgeMs) return this.snapshotValue;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<ThresholdSnapshot> {
    const { rows } = await this.pool.query<{ rule_id: string; key: string; value: number }>(
      'SELECT rule_id, key, value FROM vigil_thresholds',
    );
    this.snapshotValue = new Map(rows.map((r) => [`${r.rule_id}/${r.key}`, r.value]));
    this.loadedAt = performance.now();
    return this.snapshotValue;
  }

  /** Forget the cached numbers (a NOTIFY said they changed). */
  invalidate(): void {
    this.loadedAt = -Infinity;
  }

  async set(ruleId: string, key: ThresholdKey, value: number, by: string, reason: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO vigil_thresholds (rule_id, key, value, updated_by, reason) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (rule_id, key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by,
         reason = EXCLUDED.reason, updated_at = now()`,
      [ruleId, key, value, by, reason],
    );
    this.invalidate();
  }
}

/** The number in force for a rule's condition field: the table's row, else the rule file's default. */
export function thresholdOf(snapshot: ThresholdSnapshot, rule: Rule, key: ThresholdKey): number {
  const tuned = snapshot.get(`${rule.id}/${key}`);
  if (tuned !== undefined) return tuned;
  return rule.condition[key];
}
