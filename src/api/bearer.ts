import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Whether `presented` is `expected`, in time that does not depend on where they differ: both are
 * hashed first, so their lengths (which timingSafeEqual would refuse to compare) leak nothing either.
 */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * An onRequest hook: 401 `{error}` unless the request carries the token. `refused` counts and logs
 * each refusal (never the token presented).
 */
export function requireBearer(
  token: string,
  refused: (req: FastifyRequest, reason: 'missing-token' | 'wrong-token') => void,
) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const presented = bearerToken(req.headers.authorization);
    if (presented !== undefined && sameSecret(presented, token)) return;
    const reason = presented === undefined ? 'missing-token' : 'wrong-token';
    refused(req, reason);
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="vigil"')
      .send({ error: presented === undefined ? 'a bearer token is required' : 'the bearer token is wrong' });
  };
}
