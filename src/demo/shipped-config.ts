import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { LogSourceSpec } from '../sources/logs/schema.js';

/** The repository's vigil.yaml: the demo follows HELIX's log with the same source a deployment does. */
const shippedConfig = fileURLToPath(new URL('../../vigil.yaml', import.meta.url));

/**
 * vigil.yaml's `helix-production` log source (its parser and signals), reading `path` instead of
 * HELIX's production.log, so the demo cannot drift from the shipped config the rules were written for.
 */
export function productionLogSource(path: string): LogSourceSpec {
  const { sources } = loadConfig({ file: shippedConfig, env: { HELIX_LOG: path } });
  const log = sources.find((s): s is LogSourceSpec => s.kind === 'log' && s.name === 'helix-production');
  if (!log) throw new ConfigError([`${shippedConfig}: no log source named helix-production`]);
  return log;
}
