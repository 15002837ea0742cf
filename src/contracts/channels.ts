/** Where notifications go; each channel has its own notify queue and pace. */
export const channelNames = ['slack', 'email'] as const;
export type ChannelName = (typeof channelNames)[number];

/** What a notification announces; `opened` starts a thread, the others update or reply to it. */
export type NotificationKind =
  | 'opened'
  | 'acknowledged'
  | 'resolved'
  | 'escalated'
  | 'reminder'
  /** A person took the acknowledgement back: firing again, escalation restarts. */
  | 'unacknowledged'
  /** The acknowledgement lapsed while still firing. */
  | 'ack-expired'
  /** A hold ended (silence over, inhibitor resolved) on an incident nobody was told of: told now. */
  | 'released'
  /** The series started flapping (one notice), or has been stable long enough (one notice). */
  | 'flapping'
  | 'stable'
  /** Silenced while people had been told it fired: they hear that it is silenced. */
  | 'silenced'
  /** What an auto-remediation run did, or why it did not run (the transition's note says). */
  | 'remediation'
  /** A remediation run waits for a person: Approve / Reject (the transition names the run). */
  | 'approval';
