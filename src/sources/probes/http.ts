import { errorMessage } from '../../errors.js';
import type { HttpProbeSpec } from './schema.js';
import type { ProbeOutcome } from './registry.js';

/** One HTTP check: healthy when the status is expected, the JSON fields match, and it answered in time. */
export async function runHttpProbe(spec: HttpProbeSpec): Promise<ProbeOutcome> {
  const started = performance.now();
  try {
    const res = await fetch(spec.url, { method: spec.method, signal: AbortSignal.timeout(spec.timeout) });
    const body = spec.method === 'HEAD' ? '' : await res.text();
    const latencyMs = performance.now() - started;
    const problems: string[] = [];
    if (!spec.expectStatus.includes(res.status)) problems.push(`status ${res.status}`);
    if (spec.expectJson) problems.push(...checkJson(body, spec.expectJson));
    return {
      ok: problems.length === 0,
      value: latencyMs,
      data: { status: res.status, latencyMs, ...(problems.length ? { error: problems.join('; ') } : {}) },
    };
  } catch (err) {
    const latencyMs = performance.now() - started;
    const reason =
      (err as Error).name === 'TimeoutError' ? `timed out after ${spec.timeout} ms` : describeFetchError(err);
    return { ok: false, value: latencyMs, data: { status: null, latencyMs, error: reason } };
  }
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? errorMessage(err);
}

function checkJson(body: string, expect: Record<string, string | number | boolean>): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return ['body is not JSON'];
  }
  if (!parsed || typeof parsed !== 'object') return ['body is not a JSON object'];
  const record = parsed as Record<string, unknown>;
  return Object.entries(expect)
    .filter(([k, v]) => record[k] !== v)
    .map(([k, v]) => `${k} is ${JSON.stringify(record[k])}, expected ${JSON.stringify(v)}`);
}
