import type pg from 'pg';
import { VigilError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Rule } from './schema.js';
import { upsertThreshold } from './threshold-table.js';
import { problemWith, type ThresholdKey } from './threshold-keys.js';

export type ThresholdSnapshot = ReadonlyMap<string, number>;

/** A row of the table that does not apply (the rule file's default does), and why. */
export interface InvalidRow {
  rule: string;
  key: string;
  value: number;
  problem: string;
}

/**
 * The live numbers of the alert thresholds table. A tuned row wins over the rule file's default.
 * Every agent LISTENs for the table's NOTIFY and calls `refresh()` (see threshold-listener.ts), so a
 * change applies within moments; reading the table again after `maxAgeMs` (5 s) is only the fallback
 * for a LISTEN connection that is down. One small query for all rules, shared by concurrent callers.
 */
export class ThresholdStore {
  private snapshotValue: ThresholdSnapshot = new Map();
  private loadedAt = -Infinity;
  private loading: Promise<ThresholdSnapshot> | undefined;
  /** Bumped by each invalidation: a load that began before one must not count as current. */
  private generation = 0;
  private rules: ReadonlyMap<string, Rule>;
  private invalidRows = new Map<string, InvalidRow>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly pool: pg.Pool,
    rules: readonly Rule[],
    private readonly opts: { log?: Logger; metrics?: Metrics; maxAgeMs?: number } = {},
  ) {
    this.rules = new Map(rules.map((r) => [r.id, r]));
  }

  async snapshot(): Promise<ThresholdSnapshot> {
    if (performance.now() - this.loadedAt < (this.opts.maxAgeMs ?? 5000)) return this.snapshotValue;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** The rows last read that do not apply, with why. */
  invalid(): readonly InvalidRow[] {
    return [...this.invalidRows.values()];
  }

  private async load(): Promise<ThresholdSnapshot> {
    const generation = this.generation;
    const { log } = this.opts;
    let rows: Array<{ rule_id: string; key: string; value: number }>;
    try {
      ({ rows } = await this.pool.query('SELECT rule_id, key, value FROM vigil_thresholds'));
    } catch (err) {
      // PostgreSQL away: keep evaluating with the numbers last seen (or the rule files' defaults)
      // rather than stop watching; try again after maxAgeMs.
      if (generation === this.generation) this.loadedAt = performance.now();
      log?.warn({ err: errorMessage(err) }, 'thresholds table unreachable: using the last numbers seen');
      return this.snapshotValue;
    }
    const valid = new Map<string, number>();
    const invalid = new Map<string, InvalidRow>();
    for (const r of rows) {
      const id = `${r.rule_id}/${r.key}`;
      const problem = problemWith(this.rules, r.rule_id, r.key, r.value);
      if (!problem) {
        valid.set(id, r.value);
        continue;
      }
      invalid.set(id, { rule: r.rule_id, key: r.key, value: r.value, problem });
      this.opts.metrics?.gauge('vigil_threshold_rows_invalid', { rule: r.rule_id, key: r.key }, () =>
        this.invalidRows.has(id) ? 1 : 0,
      );
      if (!this.reported.has(`${id}=${r.value}`)) {
        // Ignored (the rule file's default applies) and said once, not at every read.
        this.reported.add(`${id}=${r.value}`);
        log?.warn({ rule: r.rule_id, key: r.key, value: r.value, problem }, 'threshold row ignored');
      }
    }
    this.snapshotValue = valid;
    this.invalidRows = invalid;
    if (generation === this.generation) this.loadedAt = performance.now();
    return this.snapshotValue;
  }

  /**
   * The rule set changed (a hot reload): rows are judged against the new rules from the next read,
   * so a row of a removed rule stops applying and one of a new rule starts.
   */
  replaceRules(rules: readonly Rule[]): void {
    this.rules = new Map(rules.map((r) => [r.id, r]));
    this.invalidate();
  }

  /** Forget the cached numbers (a NOTIFY said they changed). */
  invalidate(): void {
    this.generation++;
    this.loadedAt = -Infinity;
  }

  /** Forget the cached numbers and read them again now, so /metrics is current without waiting for events. */
  async refresh(): Promise<void> {
    this.invalidate();
    await this.snapshot();
  }

  async set(ruleId: string, key: ThresholdKey, value: number, by: string, reason: string): Promise<void> {
    const problem = problemWith(this.rules, ruleId, key, value);
    if (problem) throw new VigilError('E_THRESHOLD_INVALID', `${ruleId}: ${problem}`);
    await upsertThreshold(this.pool, ruleId, key, value, { by, reason });
    this.invalidate();
  }
}
