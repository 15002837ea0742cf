import { formatDuration } from '../config/duration.js';
import { formatNumber, withUnit } from '../rules/kinds/compare.js';
import { readSeriesValues, type SeriesValue } from '../rules/series-values.js';
import { fileDefault, keysOf, problemWith, splitKey } from '../rules/threshold-keys.js';
import type { Rule } from '../rules/schema.js';
import {
  thresholdHistory,
  thresholdRows,
  type HistoryRow,
  type ThresholdRow,
} from '../rules/threshold-table.js';
import { withThresholds } from './threshold-context.js';

interface ListLine {
  category: string;
  rule: string;
  title: string;
  key: string;
  value: number | null;
  ackSla: string;
  origin: 'file' | 'table';
  changedBy?: string;
  changedAt?: string;
  reason?: string;
  /** A row of the table that does not apply, and why. */
  invalid?: { value: number; problem: string };
}

/** A number as the rule file writes it: "5m" for a duration key, "5%" never (fractions stay fractions). */
function shownValue(rule: Rule, key: string, value: number | null): string {
  if (value === null) return 'none';
  const show = keysOf(rule)[splitKey(key).base]?.show;
  return show ? show(value) : String(value);
}

/** What a series measures now, in the rule's unit. */
function nowText(rule: Rule, s: SeriesValue): string {
  const c = rule.condition as { kind: string; unit?: string };
  const value =
    c.kind === 'ratio'
      ? `${formatNumber(s.value * 100)} %`
      : c.kind === 'absence'
        ? `silent ${formatNumber(s.value)} s`
        : c.kind === 'consecutive'
          ? `${s.value} failure(s) in a row`
          : withUnit(s.value, c.unit);
  const state = s.firing ? `FIRING since ${new Date(s.since ?? 0).toISOString()}` : 'ok';
  return `    now ${s.fingerprint}: ${value}  ${state}`;
}

function lineOf(rules: ReadonlyMap<string, Rule>, rule: Rule, key: string, row?: ThresholdRow): ListLine {
  const { category, id, title } = rule;
  const base = { category, rule: id, title, key, ackSla: formatDuration(rule.ackSla) };
  const problem = row && problemWith(rules, id, key, row.value);
  if (row && !problem) {
    const { value, changedBy, reason } = row;
    return { ...base, value, origin: 'table', changedBy, changedAt: row.changedAt.toISOString(), reason };
  }
  const file = { ...base, value: fileDefault(rule, key) ?? null, origin: 'file' as const };
  return row && problem ? { ...file, invalid: { value: row.value, problem } } : file;
}

/** `vigil thresholds list`: each rule's numbers in force and where they come from, bad rows with why. */
export function runThresholdsList(opts: { config?: string; json?: boolean }): Promise<void> {
  return withThresholds(opts, async ({ pool, rules, redis }) => {
    const rows = new Map((await thresholdRows(pool)).map((r) => [`${r.rule}/${r.key}`, r]));
    const lines: ListLine[] = [];
    for (const rule of rules.values()) {
      for (const key of Object.keys(keysOf(rule))) {
        lines.push(lineOf(rules, rule, key, rows.get(`${rule.id}/${key}`)));
        rows.delete(`${rule.id}/${key}`);
        // Rows for one series of the rule, right under the rule-wide number they override.
        for (const [id, row] of rows) {
          if (row.rule !== rule.id || splitKey(row.key).base !== key || !splitKey(row.key).series) continue;
          lines.push(lineOf(rules, rule, row.key, row));
          rows.delete(id);
        }
      }
    }
    // Rows no rule here has a key for: shown, never silently dropped.
    const stray = [...rows.values()].map((r) => ({
      rule: r.rule,
      key: r.key,
      value: r.value,
      problem: problemWith(rules, r.rule, r.key, r.value) ?? '',
    }));
    const live = await readSeriesValues(redis.url, redis.prefix, rules);
    if (opts.json)
      return void console.log(
        JSON.stringify(
          { thresholds: lines, invalid: stray, series: live.series, seriesError: live.error },
          null,
          2,
        ),
      );
    for (const l of lines) {
      const origin =
        l.origin === 'file'
          ? 'file'
          : `table (${l.changedBy}, ${l.changedAt}: ${l.reason || 'no reason given'})`;
      const bad = l.invalid ? `  INVALID row ${l.invalid.value} ignored: ${l.invalid.problem}` : '';
      const rule = rules.get(l.rule) as Rule;
      console.log(
        `${l.category.padEnd(12)} ${l.rule.padEnd(20)} ${l.title}  ${l.key}=${shownValue(rule, l.key, l.value)}  ack SLA ${l.ackSla}  ${origin}${bad}`,
      );
      if (lines.findLast((x) => x.rule === l.rule) !== l) continue;
      for (const s of live.series.filter((x) => x.rule === l.rule)) console.log(nowText(rule, s));
    }
    if (live.error) console.log(`(current series values unavailable: ${live.error})`);
    for (const s of stray) console.log(`INVALID row ${s.rule} ${s.key}=${s.value} ignored: ${s.problem}`);
  });
}

const shown = (v: number | null) => (v === null ? 'file default' : String(v));

/** `vigil thresholds history <rule>`: every change of the rule's numbers, newest first. */
export function runThresholdsHistory(rule: string, opts: { config?: string; json?: boolean }): Promise<void> {
  return withThresholds(opts, async ({ pool }) => {
    const rows: HistoryRow[] = await thresholdHistory(pool, rule);
    if (opts.json) return void console.log(JSON.stringify(rows, null, 2));
    for (const h of rows) {
      console.log(
        `#${h.id}  ${h.changedAt.toISOString()}  ${h.key}: ${shown(h.oldValue)} → ${shown(h.newValue)}  by ${h.changedBy}: ${h.reason || 'no reason given'}`,
      );
    }
    console.log(`${rows.length} change(s) of ${rule}`);
  });
}
