import type { Parser } from './parser.js';
import { parseTime } from './time.js';

/** Named groups of `pattern` become fields; `timeField` (or a `time`/`timestamp` group) dates the record. */
export function regexParser(pattern: string, timeField: string | undefined): Parser {
  const re = new RegExp(pattern);
  return (line) => {
    const groups = re.exec(line)?.groups;
    if (!groups) return { fields: {}, time: undefined, ok: false };
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(groups)) if (v !== undefined) fields[k] = v;
    const time = parseTime(fields[timeField ?? ('time' in fields ? 'time' : 'timestamp')]);
    return { fields, time, ok: true };
  };
}
