import { z } from 'zod';
import { formatDuration } from '../../config/duration.js';
import { integer } from '../../config/fields.js';
import { errorMessage } from '../../errors.js';
import type { RemediationAction } from '../action.js';
import { timeout } from '../process/command-fields.js';
import { readBounded } from '../process/read-bounded.js';

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name');
const headerValue = z.string().refine((v) => !/[\r\n\0]/.test(v), 'no CR, LF or NUL');

/** A configured webhook (an orchestrator's restart endpoint, a runbook service): fixed URL, headers, body. */
export const httpRequestSchema = z
  .object({
    action: z.literal('http-request'),
    url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    /** Fixed values from the config (`${VAR}` already interpolated there, so tokens stay out of the file). */
    headers: z.record(headerName, headerValue).default({}),
    /** Text is sent as it is; anything else as JSON. */
    body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
    timeout: timeout.default(10_000),
    expectStatus: z
      .array(integer(100, 599))
      .min(1)
      .default(Array.from({ length: 100 }, (_, i) => 200 + i)),
    /** Bytes of the response body read and kept (the first ones); the rest is not downloaded. */
    maxResponse: integer(0, 64 * 1024).default(8 * 1024),
    /** A redirect is an answer (and fails unless expected) unless this is on. */
    followRedirects: z.boolean().default(false),
  })
  .strict()
  .refine((s) => s.method !== 'GET' || s.body === undefined, {
    message: 'a GET has no body',
    path: ['body'],
  });

export type HttpRequestSpec = z.output<typeof httpRequestSchema>;

/**
 * Where a request goes, for messages: the origin only. Webhook URLs often carry their secret in
 * the path or query (Slack's do), and these lines are posted to Slack.
 */
function where(url: string): string {
  const u = new URL(url);
  return u.pathname === '/' && !u.search ? u.origin : `${u.origin}/…`;
}

export const httpRequest: RemediationAction<HttpRequestSpec> = {
  name: 'http-request',
  schema: httpRequestSchema,
  describe: (spec) => `${spec.method} ${where(spec.url)} (timeout ${formatDuration(spec.timeout)})`,
  async run(spec, ctx) {
    const started = performance.now();
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(spec.timeout)]);
    const json = spec.body !== undefined && typeof spec.body !== 'string';
    const headers = new Headers(spec.headers);
    if (json && !headers.has('content-type')) headers.set('content-type', 'application/json');
    const body =
      typeof spec.body === 'string' || spec.body === undefined ? spec.body : JSON.stringify(spec.body);
    try {
      const res = await fetch(spec.url, {
        method: spec.method,
        headers,
        body,
        redirect: spec.followRedirects ? 'follow' : 'manual',
        signal,
      });
      const answer = await readBounded(res, spec.maxResponse);
      const ms = Math.round(performance.now() - started);
      const ok = spec.expectStatus.includes(res.status);
      await ctx.step(
        'request',
        ok ? 'ok' : 'failed',
        `status ${res.status} in ${ms} ms`,
        answer || undefined,
      );
      const summary = `${spec.method} ${where(spec.url)}: status ${res.status}`;
      return {
        outcome: ok ? 'done' : 'failed',
        summary: ok ? summary : `${summary}, expected ${expected(spec)}`,
      };
    } catch (err) {
      const why = ctx.signal.aborted
        ? 'aborted'
        : signal.aborted
          ? `timed out after ${formatDuration(spec.timeout)}`
          : fetchError(err);
      await ctx.step('request', 'failed', why);
      return { outcome: 'failed', summary: `${spec.method} ${where(spec.url)} failed: ${why}` };
    }
  },
};

function expected(spec: HttpRequestSpec): string {
  const s = spec.expectStatus;
  const range = s.length > 1 && s.every((v, i) => i === 0 || v === (s[i - 1] as number) + 1);
  return range ? `${s[0]}–${s[s.length - 1]}` : s.join(', ');
}

function fetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? errorMessage(err);
}
