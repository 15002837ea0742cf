/**
 * IPC messages between the bench (parent) and bench/receivers.ts (child: Slack emulator + SMTP sink).
 * Records carry only what the bench matches on, so the parent parses a few hundred bytes per call.
 */

/** One call the Slack emulator recorded; `hr` is the child's `hrNow()` stamp of it. */
export interface SlackRecord {
  method: string;
  status: number;
  hr: number;
  /** Values of every `service=…` label in the message blocks: how the bench tells alerts apart. */
  services: string[];
}

/** One mail the SMTP sink accepted (parsed by mailparser in the child). */
export interface MailRecord {
  subject: string;
  hr: number;
  /** Values of every `service=…` label in the text body (the subject names the incident, not the series). */
  services: string[];
}

export type ToChild = { type: 'ping'; id: number } | { type: 'reset'; id: number } | { type: 'close' };

export type FromChild =
  | { type: 'ready'; slackUrl: string; smtpUrl: string | undefined }
  | { type: 'pong'; id: number; hr: number }
  | { type: 'reset-done'; id: number }
  | ({ type: 'slack' } & SlackRecord)
  | ({ type: 'mail' } & MailRecord);

/** `service=<value>` as src/notify/format.ts labelsText renders it; bench service names are [\w.:-]. */
export function servicesIn(text: string): string[] {
  return [...text.matchAll(/service=([\w.:-]+)/g)].map((m) => m[1] as string);
}
