/** What a parser makes of a record's first line. */
export interface Parsed {
  fields: Record<string, unknown>;
  /** The record's own time (ms since the epoch), when it has one that reads as a time. */
  time: number | undefined;
  /** False when the line is not in the parser's format (the record still counts, with no fields). */
  ok: boolean;
}

export type Parser = (line: string) => Parsed;

/** A field by name, or by a dotted path into nested JSON (`http.status`). */
export function fieldOf(fields: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(fields, name)) return fields[name];
  let node: unknown = fields;
  for (const key of name.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A field as label or match text: strings as they are, other values as JSON. */
export function fieldText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}
