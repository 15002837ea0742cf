import type { Parser } from './parser.js';
import { parseTime } from './time.js';

/** Where pino (`time`), structlog (`timestamp`), uvicorn/python-json-logger (`asctime`) and others put it. */
const timeFields = ['time', 'timestamp', 'ts', '@timestamp', 'asctime'];

/** One JSON object per line (pino, structlog, uvicorn's JSON formatters): its members are the fields. */
export function jsonParser(timeField: string | undefined): Parser {
  return (line) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { fields: {}, time: undefined, ok: false };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      return { fields: {}, time: undefined, ok: false };
    const fields = value as Record<string, unknown>;
    const name = timeField ?? timeFields.find((f) => Object.hasOwn(fields, f));
    return { fields, time: name === undefined ? undefined : parseTime(fields[name]), ok: true };
  };
}
