import type { ChannelName, NotificationKind } from '../contracts/channels.js';
import type { Incident } from '../contracts/incident.js';

/** Where a channel put its first message of an incident, so later ones update/thread it. */
export interface ThreadRef {
  /** Slack: channel id + message ts; email: the first message's Message-ID. */
  externalId: string;
  channelId?: string;
}

export interface NotificationContext {
  incident: Incident;
  kind: NotificationKind;
  /**
   * The incident transition this notification announces. Not `incident.seq`: by the time a delayed
   * notification goes out the incident may have moved on, and each notification needs its own identity.
   */
  seq: number;
  /** The `opened` delivery of this channel, when there was one (absent for `opened` itself). */
  thread: ThreadRef | undefined;
  /**
   * Absolute links shown in the message: the incident page and the email acknowledge link (when the
   * agent has a public URL), the rule's `runbook`.
   */
  links: { incident?: string; ack?: string; runbook?: string };
  /**
   * The target's own destination (Slack channel id; email addresses, comma-joined) when it is not the
   * channel's default (`slack.channel`, `email.to`).
   */
  destination?: string;
  /**
   * The target's `mention` (Slack user group `S…`, user `U…`, or `here`). Only an `escalated`
   * notification pages with it; updates and other replies never mention anyone.
   */
  mention?: string;
  /** The rule's `description`: what the alert means and the first thing to do. */
  description?: string;
  /**
   * What the audit trail says about this transition, when it says more than the kind: "resolved by
   * hand: restarted it", "silenced by #3: deploy (alice)", "fired again: bob (cli) resolved the last
   * one by hand at …", an escalation's step and targets.
   */
  why?: string;
  /** The remediation run an `approval` (or `remediation`) notification is about. */
  runId?: string;
  /** Why this channel carries it, when it stands in for another ("Slack failing since … — sent by email"). */
  note?: string;
}

/** A storm's digest: one message listing incidents that opened together. */
export interface DigestContext {
  digestId: string;
  /** Every incident of the digest, as it is now. */
  incidents: readonly Incident[];
  /** What this delivery adds: incidents newly listed, listed ones that resolved or escalated. */
  added: readonly Incident[];
  resolved: readonly Incident[];
  /** Listed incidents nobody acknowledged within their ack SLA: told together, not one page each. */
  escalated: readonly Incident[];
  /** The digest's message so far, which channels that edit in place update. */
  thread: ThreadRef | undefined;
  note?: string;
}

/** One delivery channel behind a small interface; the notify worker owns retries and bookkeeping. */
export interface NotifyChannel {
  readonly name: ChannelName;
  /**
   * Delivers one notification. Throws RetryableError for failures a later attempt may fix
   * (timeouts, 5xx, rate limits with retryAfterMs), ChannelFailedError when the channel itself cannot
   * deliver (credentials, destination), VigilError when this message was refused.
   * Returns the reference later notifications of this incident thread onto.
   */
  send(ctx: NotificationContext): Promise<ThreadRef>;
  /**
   * On a retry: finds the message an earlier attempt delivered although it reported failure (a
   * timeout after the service took it), so the retry records it instead of posting it again.
   * Channels that cannot look (SMTP) leave it out.
   */
  findDelivered?(ctx: NotificationContext): Promise<ThreadRef | undefined>;
  /**
   * Re-renders the thread's first message from the incident as it is now. Called when the incident
   * moved on while a notification was being sent, so an older update landing last cannot leave a
   * stale state on screen. Channels whose messages are not edited in place leave it out.
   */
  refresh?(ctx: NotificationContext): Promise<void>;
  /**
   * Posts or updates the digest (Slack: one message edited in place; email: one mail per call about
   * what it adds). Errors as for `send`.
   */
  sendDigest(ctx: DigestContext): Promise<ThreadRef>;
  /** Verifies credentials and reachability (Slack auth.test, SMTP verify) for `vigil doctor`. */
  check(): Promise<string>;
  close(): Promise<void>;
}
