/** `2025-07-08 11:17:02,123` (Python logging's asctime) and ISO forms with an optional zone. */
const isoish = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:[.,](\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * A record's time in ms since the epoch: epoch numbers (seconds or milliseconds, as pino and
 * structlog write them) or date-time text; a time without a zone is the agent's local time, as the
 * program that wrote the log meant it. Anything else is undefined.
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value) ? (value < 1e11 ? value * 1000 : value) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = isoish.exec(value.trim());
  if (!m) return undefined;
  const fraction = (m[3] ?? '0').slice(0, 3).padEnd(3, '0');
  const zone = m[4] === undefined ? '' : m[4] === 'Z' ? 'Z' : m[4].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(`${m[1]}T${m[2]}.${fraction}${zone}`);
  return Number.isNaN(ms) ? undefined : ms;
}
