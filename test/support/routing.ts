import type { ChannelName } from '../../src/contracts/channels.js';
import { Router } from '../../src/incidents/routing.js';
import { TargetBook } from '../../src/notify/targets.js';

/** Routing as an agent without `routes` has it: every incident to every channel, nothing held. */
export function routeToAll(channels: readonly ChannelName[]) {
  const targets = new TargetBook(channels);
  return {
    router: new Router({}, targets),
    channelOf: (t: string) => targets.channelOf(t),
    holds: [],
    channels,
  };
}
