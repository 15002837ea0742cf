import { describe, expect, it } from 'vitest';
import { useSeriesStore } from '../support/series-store.js';
import { replay, type Timed } from '../../src/rules/replay.js';
import { ruleSchema } from '../../src/rules/schema.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');

const w = useSeriesStore('twin');

/** Fires and resolves of the production Lua, observation by observation, in order. */
async function viaLua(key: string, oks: readonly boolean[], count: number, resolveAfter: number) {
  const out: string[] = [];
  let seen = { fires: 0, resolves: 0 };
  for (const [i, ok] of oks.entries()) {
    const [s] = await w.store.apply([
      { key, eventId: `${key}-${i}`, atMs: T0 + i * 1000, ok, value: 0, count, resolveAfter },
    ]);
    if (!s) throw new Error('no state');
    if (s.fires > seen.fires) out.push(`fire ${i}`);
    if (s.resolves > seen.resolves) out.push(`resolve ${i}`);
    seen = s;
  }
  return out;
}

/** The same through kinds/consecutive.ts via advance(), as `vigil rules test` runs it. */
function viaReplay(oks: readonly boolean[], count: number, resolveAfter: number) {
  const rule = ruleSchema.parse({
    id: 'twin',
    title: 'twin',
    severity: 'high',
    ackSla: '5m',
    match: { name: 'obs' },
    condition: { kind: 'consecutive', count, resolveAfter },
  });
  const events: Timed[] = oks.map((ok, i) => ({
    atMs: T0 + i * 1000,
    event: {
      id: `o${i}`,
      source: 'manual',
      name: 'obs',
      at: new Date(T0 + i * 1000).toISOString(),
      host: 'h',
      labels: {},
      ok,
    },
  }));
  return replay(rule, rule.condition, events).transitions.map((t) => `${t.type} ${(t.atMs - T0) / 1000}`);
}

const F = false;
const P = true;
const sequences: Array<[string, boolean[], number, number]> = [
  ['fires at the count, resolves at the first pass', [F, F, F, F, P, P], 3, 1],
  ['a pass breaks the run', [F, F, P, F, F, P, F, F, F], 3, 1],
  ['resolveAfter 2: one pass between failures keeps it firing', [F, F, F, P, F, P, P, F, F, F, P, P], 3, 2],
  ['count 1 fires on each failure after a resolve', [F, P, F, F, P, P, F], 1, 1],
  ['passes first, then a long failing run', [P, P, P, F, F, F, F, F, F, F, P], 5, 1],
];

describe('consecutive: the in-order twin (kinds/consecutive.ts via advance) matches series.lua', () => {
  it.each(sequences)('%s', async (name, oks, count, resolveAfter) => {
    const lua = await viaLua(`${w.prefix}:series:${name.replace(/\W+/g, '-')}`, oks, count, resolveAfter);
    expect(lua.length).toBeGreaterThan(0);
    expect(viaReplay(oks, count, resolveAfter)).toEqual(lua);
  });
});
