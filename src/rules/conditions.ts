import type { VigilEvent } from '../contracts/event.js';
import { quote, textOf, whereOf } from './evidence.js';
import type { AnyKind, Sample, Verdict } from './kinds/kind.js';
import { kindOf } from './kinds/registry.js';
import { ruleMatch, type Rule } from './schema.js';
import type { ThresholdSnapshot } from './thresholds.js';
import type { WindowSeries } from './window-series.js';

/**
 * The rule's condition with the thresholds table's tuned numbers in place of the file's: a row for
 * this series (`count{host="db-2"}`) wins over the rule-wide row (`count`).
 */
export function conditionOf(snapshot: ThresholdSnapshot, rule: Rule, fingerprint?: string): { kind: string } {
  const condition: Record<string, unknown> = { ...rule.condition };
  const series = fingerprint && rule.groupBy.length ? fingerprint.slice(rule.id.length) : '';
  for (const key of Object.keys(kindOf(rule.condition).keys)) {
    const tuned =
      (series ? snapshot.get(`${rule.id}/${key}${series}`) : undefined) ?? snapshot.get(`${rule.id}/${key}`);
    if (tuned !== undefined) condition[key] = tuned;
  }
  return condition as { kind: string };
}

export function sampleOf(
  event: VigilEvent,
  atMs: number,
  kind: AnyKind,
  condition: { kind: string },
): Sample {
  return {
    id: event.id,
    atMs,
    ok: event.ok,
    value: event.value,
    field: kind.pick?.(condition, event),
    evidence: evidenceOf(event),
  };
}

/** "in app.log, task 42: <the record>" — where the event happened (its words stripped of brackets), then what it said. */
function evidenceOf(event: VigilEvent): string | undefined {
  const where = whereOf(event)
    .trim()
    .replace(/^\((.*)\)$/, '$1');
  const text = textOf(event);
  if (text === undefined) return where || undefined;
  return where ? `${where}: ${text}` : text;
}

/** What a rule watches, in the alert's words: its match name or its probe's name. */
export const subjectOf = (rule: Rule) => ruleMatch(rule).name;

/** The alert text of a windowed series: the kind's one line, then what the last failing event said. */
export function windowSummary(
  rule: Rule,
  condition: { kind: string },
  series: WindowSeries,
  verdict: Verdict,
): string {
  const kind = kindOf(condition);
  const head = kind.summary(condition, { ...verdict, value: series.life.value }, subjectOf(rule));
  if (!series.ev) return head;
  // "…; the last one in app.log: <record>", not "…; the last one: in app.log: <record>".
  const where = /^(in [^:\n]+): ([\s\S]*)$/.exec(series.ev);
  return where
    ? quote(`${head}; the last one ${where[1]}`, where[2])
    : quote(`${head}; the last one`, series.ev);
}
