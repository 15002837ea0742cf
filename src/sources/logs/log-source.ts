import { rename } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { VigilEvent } from '../../contracts/event.js';
import type { Emit, Source } from '../../contracts/source.js';
import { errorMessage } from '../../errors.js';
import type { SourceContext, SourceKind } from '../kind.js';
import { Follower } from './follower.js';
import { createParser } from './parsers/index.js';
import { PathPresence } from './presence.js';
import type { LogRecord, Tally } from './scanner.js';
import type { RuleSet } from '../../rules/loader.js';
import { logSourceSchema, type LogSignalSpec, type LogSourceSpec } from './schema.js';
import { Signals, usedSignals } from './signals.js';
import { loadPositions, savePositions, type Position } from './state-file.js';
import type { FileTail } from './tail.js';

/** The state file of a source: `stateFile` as given (relative: in the state folder), or `log-<name>.json` there. */
export function stateFileOf(spec: LogSourceSpec, stateDir: string): string {
  const file = spec.stateFile ?? `log-${spec.name}.json`;
  return isAbsolute(file) ? file : resolve(stateDir, file);
}

/**
 * Follows the spec's files and turns each record that a rule's signal matches into an event. Reads
 * only after the previous chunk's events are durable, and saves a file's position only after that,
 * so a restart neither loses nor repeats a record (a crash between the two repeats a chunk's events,
 * with the same ids: the rule engine drops them).
 */
class LogSource implements Source {
  readonly kind = 'log';
  readonly ownership = 'host-bound';
  readonly name: string;
  private signals: Signals;
  /** Finds candidate lines for every configured signal, so a rule reload needs no new scanners. */
  private readonly candidates: Signals;
  private readonly stateFile: string;
  private readonly reported = new Map<string, string>();
  private readonly presence: PathPresence;
  private follower: Follower | undefined;
  private emit: Emit | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private lastSave = 0;
  private dirty = false;

  constructor(
    private readonly spec: LogSourceSpec,
    private readonly ctx: SourceContext,
  ) {
    this.name = spec.name;
    this.signals = this.signalsFor(ctx.rules);
    this.candidates = this.build(spec.signals);
    this.stateFile = stateFileOf(spec, ctx.config.stateDir);
    this.presence = new PathPresence(spec.paths, `log ${spec.name} paths`, ctx.log, ctx.health);
  }

  async start(emit: Emit): Promise<void> {
    this.emit = emit;
    const { spec, ctx } = this;
    const saved = await this.loadState();
    this.follower = new Follower(
      {
        patterns: spec.paths,
        startAt: spec.startAt,
        multilineWait: spec.multilineWait,
        orphanGrace: Math.max(1000, 4 * spec.pollEvery),
        maxLineBytes: spec.maxLineBytes,
        multiline: spec.multiline,
        hits: () => this.candidates.hits(),
        log: ctx.log,
        problem: (path, err) => this.problem(path, err),
      },
      saved ?? [],
      saved === undefined,
    );
    ctx.metrics.gauge('vigil_log_files', { source: this.name }, () => this.follower?.files ?? 0);
    await this.follower.discover();
    this.running = this.pass(false);
  }

  /** The rules were reloaded: records read from now on are evaluated for the signals they match. */
  rulesChanged(rules: RuleSet): Promise<void> {
    this.signals = this.signalsFor(rules);
    return Promise.resolve();
  }

  /** The signals some enabled rule matches: only those are evaluated. */
  private signalsFor(rules: RuleSet): Signals {
    const { spec, ctx } = this;
    const used = usedSignals(spec.signals, rules);
    const unused = spec.signals.filter((s) => !used.includes(s)).map((s) => s.name);
    if (unused.length)
      ctx.log.info({ signals: unused }, 'no enabled rule matches these signals: not evaluated');
    return this.build(used);
  }

