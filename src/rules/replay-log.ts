import { ConfigError } from '../errors.js';
import { createJoiner } from '../sources/logs/multiline.js';
import { createParser } from '../sources/logs/parsers/index.js';
import { emptyTally, Scanner, type LogRecord } from '../sources/logs/scanner.js';
import type { LogSourceSpec } from '../sources/logs/schema.js';
import { Signals, usedSignals } from '../sources/logs/signals.js';
import type { Timed } from './replay.js';
import { chunksOf, inTimeOrder, type Progress } from './replay-input.js';
import { ruleMatch, type Rule } from './schema.js';

/**
 * The "now" the signals are given: just before the earliest time they believe, so a record the
 * parser cannot date comes out at exactly this moment and is recognised as undated.
 */
const UNDATED = Date.UTC(2000, 0, 1) - 1;
/** With UNDATED as "now", any later time must count as not from the future. */
const NO_FUTURE_LIMIT = 8e15;

/** The log sources of a config whose signals can feed the rule (`match.source` log or unset). */
export function logSourcesFor(rule: Rule, sources: ReadonlyArray<{ kind: string }>): LogSourceSpec[] {
  const m = ruleMatch(rule);
  if (m.source !== undefined && m.source !== 'log') return [];
  return sources
    .filter((s): s is LogSourceSpec => s.kind === 'log')
    .filter((s) => s.signals.some((sig) => sig.name === m.name));
}

export interface LogReplayInput {
  events: Timed[];
  records: number;
  /** Records the parser could not date: they take the time of the dated record before them. */
  undated: number;
}

/**
 * Turns a log file into the events the `log` source would make of it: the same scanner, multi-line
 * joiner, parser and signals, read start to end at once instead of followed.
 */
export async function readLog(
  file: string,
  spec: LogSourceSpec,
  rule: Rule,
  progress?: Progress,
): Promise<LogReplayInput> {
  const signals = new Signals(
    usedSignals(spec.signals, { rules: [rule], probes: [] }),
    createParser(spec.parser),
    spec.parser.kind,
    { source: spec.name, host: 'replay', maxFutureSkewMs: NO_FUTURE_LIMIT },
  );
  const scanner = new Scanner(spec.maxLineBytes, createJoiner(spec.multiline), signals.hits());
  const tally = emptyTally();
  const origin = { idBase: `log-${spec.name}-replay`, path: file };
  const out: LogReplayInput = { events: [], records: 0, undated: 0 };
  let lastDated: number | undefined;
  const waiting: Timed[] = [];
  let base = 0;
  const take = (records: LogRecord[]) => {
    for (const rec of records) {
      out.records++;
      for (const event of signals.evaluate(rec, origin, UNDATED)) {
        const at = Date.parse(event.at);
        if (at !== UNDATED) lastDated = at;
        const timed = { event, atMs: at };
        if (at === UNDATED) out.undated++;
        if (at === UNDATED && lastDated === undefined) waiting.push(timed);
        else out.events.push(at === UNDATED ? dated(timed, lastDated as number) : timed);
        if (lastDated !== undefined)
          out.events.push(...waiting.splice(0).map((t) => dated(t, lastDated as number)));
      }
    }
    records.length = 0;
  };
  const records: LogRecord[] = [];
  for await (const chunk of chunksOf(file, progress)) {
    scanner.scan(chunk, base, tally, records);
    base += chunk.length;
    take(records);
  }
  scanner.flush(tally, records);
  take(records);
  if (waiting.length)
    throw new ConfigError([
      `${file}: no record the ${spec.parser.kind} parser of log source "${spec.name}" can date; ` +
        'a replay needs the log\'s own times (a regex parser with a "time" group, or json with a time field)',
    ]);
  return { ...out, events: inTimeOrder(out.events) };
}

function dated(t: Timed, atMs: number): Timed {
  return { atMs, event: { ...t.event, at: new Date(atMs).toISOString() } };
}
