import type { LogParserSpec } from '../schema.js';
import { jsonParser } from './json.js';
import type { Parser } from './parser.js';
import { plainParser } from './plain.js';
import { regexParser } from './regex.js';

export function createParser(spec: LogParserSpec): Parser {
  if (spec.kind === 'regex') return regexParser(spec.pattern, spec.timeField);
  if (spec.kind === 'json') return jsonParser(spec.timeField);
  return plainParser;
}
