import { LineCounter, parseAllDocuments, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';

/** A parsed YAML file that can point a problem at its line. */
export interface YamlSource {
  file: string;
  value: unknown;
  /** file:line:col of the value at `path`, or of its key when `at` is 'key' (an unknown key). */
  where(path: readonly PropertyKey[], at?: 'key' | 'value'): string;
}

export function parseYaml(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  return sourceOf(file, doc, lineCounter);
}

/** Every document of a file (`---` between them); empty ones are skipped. */
export function parseYamlDocuments(file: string, text: string): YamlSource[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  return [...docs]
    .filter((d) => d.errors.length > 0 || d.toJS() != null)
    .map((d) => sourceOf(file, d, lineCounter));
}

function sourceOf(file: string, doc: Document, lineCounter: LineCounter): YamlSource {
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        // linePos is only filled in with prettyErrors; the offset is always there.
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
        return `${file}:${pos.line}:${pos.col}: invalid YAML: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  return {
    file,
    value: doc.toJS() ?? {},
    where(path, at = 'value') {
      const last = path[path.length - 1];
      if (at === 'key' && last !== undefined) {
        const parent = doc.getIn(path.slice(0, -1) as unknown[], true);
        const pair = isMap(parent)
          ? parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === last)
          : undefined;
        if (isNode(pair?.key) && pair.key.range) {
          const { line, col } = lineCounter.linePos(pair.key.range[0]);
          return `${file}:${line}:${col}`;
        }
      }
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n) as unknown[], true);
        if (isNode(node) && node.range) {
          const { line, col } = lineCounter.linePos(node.range[0]);
          return `${file}:${line}:${col}`;
        }
      }
      return file;
    },
  };
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/** Turns zod issues into one "file:line:col path: message" line each. */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  where: (path: PropertyKey[], at?: 'key' | 'value') => string,
  /** Paths already reported (an unset ${VAR}): their follow-on schema errors would be noise. */
  skip: ReadonlySet<string> = new Set(),
  /** What was parsed: a field absent from it is reported as missing, not as "received undefined". */
  input?: unknown,
) {
  const lines: string[] = [];
  for (const issue of issues) {
    if (skip.has(formatPath(issue.path))) continue;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        lines.push(`${where(path, 'key')} ${formatPath(path)}: unknown key`);
      }
      continue;
    }
    const path = [...issue.path];
    const missing = issue.code !== 'custom' && input !== undefined && isMissing(input, path);
    const message = missing ? 'required, but missing' : issue.message;
    lines.push(`${where(path)} ${formatPath(path)}: ${message}`);
  }
  return lines;
}

/**
 * Replaces ${NAME} and ${NAME:-default} in every string of a parsed document. A reference to an
 * unset name with no default is a problem reported with its path, not an empty string.
 */
export function interpolate(
  value: unknown,
  lookup: (name: string) => string | undefined,
  problems: string[],
  where: (path: PropertyKey[]) => string,
  path: PropertyKey[] = [],
  /** Collects the paths of unset references, to pass to describeIssues as `skip`. */
  unset: Set<string> = new Set(),
  /** What to do about an unset name, for its problem line. */
  fix: (name: string) => string = (name) => `set it or write \${${name}:-default}`,
): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_.]*)(?::-([^}]*))?\}/g,
      (_m, name: string, fallback?: string) => {
        const found = lookup(name);
        if (found !== undefined && found !== '') return found;
        if (fallback !== undefined) return fallback;
        unset.add(formatPath(path));
        problems.push(`${where(path)} ${formatPath(path)}: \${${name}} is not set (${fix(name)})`);
        return '';
      },
    );
  }
  if (Array.isArray(value))
    return value.map((v, i) => interpolate(v, lookup, problems, where, [...path, i], unset, fix));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        interpolate(v, lookup, problems, where, [...path, k], unset, fix),
      ]),
    );
  }
  return value;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** True when the last key of `path` is absent from an object that is there. */
function isMissing(input: unknown, path: readonly PropertyKey[]): boolean {
  if (path.length === 0) return false;
  let node: unknown = input;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  const last = path[path.length - 1] as PropertyKey;
  return node !== null && typeof node === 'object' && !Array.isArray(node) && !(last in node);
}
