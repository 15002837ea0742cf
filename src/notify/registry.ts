import { VigilError } from '../errors.js';
import type { Logger } from '../log.js';
import type { VigilConfig } from '../config/schema.js';
import type { ChannelName } from '../contracts/channels.js';
import type { NotifyChannel } from './channel.js';
import { createEmailChannel } from './email.js';
import { createSlackChannel } from './slack.js';

/** What channels need from the running agent beyond the config. */
export interface ChannelDeps {
  /** Signed acknowledge links for emails (AckLinks.create). */
  ackLink?: (incidentId: string) => Promise<string | undefined>;
}

/** Builds a channel from the whole config, or returns undefined when that channel is not configured. */
export type ChannelFactory = (
  config: VigilConfig,
  log: Logger,
  deps: ChannelDeps,
) => NotifyChannel | undefined;

/** A small registry so adding a channel is one entry, and a name can never be claimed twice. */
export class ChannelRegistry {
  readonly #factories = new Map<ChannelName, ChannelFactory>();

  register(name: ChannelName, factory: ChannelFactory): this {
    if (this.#factories.has(name)) {
      throw new VigilError('E_CHANNEL_DUPLICATE', `notification channel "${name}" is registered twice`);
    }
    this.#factories.set(name, factory);
    return this;
  }

  build(config: VigilConfig, log: Logger, deps: ChannelDeps = {}): Map<ChannelName, NotifyChannel> {
    const channels = new Map<ChannelName, NotifyChannel>();
    for (const [name, factory] of this.#factories) {
      const channel = factory(config, log, deps);
      if (!channel) continue;
      // A factory returning another channel's implementation would silently misroute notifications.
      if (channel.name !== name) {
        throw new VigilError('E_CHANNEL_NAME', `factory for "${name}" built a "${channel.name}" channel`);
      }
      channels.set(name, channel);
    }
    return channels;
  }
}

export const defaultChannels = new ChannelRegistry()
  .register('slack', (config, log) =>
    config.slack
      ? createSlackChannel(config.slack, log, {
          timeZone: config.oncall.timeZone,
          silenceForMs: config.oncall.silenceFor,
        })
      : undefined,
  )
  .register('email', (config, log, deps) =>
    config.email
      ? createEmailChannel(config.email, log, {
          timeZone: config.oncall.timeZone,
          ...(deps.ackLink ? { ackLink: deps.ackLink } : {}),
        })
      : undefined,
  );

export function createChannels(
  config: VigilConfig,
  log: Logger,
  deps: ChannelDeps = {},
): Map<ChannelName, NotifyChannel> {
  return defaultChannels.build(config, log, deps);
}
