import { z } from 'zod';
import { ruleSchema } from './schema.js';

/**
 * The JSON Schema of a rule file, generated from the same zod schema the loader validates with, so
 * editors (e.g. yaml-language-server) check rules exactly as Vigil will. Describes what authors
 * write (durations as "5m"), not what the loader produces.
 */
export function ruleJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ruleSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'Vigil rule',
    description:
      'One alerting rule: what to watch (probe/match), when to fire (condition), whom to tell (notify).',
  };
}
