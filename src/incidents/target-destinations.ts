import type { VigilConfig } from '../config/schema.js';
import type { ChannelName } from '../contracts/channels.js';

/** Which channel carries each target name: parallel arrays, ready to unnest in SQL. */
export interface TargetDestinations {
  names: string[];
  channels: ChannelName[];
}

/**
 * `slack` and `email` are the channels' own destinations (slack.channel, email.to); every other
 * name is a `targets` entry, a Slack channel or an email list.
 */
export function targetDestinations(
  config: Pick<VigilConfig, 'targets' | 'slack' | 'email'>,
): TargetDestinations {
  const pairs: Array<[string, ChannelName]> = [];
  if (config.slack) pairs.push(['slack', 'slack']);
  if (config.email) pairs.push(['email', 'email']);
  for (const [name, t] of Object.entries(config.targets))
    pairs.push([name, t.slack === undefined ? 'email' : 'slack']);
  return { names: pairs.map(([n]) => n), channels: pairs.map(([, c]) => c) };
}