  private build(signals: readonly LogSignalSpec[]): Signals {
    const { spec, ctx } = this;
    return new Signals(signals, createParser(spec.parser), spec.parser.kind, {
      source: spec.name,
      host: hostname(),
      maxFutureSkewMs: ctx.config.events.maxFutureSkew,
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.timer);
      await this.running;
      await this.save();
      await this.follower?.close();
    })();
    return this.closing;
  }

  /** One look: new and rotated files (unless just done), then everything they have to read. */
  private async pass(discover: boolean): Promise<void> {
    const follower = this.follower as Follower;
    try {
      if (discover) await follower.discover();
      await this.presence.update(follower.present);
      await follower.read(this.sink);
      const blind = follower.blind;
      this.ctx.health.set(`log ${this.name}`, blind.length ? `cannot read ${blind.join(', ')}` : undefined);
      if (this.dirty && Date.now() - this.lastSave >= 1000) await this.save();
    } catch (err) {
      // The queue refused the events: the same lines are read again next time (same ids).
      this.ctx.metrics.inc('vigil_log_errors_total', { source: this.name, reason: 'emit' });
      this.report('events queue', 'emit', 'events not queued; the same lines are read again next pass', err);
    }
    if (this.closing) return;
    this.timer = setTimeout(() => {
      this.running = this.pass(true);
    }, this.spec.pollEvery);
  }

  private readonly sink = async (tail: FileTail, records: LogRecord[], tally: Tally): Promise<void> => {
    const id = tail.identity();
    const now = Date.now();
    const events: VigilEvent[] = [];
    let matched = 0;
    let skipped = tally.skipped;
    for (const rec of records) {
      const found = id
        ? this.signals.evaluate(
            rec,
            { idBase: `log-${this.name}-${id.dev}-${id.ino}-${id.fp}`, path: tail.path },
            now,
          )
        : [];
      if (found.length) {
        matched += rec.lines;
        for (const e of found) events.push(e);
      } else skipped += rec.lines;
    }
    this.count({ skipped, matched, truncated: tally.truncated, invalid: tally.invalid + tally.nul });
    if (tally.invalid)
      this.report(tail.path, 'invalid-utf8', 'bytes that are not UTF-8 were replaced with U+FFFD');
    if (tally.nul)
      this.report(tail.path, 'nul', 'NUL bytes (a copytruncate hole or binary data) were read as line ends');
    if (tally.truncated)
      this.report(tail.path, 'long-line', `lines over ${this.spec.maxLineBytes} bytes were cut`);
    this.dirty = true;
    if (events.length === 0) return;
    await (this.emit as Emit)(events);
    await this.save();
  };

  private count(by: Record<'skipped' | 'matched' | 'truncated' | 'invalid', number>): void {
    for (const [outcome, n] of Object.entries(by))
      if (n > 0) this.ctx.metrics.inc('vigil_log_lines_total', { source: this.name, outcome }, n);
  }

  /** Saved positions; undefined when there were none (the very first start). */
  private async loadState(): Promise<Position[] | undefined> {
    try {
      return await loadPositions(this.stateFile);
    } catch (err) {
      this.ctx.metrics.inc('vigil_log_errors_total', { source: this.name, reason: 'state' });
      const aside = `${this.stateFile}.damaged-${Date.now()}`;
      await rename(this.stateFile, aside).catch(() => undefined);
      this.ctx.log.error(
        { err: errorMessage(err), movedTo: aside },
        'log positions unreadable: starting without them',
      );
      return undefined;
    }
  }

  private async save(): Promise<void> {
    if (!this.follower || !this.dirty) return;
    this.dirty = false;
    this.lastSave = Date.now();
    try {
      await savePositions(this.stateFile, this.follower.positions());
      this.ctx.health.set(`log ${this.name} state`, undefined);
    } catch (err) {
      this.dirty = true;
      this.ctx.metrics.inc('vigil_log_errors_total', { source: this.name, reason: 'state' });
      this.ctx.health.set(`log ${this.name} state`, `cannot save read positions: ${errorMessage(err)}`);
      this.report(this.stateFile, 'state', 'cannot save read positions (a restart would read again)', err);
    }
  }

  private problem(path: string, err: NodeJS.ErrnoException | undefined): void {
    if (err === undefined) {
      if (this.reported.delete(`${path}\0read`))
        this.ctx.log.info({ file: path }, 'log file no longer failing (readable again, or gone)');
      return;
    }
    this.ctx.metrics.inc('vigil_log_errors_total', { source: this.name, reason: 'unreadable' });
    this.report(path, 'read', 'cannot read; tried again every poll', err);
  }

  /** Logs a problem once per file and reason (again only if the reason changes). */
  private report(path: string, what: string, message: string, err?: unknown): void {
    const key = `${path}\0${what}`;
    const detail = err === undefined ? message : `${message}: ${errorMessage(err)}`;
    if (this.reported.get(key) === detail) return;
    this.reported.set(key, detail);
    this.ctx.log.warn({ file: path, problem: what }, detail);
  }
}

export const logKind: SourceKind<LogSourceSpec> = {
  kind: 'log',
  ownership: 'host-bound',
  schema: logSourceSchema,
  produces: ['log'],
  // Several signals may share a name (one rule for many patterns): each name once.
  eventNames: (spec) => [...new Set(spec.signals.map((s) => s.name))],
  // Labels are copied from parsed fields when the record has them; `source` and `file` always.
  eventLabels: (spec, name) => [
    ...new Set(spec.signals.filter((s) => s.name === name).flatMap((s) => [...s.labels, 'source', 'file'])),
  ],
  create: (spec, ctx) => new LogSource(spec, ctx),
};
