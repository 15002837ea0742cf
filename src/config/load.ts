import { existsSync, readFileSync } from 'node:fs';
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
  ['SLACK_API_URL', ['slack', 'apiUrl'], String],
  ['SLACK_CHANNEL', ['slack', 'channel'], String],
  ['SMTP_URL', ['email', 'smtpUrl'], String],
  ['VIGIL_HTTP_HOST', ['http', 'host'], String],
  ['VIGIL_HTTP_PORT', ['http', 'port'], String],
  ['VIGIL_API_TOKEN', ['http', 'apiToken'], String],
  ['VIGIL_LOG_LEVEL', ['log', 'level'], String],
];

export const defaultConfigFile = 'vigil.yaml';

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
        `${file}: config file not found (copy vigil.example.yaml to ${file}, or pass --config)`,
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
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) problems.push(...describeIssues(parsed.error.issues, where, unset));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return deepFreeze(parsed.data);
}
