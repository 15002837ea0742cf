/** Where notifications go; each channel has its own notify queue and pace. */
export const channelNames = ['slack', 'email'] as const;
export type ChannelName = (typeof channelNames)[number];

/** What a notification announces; `opened` starts a thread, the others update or reply to it. */
export type NotificationKind = 'opened' | 'acknowledged' | 'resolved' | 'escalated' | 'reminder';
