import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';

/** What a token says once its signature and expiry are checked. */
export type Checked =
  | { ok: true; incidentId: string; jti: string; expiresAt: Date }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

/** What using a valid-looking token came to. */
export type Use = 'used' | 'already-used' | 'expired' | 'unknown';

export interface AckLinksOptions {
  pool: pg.Pool;
  /** http.linkSecret: without it (or without publicUrl) emails carry no acknowledge link. */
  secret: string | undefined;
  publicUrl: string | undefined;
  /** oncall.ackLinkTtl */
  ttlMs: number;
}

export interface Claims {
  i: string;
  j: string;
  e: number;
}

const b64 = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function isClaims(v: unknown): v is Claims {
  const c = v as Partial<Claims> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.i === 'string' &&
    /^\d{1,18}$/.test(c.i) &&
    typeof c.j === 'string' &&
    c.j.length > 0 &&
    typeof c.e === 'number' &&
    Number.isFinite(c.e)
  );
}

/**
 * Email acknowledge links: `<publicUrl>/ack/<claims>.<hmac>`, where the claims (incident, a random
 * id, expiry in epoch seconds) are signed with http.linkSecret. The signature proves the link is
 * ours and unaltered; the `vigil_ack_tokens` row, marked on use, makes it work once.
 */
export class AckLinks {
  /** Whether links are issued (and /ack is mounted): both a secret and a public URL are set. */
  readonly enabled: boolean;

  constructor(private readonly o: AckLinksOptions) {
    this.enabled = Boolean(o.secret && o.publicUrl);
  }

  /** A link for one incident, its token recorded; undefined when links are not configured. */
  async create(incidentId: string, ttlMs = this.o.ttlMs): Promise<string | undefined> {
    const { secret, publicUrl } = this.o;
    if (!secret || !publicUrl) return undefined;
    const claims: Claims = {
      i: incidentId,
      j: b64(randomBytes(16)),
      e: Math.floor((Date.now() + ttlMs) / 1000),
    };
    await this.o.pool.query(
      `INSERT INTO vigil_ack_tokens (jti, incident_id, expires_at) VALUES ($1, $2, to_timestamp($3))`,
      [claims.j, incidentId, claims.e],
    );
    return `${publicUrl.replace(/\/+$/, '')}/ack/${sign(claims, secret)}`;
  }

  /** Checks signature and expiry; changes nothing (a GET may look, never use). */
  check(token: string): Checked {
    const secret = this.o.secret;
    const [body, mac, extra] = token.split('.');
    if (!secret || !body || !mac || extra !== undefined) return { ok: false, reason: 'malformed' };
    const expected = createHmac('sha256', secret).update(body).digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, reason: 'signature' };
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (!isClaims(claims)) return { ok: false, reason: 'malformed' };
    if (claims.e * 1000 <= Date.now()) return { ok: false, reason: 'expired' };
    return { ok: true, incidentId: claims.i, jti: claims.j, expiresAt: new Date(claims.e * 1000) };
  }

  /**
   * Marks the token used, once: of two concurrent uses exactly one gets 'used'. The row's own expiry
   * is checked too, so a token is refused however its claims were obtained.
   */
  async use(t: { jti: string; incidentId: string }, by: string): Promise<Use> {
    const { rows } = await this.o.pool.query<{ state: Use }>(
      `WITH used AS (
         UPDATE vigil_ack_tokens SET used_at = now(), used_by = $3
         WHERE jti = $1 AND incident_id = $2 AND used_at IS NULL AND expires_at > now()
         RETURNING jti)
       SELECT CASE WHEN EXISTS (SELECT 1 FROM used) THEN 'used'
         WHEN t.jti IS NULL THEN 'unknown'
         WHEN t.used_at IS NULL AND t.expires_at <= now() THEN 'expired'
         -- Used before, or by a concurrent request this statement waited for (its snapshot is older).
         ELSE 'already-used' END AS state
       FROM (SELECT 1) one LEFT JOIN vigil_ack_tokens t ON t.jti = $1 AND t.incident_id = $2`,
      [t.jti, t.incidentId, by],
    );
    return rows[0]?.state ?? 'unknown';
  }

  /** Gives a use back when the acknowledgement itself failed, so the person can press again. */
  async release(jti: string): Promise<void> {
    await this.o.pool.query('UPDATE vigil_ack_tokens SET used_at = NULL, used_by = NULL WHERE jti = $1', [
      jti,
    ]);
  }
}

/** `<claims>.<hmac>` with the given secret: also how a test forges a token it needs (e.g. expired). */
export function sign(claims: Claims, secret: string): string {
  const body = b64(JSON.stringify(claims));
  return `${body}.${b64(createHmac('sha256', secret).update(body).digest())}`;
}
