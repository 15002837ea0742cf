import { z } from 'zod';
import { VigilError } from '../../errors.js';
import { absence, absenceSchema } from './absence.js';
import { change, changeSchema } from './change.js';
import { consecutive, consecutiveSchema } from './consecutive.js';
import type { AnyKind } from './kind.js';
import { match, matchSchema } from './match.js';
import { percentile, percentileSchema } from './percentile.js';
import { rate, rateSchema } from './rate.js';
import { ratio, ratioSchema } from './ratio.js';
import { threshold, thresholdSchema } from './threshold.js';

/** Every condition kind a rule may use. A new kind is a file and a line here. */
const all = [consecutive, threshold, rate, ratio, percentile, absence, match, change] as const;

function byName(kinds: readonly AnyKind[]): ReadonlyMap<string, AnyKind> {
  const map = new Map<string, AnyKind>();
  for (const k of kinds) {
    if (map.has(k.kind))
      throw new VigilError('E_KIND_DUPLICATE', `condition kind "${k.kind}" registered twice`);
    map.set(k.kind, k);
  }
  return map;
}

export const conditionKinds = byName(all);

/** The kind a condition names; the schema has already refused unknown ones. */
export function kindOf(condition: { kind: string }): AnyKind {
  const kind = conditionKinds.get(condition.kind);
  if (!kind) throw new VigilError('E_KIND_UNKNOWN', `unknown condition kind "${condition.kind}"`);
  return kind;
}

export const conditionSchema = z.discriminatedUnion('kind', [
  consecutiveSchema,
  thresholdSchema,
  rateSchema,
  ratioSchema,
  percentileSchema,
  absenceSchema,
  matchSchema,
  changeSchema,
]);
