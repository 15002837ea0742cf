import { backtrackingRisk } from '../config/regex-safety.js';
import { VigilError } from '../errors.js';

export interface SilenceMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** What a matcher looks at: an incident (or an opening one) as rule, severity, category and labels. */
export interface MatchSubject {
  ruleId: string;
  severity: string;
  category: string;
  labels: Readonly<Record<string, string>>;
}

/** A matcher the store or the CLI refuses: the text, and what is wrong with it. */
export class SilenceMatcherError extends VigilError {
  constructor(message: string) {
    super('E_SILENCE_MATCHER', message);
  }
}

/** Label names come from sources (log fields, probe labels): anything an operator can type. */
const namePattern = /^[^\s=!~]+$/;

/**
 * Parses `name=value`, `name!=value`, `name=~regex`, `name!~regex`. Names are label names, or
 * `rule`, `severity`, `category`. A regex must match the whole value (Alertmanager's convention),
 * and is refused when it cannot compile or may backtrack catastrophically.
 */
export function parseMatcher(text: string): SilenceMatcher {
  const m = /^\s*([^=!~\s]+)\s*(!~|=~|!=|=)(.*)$/.exec(text);
  if (!m)
    throw new SilenceMatcherError(
      `matcher "${text}": expected name=value, name!=value, name=~regex or name!~regex`,
    );
  const [, name = '', op = '=', value = ''] = m;
  const matcher: SilenceMatcher = { name, op: op as SilenceMatcher['op'], value: value.trim() };
  checkMatcher(matcher);
  return matcher;
}

/** Checks a matcher read from anywhere (CLI, API, the table): a regex must compile and be safe. */
export function checkMatcher(m: SilenceMatcher): void {
  if (!namePattern.test(m.name) || !['=', '!=', '=~', '!~'].includes(m.op))
    throw new SilenceMatcherError(`matcher ${JSON.stringify(m)}: bad name or operator`);
  if (m.op !== '=~' && m.op !== '!~') return;
  try {
    anchored(m.value);
  } catch (err) {
    throw new SilenceMatcherError(
      `matcher "${matcherText(m)}": invalid regex: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`,
    );
  }
  const risk = backtrackingRisk(m.value);
  if (risk) throw new SilenceMatcherError(`matcher "${matcherText(m)}": ${risk}`);
}

const compiled = new Map<string, RegExp>();

/** The regex as a full match; compiled once per pattern (a batch judges many incidents). */
function anchored(source: string): RegExp {
  let re = compiled.get(source);
  if (!re) {
    re = new RegExp(`^(?:${source})$`, 'u');
    if (compiled.size > 1000) compiled.clear();
    compiled.set(source, re);
  }
  return re;
}

export const matcherText = (m: SilenceMatcher): string => `${m.name}${m.op}${m.value}`;

/** A missing label reads as '', so `host=` matches incidents without a host. */
function valueOf(name: string, s: MatchSubject): string {
  if (name === 'rule') return s.ruleId;
  if (name === 'severity') return s.severity;
  if (name === 'category') return s.category;
  return Object.hasOwn(s.labels, name) ? (s.labels[name] ?? '') : '';
}

function matcherMatches(m: SilenceMatcher, s: MatchSubject): boolean {
  const v = valueOf(m.name, s);
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return anchored(m.value).test(v);
    case '!~':
      return !anchored(m.value).test(v);
  }
}

/** Every matcher must match; a silence without matchers matches nothing (never everything by mistake). */
export function silenceMatches(silence: { matchers: readonly SilenceMatcher[] }, s: MatchSubject): boolean {
  return silence.matchers.length > 0 && silence.matchers.every((m) => matcherMatches(m, s));
}
