import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ruleJsonSchema } from '../../src/rules/json-schema.js';

describe('rules JSON Schema', () => {
  it('the committed rules/schema.json is what the zod rule schema generates (run `vigil rules schema`)', () => {
    const committed: unknown = JSON.parse(readFileSync('rules/schema.json', 'utf8'));
    expect(committed).toEqual(ruleJsonSchema());
  });

  it('describes what rule authors write: durations as text, severities and condition kinds as enums', () => {
    const schema = ruleJsonSchema() as {
      required: string[];
      properties: Record<string, { type?: unknown; enum?: unknown; anyOf?: unknown }>;
      additionalProperties: boolean;
    };
    expect(schema.required).toEqual(
      expect.arrayContaining(['id', 'title', 'severity', 'ackSla', 'condition']),
    );
    expect(schema.properties.ackSla!.anyOf).toEqual([
      expect.objectContaining({ type: 'string', pattern: expect.stringContaining('ms|s|m|h|d') as string }),
      { type: 'number', minimum: 0 },
    ]);
    expect(schema.properties.severity!.enum).toEqual(['critical', 'high', 'warning', 'info']);
    expect(schema.additionalProperties).toBe(false);
  });
});
