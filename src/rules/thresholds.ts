import type pg from 'pg';
import { VigilError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Rule, ThresholdKey } from './schema.js';

/** What each tunable number may be: a bad row must not make a rule fire on every observation. */
const validators: Record<ThresholdKey, { ok: (v: number) => boolean; expect: string }> = {
  count: { ok: (v) => Number.isInteger(v) && v >= 1, expect: 'a whole number ≥ 1' },
  resolveAfter: { ok: (v) => Number.isInteger(v) && v >= 1, expect: 'a whole number ≥ 1' },
};

function problemWith(key: string, value: number): string | undefined {
  const v = validators[key as ThresholdKey];
  if (!v) return `unknown threshold key "${key}" (known: ${Object.keys(validators).join(', ')})`;
  return v.ok(value) ? undefined : `${key} must be ${v.expect}, got ${value}`;
}

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

  private readonly reported = new Set<string>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly log?: Logger,
    private readonly maxAgeMs = 1000,
  ) {}

  async snapshot(): Promise<ThresholdSnapshot> {
    if (performance.now() - this.loadedAt < this.maxAgeMs) return this.snapshotValue;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<ThresholdSnapshot> {
    let rows: Array<{ rule_id: string; key: string; value: number }>;
    try {
      ({ rows } = await this.pool.query('SELECT rule_id, key, value FROM vigil_thresholds'));
    } catch (err) {
      // PostgreSQL away: keep evaluating with the numbers last seen (or the rule files' defaults)
      // rather than stop watching; try again after maxAgeMs.
      this.loadedAt = performance.now();
      this.log?.warn({ err: errorMessage(err) }, 'thresholds table unreachable: using the last numbers seen');
      return this.snapshotValue;
    }
    const valid = new Map<string, number>();
    for (const r of rows) {
      const id = `${r.rule_id}/${r.key}`;
      const problem = problemWith(r.key, r.value);
      if (!problem) valid.set(id, r.value);
      else if (!this.reported.has(`${id}=${r.value}`)) {
        // Ignored (the rule file's default applies) and said once, not every second.
        this.reported.add(`${id}=${r.value}`);
        this.log?.warn({ rule: r.rule_id, key: r.key, value: r.value, problem }, 'threshold row ignored');
      }
    }
    this.snapshotValue = valid;
    this.loadedAt = performance.now();
    return this.snapshotValue;
  }

  /** Forget the cached numbers (a NOTIFY said they changed). */
  invalidate(): void {
    this.loadedAt = -Infinity;
  }

  async set(ruleId: string, key: ThresholdKey, value: number, by: string, reason: string): Promise<void> {
    const problem = problemWith(key, value);
    if (problem) throw new VigilError('E_THRESHOLD_INVALID', `${ruleId}: ${problem}`);
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
