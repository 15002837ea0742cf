import { z } from 'zod';
import { duration } from '../../config/duration.js';
import { integer } from '../../config/fields.js';
import { backtrackingRisk } from '../../config/regex-safety.js';

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and "-"')
  .max(100);

/**
 * A JavaScript regular expression, checked when the config is read rather than at the first line:
 * it compiles, and no crafted log line can make it backtrack for ever (see regex-safety).
 */
const regex = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source, 'm');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a regular expression: ${(err as Error).message}` });
    return;
  }
  const risk = backtrackingRisk(source);
  if (risk) ctx.addIssue({ code: 'custom', message: risk });
});

/** A file path whose last part may hold `*`, `?` and `[…]`; folders are literal. */
const pathPattern = z
  .string()
  .min(1)
  .refine((p) => !/[*?[\]]/.test(p.slice(0, p.lastIndexOf('/') + 1)), {
    message: 'wildcards only in the file name, not in folders (e.g. /var/log/helix/*.log)',
  });

/** A fact a log record can show: each record it matches becomes one event named after it. */
export const logSignalSchema = z
  .object({
    /** The event's name: rules match it with `match: { source: log, name }`. */
    name,
    /** Searched in the record's text (continuation lines included; `^`/`$` match at each line). */
    match: regex,
    /** Search this parsed field instead of the text (every record is then parsed: slower). */
    field: z.string().min(1).optional(),
    /** `false` (a failure, the default) or `true` (a sign of life: heartbeats, "recovered"). */
    ok: z.boolean().default(false),
    /** A parsed field (or named group) holding the event's numeric value. */
    value: z.string().min(1).optional(),
    /** Parsed fields copied into the event's labels (rules group by them). */
    labels: z.array(z.string().min(1)).default([]),
  })
  .strict();

const parser = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('plain') }).strict(),
  z
    .object({
      kind: z.literal('regex'),
      /** Applied to a record's first line; named groups become fields. */
      pattern: regex.refine((p) => /\(\?<[A-Za-z_]/.test(p), 'needs at least one named group (?<name>…)'),
      /** The field holding the record's time; unset: `time` or `timestamp` if the pattern has them. */
      timeField: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('json'),
      /** unset: the first of time, timestamp, ts, @timestamp, asctime that the record has. */
      timeField: z.string().min(1).optional(),
    })
    .strict(),
]);

/** `parser: json` is short for `parser: { kind: json }`. */
const parserField = z.preprocess((v) => (typeof v === 'string' ? { kind: v } : v), parser);

/** The `log` source: follows files like `tail -F` and turns the records some rule uses into events. */
export const logSourceSchema = z
  .object({
    kind: z.literal('log'),
    name,
    /** Files to follow; the file-name part may be a glob. New matches are picked up as they appear. */
    paths: z.array(pathPattern).min(1),
    parser: parserField.default({ kind: 'plain' }),
    /** How continuation lines join the record they belong to. */
    multiline: z.enum(['none', 'python-traceback', 'indented']).default('none'),
    /** A multi-line record still open after this long without a new line is complete. */
    multilineWait: duration.default(1000),
    /** Longer lines are cut to this (and flagged); the rest is skipped, never buffered. */
    maxLineBytes: integer(256, 16 * 1024 * 1024).default(64 * 1024),
    /** Read positions; relative to the state folder (`.vigil/state` next to the config file). */
    stateFile: z.string().min(1).optional(),
    /** How often files are checked for growth, rotation and new glob matches. */
    pollEvery: duration.refine((ms) => ms > 0, 'must be more than 0').default(250),
    /** Where to begin in a file already there at the very first start (no saved position). */
    startAt: z.enum(['end', 'beginning']).default('end'),
    signals: z.array(logSignalSchema).min(1),
  })
  .strict()
  .superRefine((spec, ctx) => {
    // A name may have one failure signal and one recovery signal: a rule on that name then fires on
    // the failures and resolves on the recovery (e.g. tracebacks, and the orchestrator's heartbeat).
    const seen = new Set<string>();
    spec.signals.forEach((s, i) => {
      const key = `${s.name}\u0000${s.ok}`;
      if (seen.has(key))
        ctx.addIssue({
          code: 'custom',
          path: ['signals', i, 'name'],
          message: `"${s.name}" already has a ${s.ok ? 'recovery (ok: true)' : 'failure (ok: false)'} signal; a name may have one of each`,
        });
      seen.add(key);
    });
  });

export type LogSourceSpec = z.output<typeof logSourceSchema>;
export type LogSignalSpec = z.output<typeof logSignalSchema>;
export type LogParserSpec = LogSourceSpec['parser'];
export type MultilineMode = LogSourceSpec['multiline'];
