import { hash } from 'node:crypto';
import type { VigilEvent } from '../contracts/event.js';
import type { Rule } from './schema.js';

export interface SeriesId {
  /** Human-readable and stable: rule id plus its grouping labels, e.g. api-health{service="helix-api"}. */
  fingerprint: string;
  labels: Record<string, string>;
}

export function seriesOf(rule: Rule, event: VigilEvent): SeriesId {
  const labels: Record<string, string> = { ...rule.labels };
  for (const name of rule.groupBy) labels[name] = event.labels[name] ?? '';
  const group = rule.groupBy.map((name) => `${name}=${JSON.stringify(labels[name])}`).join(',');
  return { fingerprint: `${rule.id}{${group}}`, labels };
}

/**
 * Redis key of a series; hashed so label values of any length or charset make a safe key. One-shot
 * `hash()`: this runs for every event and rule it matches, and a Hash object per call showed in profiles.
 */
export function seriesKey(prefix: string, fingerprint: string): string {
  return `${prefix}:series:${hash('sha1', fingerprint, 'hex')}`;
}

export function matches(
  rule: Rule,
  event: VigilEvent,
  source: string | undefined,
  labels: Record<string, string>,
) {
  if (source !== undefined && source !== event.source) return false;
  return Object.entries(labels).every(([k, v]) => event.labels[k] === v);
}
