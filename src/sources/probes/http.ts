import { readEnvPort } from '../../config/env-file.js';
import { errorMessage } from '../../errors.js';
import type { HttpProbeSpec } from './schema.js';
import type { ProbeOutcome } from './fields.js';

/** One HTTP check: healthy when the status is expected, the JSON fields match, and it answered in time. */
export async function runHttpProbe(spec: HttpProbeSpec): Promise<ProbeOutcome> {
  const started = performance.now();
  // One deadline for the whole exchange: a target that sends headers and then trickles (or never
  // ends) its body costs at most the timeout, like one that never answers.
  const signal = AbortSignal.timeout(spec.timeout);
  const target = await targetOf(spec);
  try {
    const res = await fetch(target.url, {
      method: spec.method,
      signal,
      redirect: spec.followRedirects ? 'follow' : 'manual',
    });
    const body = await readBody(res, spec.maxBodyBytes);
    const latencyMs = performance.now() - started;
    const problems: string[] = [];
    if (!spec.expectStatus.includes(res.status)) problems.push(`status ${res.status}`);
    if (spec.expectJson) {
      if (body.truncated) problems.push(`body larger than ${spec.maxBodyBytes} bytes, JSON not checked`);
      else problems.push(...checkJson(body.text, spec.expectJson));
    }
    return {
      ok: problems.length === 0,
      value: latencyMs,
      data: {
        status: res.status,
        latencyMs,
        ...target.data,
        ...(problems.length ? { error: problems.join('; ') } : {}),
      },
    };
  } catch (err) {
    const latencyMs = performance.now() - started;
    const reason =
      (err as Error).name === 'TimeoutError' ? `timed out after ${spec.timeout} ms` : describeFetchError(err);
    return { ok: false, value: latencyMs, data: { status: null, latencyMs, ...target.data, error: reason } };
  }
}

/** The URL to ask this run: with `portFromEnv`, its port is the one the file holds now. */
async function targetOf(spec: HttpProbeSpec): Promise<{ url: string; data: Record<string, unknown> }> {
  if (!spec.portFromEnv) return { url: spec.url, data: {} };
  const found = await readEnvPort(spec.portFromEnv.file, spec.portFromEnv.key);
  const url = new URL(spec.url);
  if ('problem' in found) return { url: spec.url, data: { port: portOf(url), portFromEnv: found.problem } };
  url.port = String(found.port);
  return { url: url.toString(), data: { port: found.port } };
}

const portOf = (url: URL) => Number(url.port || (url.protocol === 'https:' ? 443 : 80));

/** Reads at most `max` bytes, then stops: the rest is never downloaded or held. */
async function readBody(res: Response, max: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return { text: '', truncated: true };
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
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
