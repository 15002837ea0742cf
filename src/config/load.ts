import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { configSchema, type VigilConfig, type VigilConfigInput } from './schema.js';
import { deepFreeze, describeIssues, interpolate, parseYaml } from './yaml-source.js';

type Env = Record<string, string | undefined>;

/** Environment variables that override a config field (they win over the file). */
const envOverrides: Array<[string, string[], (v: string) => unknown]> = [
  ['DATABASE_URL', ['database', 'url'], String],
  ['REDIS_URL', ['redis', 'url'], String],
  ['VIGIL_REDIS_PREFIX', ['redis', 'prefix'], String],
  ['SLACK_BOT_TOKEN', ['slack', 'token'], String],
  ['SLACK_SIGNING_SECRET', ['slack', 'signingSecret'], String],
  ['SLACK_APP_TOKEN', ['slack', 'appToken'], String],
  ['SLACK_API_URL', ['slack', 'apiUrl'], String],
  ['SLACK_CHANNEL', ['slack', 'channel'], String],
  ['SMTP_URL', ['email', 'smtpUrl'], String],
  ['EMAIL_FROM', ['email', 'from'], String],
  ['EMAIL_TO', ['email', 'to'], (v) => v.split(',').map((s) => s.trim())],
  ['VIGIL_HTTP_HOST', ['http', 'host'], String],
  ['VIGIL_HTTP_PORT', ['http', 'port'], String],
  ['VIGIL_API_TOKEN', ['http', 'apiToken'], String],
  ['VIGIL_LINK_SECRET', ['http', 'linkSecret'], String],
  ['VIGIL_LOG_LEVEL', ['log', 'level'], String],
];

export const defaultConfigFile = 'vigil.yaml';

/** How to run without a file, for the messages that say none was found. */
const envHint =
  'DATABASE_URL and REDIS_URL (required), SLACK_BOT_TOKEN with SLACK_CHANNEL for Slack, SMTP_URL with ' +
  'EMAIL_FROM and EMAIL_TO for email, VIGIL_HTTP_PORT, … (README, "Configuration")';

export interface LoadOptions {
  /** Path of the YAML file; when omitted, ./vigil.yaml is used if it exists. */
  file?: string;
  env?: Env;
  /** Already-parsed config (tests, the demo); merged under env overrides like a file. */
  object?: VigilConfigInput;
}

function setIn(target: Record<string, unknown>, path: string[], value: unknown) {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!next || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** Reads, interpolates, overrides, validates (reporting every problem) and freezes the config. */
export function loadConfig(options: LoadOptions = {}): VigilConfig {
  const env = options.env ?? process.env;
  let raw: unknown = options.object ?? {};
  let where: (path: PropertyKey[]) => string = () => 'config';
  const file =
    options.file ??
    (options.object === undefined && existsSync(defaultConfigFile) ? defaultConfigFile : undefined);
  if (file !== undefined) {
    if (!existsSync(file)) {
      throw new ConfigError([
        `${file}: config file not found (${resolve(file)}); pass an existing file to --config, ` +
          `or leave --config out and set the config by environment variables: ${envHint}`,
      ]);
    }
    const source = parseYaml(file, readFileSync(file, 'utf8'));
    raw = source.value;
    where = source.where;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([
      `${file ?? 'config'}: must be a mapping of settings, got ${Array.isArray(raw) ? 'a list' : typeof raw}`,
    ]);
  }
  const problems: string[] = [];
  const unset = new Set<string>();
  const merged = interpolate(raw, (name) => env[name], problems, where, [], unset) as Record<string, unknown>;
  for (const [name, path, convert] of envOverrides) {
    const v = env[name];
    if (v !== undefined && v !== '') setIn(merged, path, convert(v));
  }
  if (file === undefined && options.object === undefined) {
    const missing = ['DATABASE_URL', 'REDIS_URL'].filter((name) => !env[name]);
    if (missing.length) {
      throw new ConfigError([
        `no config file: ${resolve(defaultConfigFile)} does not exist and --config was not given; ` +
          `write one (see README, "Configuration") or set the config by environment variables: ${envHint}`,
        ...missing.map((name) => `${name}: not set`),
      ]);
    }
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) problems.push(...describeIssues(parsed.error.issues, where, unset, merged));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  // Relative folders (rules, state) are the config file's neighbours, wherever the agent is started from.
  if (file !== undefined) {
    parsed.data.rules.dir = resolve(dirname(file), parsed.data.rules.dir);
    parsed.data.stateDir = resolve(dirname(file), parsed.data.stateDir);
  }
  return deepFreeze(parsed.data);
}
