import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack refuses requests older than this, and so do we: a captured request cannot be replayed later. */
export const slackSignatureWindowMs = 5 * 60_000;

export type SignatureProblem = 'missing headers' | 'stale timestamp' | 'bad signature';

/** `v0=<hex HMAC-SHA256(secret, "v0:<timestamp>:<raw body>")>`, as Slack signs a request. */
export function signSlackRequest(
  signingSecret: string,
  timestampSec: number | string,
  rawBody: string,
): string {
  const mac = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest('hex');
  return `v0=${mac}`;
}

/** The headers Slack sends with a signed request, for the emulator and tests. */
export function slackSignatureHeaders(
  signingSecret: string,
  rawBody: string,
  timestampSec = Math.floor(Date.now() / 1000),
): Record<string, string> {
  return {
    'x-slack-request-timestamp': String(timestampSec),
    'x-slack-signature': signSlackRequest(signingSecret, timestampSec, rawBody),
  };
}

/**
 * Checks a request's v0 signature and that it was made within 5 minutes of `nowMs` (either way: a
 * clock ahead of ours is as suspect as one behind). Returns the problem, or undefined when it is good.
 */
export function verifySlackSignature(req: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string;
  nowMs?: number;
}): SignatureProblem | undefined {
  const { timestamp, signature } = req;
  if (!timestamp || !signature) return 'missing headers';
  if (!/^\d{1,12}$/.test(timestamp)) return 'stale timestamp';
  const ageMs = Math.abs((req.nowMs ?? Date.now()) - Number(timestamp) * 1000);
  if (ageMs > slackSignatureWindowMs) return 'stale timestamp';
  const expected = Buffer.from(signSlackRequest(req.signingSecret, timestamp, req.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual needs equal lengths; the length of a well-formed signature is no secret.
  if (given.length !== expected.length) return 'bad signature';
  return timingSafeEqual(given, expected) ? undefined : 'bad signature';
}
