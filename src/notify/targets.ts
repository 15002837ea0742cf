import type { VigilConfig } from '../config/schema.js';
import type { ChannelName } from '../contracts/channels.js';
import { VigilError } from '../errors.js';

/** Where one target's messages go on its channel. */
export interface Destination {
  channel: ChannelName;
  /** Slack channel id, or email addresses; undefined: the channel's own default (slack.channel, email.to). */
  to: string | readonly string[] | undefined;
  /** Who an escalation to this target pages (Slack user group or user); never used by other messages. */
  mention: string | undefined;
}

/**
 * The named targets of vigil.yaml, plus each configured channel's own (`slack`, `email`). A delivery
 * row names its target; '' (rows made before targets existed, stand-ins) is the channel's default.
 */
export class TargetBook {
  private readonly byName = new Map<string, Destination>();

  /** The channels configured (each is a target of its own name) and the named targets. */
  constructor(
    readonly channels: readonly ChannelName[],
    targets: VigilConfig['targets'] = {},
  ) {
    for (const c of channels) this.byName.set(c, { channel: c, to: undefined, mention: undefined });
    for (const [name, t] of Object.entries(targets)) {
      const channel: ChannelName = t.slack !== undefined ? 'slack' : 'email';
      this.byName.set(name, { channel, to: t.slack ?? t.email, mention: t.mention });
    }
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  channelOf(name: string): ChannelName | undefined {
    return this.byName.get(name)?.channel;
  }

  /** The destination of a delivery row. A target no longer configured is refused, not retried for a day. */
  resolve(channel: ChannelName, target: string): Destination {
    if (target === '' || target === channel) return { channel, to: undefined, mention: undefined };
    const d = this.byName.get(target);
    if (!d || d.channel !== channel)
      throw new VigilError(
        'E_NOTIFY_TARGET',
        `target "${target}" is not a ${channel} target in vigil.yaml (removed or renamed?)`,
      );
    return d;
  }
}

/** The channels a config sets up, each also a target of its own name. */
export const configuredChannels = (config: Pick<VigilConfig, 'slack' | 'email'>): ChannelName[] => [
  ...(config.slack ? (['slack'] as const) : []),
  ...(config.email ? (['email'] as const) : []),
];
