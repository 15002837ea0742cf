import { z } from 'zod';
import { raisedSchema, type Raised } from './raised.js';

/** A NOTIFY payload: one raised event, with an optional `id` the sender chooses (see below). */
const payloadSchema = raisedSchema
  .extend({
    /** Agents listening to one channel each receive every notification: one id makes their copies one event. */
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, ".", "_" and "-" (at most 200)')
      .optional(),
  })
  .strict();

export type NotifyPayload = Raised & { id?: string | undefined };

export type Parsed =
  | { ok: true; payload: NotifyPayload }
  | { ok: false; reason: 'too-big' | 'not-json' | 'shape'; problems: string[] };

/** Reads one payload; never throws, whatever arrives. */
export function parsePayload(text: string, maxBytes: number): Parsed {
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes)
    return { ok: false, reason: 'too-big', problems: [`${bytes} bytes, more than ${maxBytes}`] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: 'not-json', problems: [(err as Error).message] };
  }
  const parsed = payloadSchema.safeParse(json);
  if (parsed.success) return { ok: true, payload: parsed.data };
  return {
    ok: false,
    reason: 'shape',
    problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`),
  };
}
