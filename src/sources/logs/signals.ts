import type { VigilEvent } from '../../contracts/event.js';
import { ruleMatch } from '../../rules/schema.js';
import type { RuleSet } from '../../rules/loader.js';
import { everyLine, PatternHits, type Hits } from './hits.js';
import { fieldOf, fieldText, type Parser } from './parsers/parser.js';
import type { LogRecord } from './scanner.js';
import type { LogSignalSpec } from './schema.js';

/** An event carries at most this much of its record's text. */
const MAX_EVENT_TEXT = 4096;
/** Times before this are not a log's own time (a parse gone wrong): the read time stands in. */
const EARLIEST = Date.UTC(2000, 0, 1);

/**
 * The signals some enabled rule matches (`match.source` log or unset, `match.name` the signal's).
 * Only those are evaluated: a signal no rule uses would only fill the queue.
 */
export function usedSignals(signals: readonly LogSignalSpec[], rules: RuleSet): LogSignalSpec[] {
  const wanted = new Set(
    rules.rules
      .filter((r) => r.enabled)
      .map(ruleMatch)
      .filter((m) => m.source === undefined || m.source === 'log')
      .map((m) => m.name),
  );
  return signals.filter((s) => wanted.has(s.name));
}

/** Where a record comes from: its events' ids and labels. */
export interface RecordOrigin {
  /** `log-<source>-<dev>-<ino>-<fingerprint>`: with the offset, the same record always has the same id. */
  idBase: string;
  path: string;
}

export interface SignalOptions {
  source: string;
  host: string;
  /** Record times further ahead than this are not believed (the read time stands in). */
  maxFutureSkewMs: number;
}

/** Turns records into events: one per signal a record matches. */
export class Signals {
  private readonly compiled: Array<{ spec: LogSignalSpec; re: RegExp }>;
  /** Parse only when something reads fields (or a parser can date the record). */
  private readonly parses: boolean;

  constructor(
    signals: readonly LogSignalSpec[],
    private readonly parser: Parser,
    parserKind: string,
    private readonly opts: SignalOptions,
  ) {
    this.compiled = signals.map((spec) => ({ spec, re: new RegExp(spec.match, 'm') }));
    this.parses = parserKind !== 'plain';
  }

  get empty(): boolean {
    return this.compiled.length === 0;
  }

  /** Which records are worth evaluating: pattern hits, or all when a signal matches a field. */
  hits(): Hits {
    if (this.compiled.some((c) => c.spec.field !== undefined)) return everyLine;
    return new PatternHits(this.compiled.map((c) => c.re));
  }

  evaluate(rec: LogRecord, origin: RecordOrigin, now: number): VigilEvent[] {
    const nl = rec.text.indexOf('\n');
    const parsed = this.parses ? this.parser(nl < 0 ? rec.text : rec.text.slice(0, nl)) : undefined;
    const fields = parsed?.fields ?? {};
    const events: VigilEvent[] = [];
    for (const { spec, re } of this.compiled) {
      const subject = spec.field === undefined ? rec.text : fieldText(fieldOf(fields, spec.field));
      if (subject === undefined || !re.test(subject)) continue;
      events.push(this.event(spec, rec, origin, fields, parsed?.ok ?? true, parsed?.time, now));
    }
    return events;
  }

  private event(
    spec: LogSignalSpec,
    rec: LogRecord,
    origin: RecordOrigin,
    fields: Record<string, unknown>,
    parsedOk: boolean,
    time: number | undefined,
    now: number,
  ): VigilEvent {
    const labels: Record<string, string> = {};
    for (const name of spec.labels) {
      const v = fieldText(fieldOf(fields, name));
      if (v !== undefined) labels[name] = v;
    }
    labels.source = this.opts.source;
    labels.file = origin.path;
    const flags = [
      ...(rec.truncated || rec.text.length > MAX_EVENT_TEXT ? ['truncated'] : []),
      ...(rec.invalid ? ['invalid-utf8'] : []),
      ...(parsedOk ? [] : ['unparsed']),
    ];
    const raw = spec.value === undefined ? undefined : fieldText(fieldOf(fields, spec.value))?.trim();
    const value = raw ? Number(raw) : undefined;
    const sane = time !== undefined && time >= EARLIEST && time <= now + this.opts.maxFutureSkewMs;
    return {
      // A name's failure and recovery signals may both match one record: each is its own event.
      id: `${origin.idBase}-${rec.offset}-${spec.name}${spec.ok ? '-ok' : ''}`,
      source: 'log',
      name: spec.name,
      at: new Date(sane ? time : now).toISOString(),
      host: this.opts.host,
      labels,
      ok: spec.ok,
      ...(value !== undefined && Number.isFinite(value) ? { value } : {}),
      data: {
        text: rec.text.slice(0, MAX_EVENT_TEXT),
        lines: rec.lines,
        offset: rec.offset,
        ...(Object.keys(fields).length ? { fields } : {}),
        ...(flags.length ? { flags } : {}),
      },
    };
  }
}
