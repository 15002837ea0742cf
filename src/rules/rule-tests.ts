import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseDuration } from '../config/duration.js';
import { describeIssues, parseYaml } from '../config/yaml-source.js';
import { eventSources, type VigilEvent } from '../contracts/event.js';
import { ConfigError } from '../errors.js';
import { replay, type Timed, type Transition } from './replay.js';
import { overridden } from './replay-set.js';
import { ruleMatch, type Rule } from './schema.js';

/** "+30s" (after the test's start) or an ISO time. */
const when = z
  .string()
  .refine((t) => (/^\+/.test(t) ? parseDuration(t.slice(1)) !== undefined : !Number.isNaN(Date.parse(t))), {
    message: 'a time: "+30s" (after start) or ISO 8601',
  });

const eventSpec = z
  .object({
    at: when,
    name: z.string().min(1).optional(),
    source: z.enum(eventSources).optional(),
    ok: z.boolean().optional(),
    value: z.number().finite().optional(),
    labels: z.record(z.string(), z.string()).default({}),
    data: z.record(z.string(), z.unknown()).optional(),
    /** The same event this many times, `every` apart (a probe failing for a minute). */
    repeat: z.number().int().min(1).max(100_000).default(1),
    every: z
      .string()
      .refine((t) => parseDuration(t) !== undefined, 'a duration, e.g. "10s"')
      .default('1s'),
  })
  .strict();

const expectSpec = z.union([
  z.object({ fire: when, series: z.string().optional(), summary: z.string().optional() }).strict(),
  z.object({ resolve: when, series: z.string().optional(), summary: z.string().optional() }).strict(),
]);

export const ruleTestSchema = z
  .object({
    rule: z.string().min(1),
    /** What "+0s" is; any fixed time will do. */
    start: z.iso.datetime({ offset: true }).default('2025-01-01T00:00:00Z'),
    /** Virtual time the replay runs to (default: the last event), e.g. to let an absence fire. */
    until: when.optional(),
    set: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
    events: z.array(eventSpec).min(1),
    expect: z.array(expectSpec),
  })
  .strict();

export type RuleTest = z.output<typeof ruleTestSchema>;

export interface RuleTestOutcome {
  file: string;
  rule: string;
  /** The first difference between what was expected and what happened; undefined: passed. */
  failure: string | undefined;
  transitions: Transition[];
}

export function loadRuleTest(file: string): RuleTest {
  const source = parseYaml(file, readFileSync(file, 'utf8'));
  const parsed = ruleTestSchema.safeParse(source.value);
  if (!parsed.success)
    throw new ConfigError(describeIssues(parsed.error.issues, source.where, new Set(), source.value));
  return parsed.data;
}

const timeOf = (start: number, t: string) =>
  t.startsWith('+') ? start + (parseDuration(t.slice(1)) as number) : Date.parse(t);
const iso = (ms: number) => new Date(ms).toISOString();

/** Builds the test's events, with what the rule matches as defaults (name, source, labels). */
export function eventsOf(test: RuleTest, rule: Rule): Timed[] {
  const start = Date.parse(test.start);
  const m = ruleMatch(rule);
  const probeLabels = rule.probe ? { probe: rule.probe.name, ...rule.probe.labels } : {};
  const out: Timed[] = [];
  test.events.forEach((spec, i) => {
    for (let n = 0; n < spec.repeat; n++) {
      const atMs = timeOf(start, spec.at) + n * (parseDuration(spec.every) as number);
      const event: VigilEvent = {
        id: `test-${i}-${n}`,
        source: spec.source ?? (m.source as VigilEvent['source'] | undefined) ?? 'manual',
        name: spec.name ?? m.name,
        at: iso(atMs),
        host: 'test',
        labels: { ...probeLabels, ...m.labels, ...spec.labels },
        ...(spec.ok !== undefined || spec.value === undefined ? { ok: spec.ok ?? false } : {}),
        ...(spec.value !== undefined ? { value: spec.value } : {}),
        ...(spec.data ? { data: spec.data } : {}),
      };
      out.push({ event, atMs });
    }
  });
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** Runs one rule test; the outcome names the first expectation that did not hold. */
export function runRuleTest(file: string, test: RuleTest, rules: readonly Rule[]): RuleTestOutcome {
  const rule = rules.find((r) => r.id === test.rule);
  const outcome: RuleTestOutcome = { file, rule: test.rule, failure: undefined, transitions: [] };
  if (!rule) return { ...outcome, failure: `no rule "${test.rule}" in the rules folder` };
  const start = Date.parse(test.start);
  const condition = overridden(
    rule,
    Object.entries(test.set).map(([k, v]) => `${k}=${v}`),
  );
  const events = eventsOf(test, rule);
  const last = events[events.length - 1]?.atMs ?? start;
  const endMs = test.until === undefined ? last : Math.max(last, timeOf(start, test.until));
  const result = replay(rule, condition, events, { startMs: start, endMs });
  outcome.transitions = result.transitions;
  const at = (ms: number) => `+${(ms - start) / 1000}s (${iso(ms)})`;
  const n = Math.max(test.expect.length, result.transitions.length);
  for (let i = 0; i < n; i++) {
    const want = test.expect[i];
    const got = result.transitions[i];
    const gotText = got
      ? `${got.type} at ${at(got.atMs)} ${got.fingerprint}: ${got.summary.split('\n')[0]}`
      : 'nothing';
    if (!want) return { ...outcome, failure: `expected nothing more, got ${gotText}` };
    const type = 'fire' in want ? 'fire' : 'resolve';
    const wantMs = timeOf(start, 'fire' in want ? want.fire : want.resolve);
    const wantText = `${type} at ${at(wantMs)}`;
    if (!got || got.type !== type || got.atMs !== wantMs)
      return { ...outcome, failure: `expectation ${i + 1}: expected ${wantText}, got ${gotText}` };
    if (want.series !== undefined && !got.fingerprint.includes(want.series))
      return {
        ...outcome,
        failure: `expectation ${i + 1}: expected series containing "${want.series}", got ${got.fingerprint}`,
      };
    if (want.summary !== undefined && !got.summary.includes(want.summary))
      return {
        ...outcome,
        failure: `expectation ${i + 1}: expected summary containing "${want.summary}", got "${got.summary}"`,
      };
  }
  return outcome;
}
