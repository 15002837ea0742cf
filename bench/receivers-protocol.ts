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
  /**
   * Incident ids the message's metadata names: `event_payload.incident` (one incident's message) or
   * `event_payload.added` (a digest: the ids it newly lists, comma-joined).
   */
  incidents: string[];
  /** The message is a digest (its metadata says so or lists incidents). */
  digest: boolean;
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

/** The incident ids in a Vigil message's metadata, whichever way it names them, and if it is a digest. */
export function incidentsIn(metadata: unknown): { incidents: string[]; digest: boolean } {
  const payload = (metadata as { event_payload?: unknown } | undefined)?.event_payload;
  if (!payload || typeof payload !== 'object') return { incidents: [], digest: false };
  const { incident, added, digest } = payload as Record<string, unknown>;
  // A digest names the incidents it newly tells in `added`, ids joined with commas.
  const list = typeof added === 'string' ? added.split(',').filter(Boolean) : [];
  const ids = [incident, ...list].filter((id) => typeof id === 'string' || typeof id === 'number');
  return { incidents: ids.map(String), digest: digest !== undefined };
}

/** `service=<value>` as src/notify/format.ts labelsText renders it; bench service names are [\w.:-]. */
export function servicesIn(text: string): string[] {
  return [...text.matchAll(/service=([\w.:-]+)/g)].map((m) => m[1] as string);
}
