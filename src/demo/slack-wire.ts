import type { IncomingMessage } from 'node:http';

const jsonFields = ['blocks', 'attachments', 'metadata'];
const maxBodyBytes = 1_000_000;

/**
 * Decodes a Web API request the way Slack does: query string plus a JSON or form body, with the
 * JSON-encoded fields (blocks, attachments, metadata) parsed back into values.
 */
export async function readArgs(
  req: IncomingMessage,
  query: URLSearchParams,
): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new Error('request body too large');
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks).toString('utf8');
  const args: Record<string, unknown> = Object.fromEntries(query);
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    if (body.trim()) Object.assign(args, JSON.parse(body) as Record<string, unknown>);
  } else {
    Object.assign(args, Object.fromEntries(new URLSearchParams(body)));
  }
  // @slack/web-api flattens objects and arrays to JSON strings inside the form body.
  for (const field of jsonFields) {
    const value = args[field];
    if (typeof value === 'string' && /^\s*[[{]/.test(value)) args[field] = JSON.parse(value) as unknown;
  }
  return args;
}
