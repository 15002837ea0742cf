import type { NotificationKind } from '../../src/contracts/channels.js';

/** Every notification kind, so a renderer test covers a kind added later (the Record fails to compile). */
const all: Record<NotificationKind, true> = {
  opened: true,
  acknowledged: true,
  resolved: true,
  escalated: true,
  reminder: true,
  unacknowledged: true,
  'ack-expired': true,
  released: true,
  flapping: true,
  stable: true,
  silenced: true,
  remediation: true,
  approval: true,
};
export const notificationKinds = Object.keys(all) as NotificationKind[];
