import { ErrorCode } from '@slack/web-api';
import { ChannelFailedError, RetryableError, VigilError, errorMessage } from '../errors.js';

/** Platform errors (`ok: false`) that describe Slack's state rather than our request. */
const retryablePlatformErrors = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/** Platform errors that say the token or the destination is wrong: no message can get through. */
const channelErrors = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'team_access_not_granted',
  'access_denied',
  'ekm_access_denied',
  'org_login_required',
]);

/** Platform errors about this message's content: no retry can fix it, another channel may carry it. */
const messageErrors = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'too_many_attachments',
  'invalid_metadata_format',
  'invalid_metadata_schema',
  'metadata_too_large',
  'invalid_arguments',
  'no_text',
  'cant_update_message',
  'message_not_found',
  'edit_window_closed',
]);

/**
 * Maps whatever the Slack client threw onto Vigil's retry contract. The client is configured not to
 * retry or wait by itself, so every failure surfaces here and the notify worker's backoff decides.
 */
export function mapSlackError(err: unknown, method: string): VigilError {
  if (err instanceof VigilError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const what = `Slack ${method}`;
  if (code === ErrorCode.RateLimitedError) {
    const retryAfter = (err as { retryAfter?: unknown }).retryAfter;
    const retryAfterMs = typeof retryAfter === 'number' ? retryAfter * 1000 : undefined;
    return new RetryableError('E_SLACK_RATE_LIMITED', `${what} rate limited (retry after ${retryAfter}s)`, {
      cause: err,
      retryAfterMs,
    });
  }
  if (code === ErrorCode.HTTPError) {
    const status = (err as { statusCode?: number }).statusCode ?? 0;
    if (status >= 500 || status === 408) {
      return new RetryableError('E_SLACK_UNAVAILABLE', `${what} failed: HTTP ${status}`, { cause: err });
    }
    if (status === 401 || status === 403 || status === 404) {
      return new ChannelFailedError('E_SLACK_REJECTED', `${what} failed: HTTP ${status}`, { cause: err });
    }
    return new VigilError('E_SLACK_REJECTED', `${what} failed: HTTP ${status}`, { cause: err });
  }
  if (code === ErrorCode.RequestError) {
    // Timeouts (AbortSignal), refused/reset connections and DNS failures all land here.
    const original = (err as { original?: { name?: string; cause?: { code?: string } } }).original;
    const detail = original?.cause?.code ?? original?.name ?? errorMessage(err);
    return new RetryableError('E_SLACK_UNAVAILABLE', `${what} unreachable (${detail})`, { cause: err });
  }
  if (code === ErrorCode.PlatformError) {
    const data = (err as { data?: { error?: string; response_metadata?: { retryAfter?: number } } }).data;
    const slackError = data?.error ?? 'unknown_error';
    if (slackError === 'ratelimited') {
      const sec = data?.response_metadata?.retryAfter;
      return new RetryableError('E_SLACK_RATE_LIMITED', `${what} rate limited (${slackError})`, {
        cause: err,
        retryAfterMs: sec === undefined ? undefined : sec * 1000,
      });
    }
    if (retryablePlatformErrors.has(slackError)) {
      return new RetryableError('E_SLACK_UNAVAILABLE', `${what} failed: ${slackError}`, { cause: err });
    }
    if (channelErrors.has(slackError)) {
      return new ChannelFailedError('E_SLACK_REJECTED', `${what} rejected: ${slackError}`, { cause: err });
    }
    if (messageErrors.has(slackError)) {
      return new VigilError('E_SLACK_REJECTED', `${what} rejected: ${slackError}`, { cause: err });
    }
    // Unknown to us: assume it may pass (and keep the row owed) rather than drop the alert.
    return new RetryableError('E_SLACK_REJECTED', `${what} failed: ${slackError}`, { cause: err });
  }
  // A 429 without a usable Retry-After header comes out of the client as a plain Error.
  if (/retry header|rate limit/i.test(errorMessage(err))) {
    return new RetryableError('E_SLACK_RATE_LIMITED', `${what} rate limited: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  return new RetryableError('E_SLACK_FAILED', `${what} failed: ${errorMessage(err)}`, { cause: err });
}
