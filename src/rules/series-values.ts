import { oneShotRedis } from '../queues/connection.js';
import { errorMessage } from '../errors.js';
import { seriesKey } from './fingerprint.js';
import { kindOf } from './kinds/registry.js';
import type { Rule } from './schema.js';
import type { WindowSeries } from './window-series.js';

/** A live series of a rule: what it measures now and whether it fires. */
export interface SeriesValue {
  rule: string;
  fingerprint: string;
  value: number;
  firing: boolean;
  /** When the firing began (ms), if firing */
  since?: number;
}

/**
 * The series each rule has in Redis now, for `vigil thresholds list`. Windowed series carry their
 * rule and fingerprint; consecutive ones (series.lua hashes) only by a key derived from the
 * fingerprint, so they are found for rules without groupBy. Read-only, bounded by a SCAN.
 */
export async function readSeriesValues(
  url: string,
  prefix: string,
  rules: ReadonlyMap<string, Rule>,
): Promise<{ series: SeriesValue[]; error?: string }> {
  const redis = oneShotRedis(url);
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const series: SeriesValue[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:series:*`, 'COUNT', 1000);
      cursor = next;
      const windows = keys.filter((k) => !k.endsWith(':synced'));
      if (windows.length === 0) continue;
      for (const text of await redis.mget(...windows)) {
        if (!text) continue;
        const s = JSON.parse(text) as WindowSeries;
        if (!rules.has(s.r)) continue;
        series.push(valueOf(s.r, s.fp, s.life.value, s.life.firing, s.life.firedSince));
      }
    } while (cursor !== '0');
    for (const rule of rules.values()) {
      if (kindOf(rule.condition).store !== 'runs' || rule.groupBy.length > 0) continue;
      const fingerprint = `${rule.id}{}`;
      const [firing, value, since] = await redis.hmget(
        seriesKey(prefix, fingerprint),
        'firing',
        'value',
        'firedSince',
      );
      if (firing === null) continue;
      series.push(valueOf(rule.id, fingerprint, Number(value ?? 0), firing === '1', Number(since ?? 0)));
    }
    return { series };
  } catch (err) {
    return { series: [], error: errorMessage(err) };
  } finally {
    redis.disconnect();
  }
}

function valueOf(
  rule: string,
  fingerprint: string,
  value: number,
  firing: boolean,
  since: number,
): SeriesValue {
  return firing ? { rule, fingerprint, value, firing, since } : { rule, fingerprint, value, firing };
}
