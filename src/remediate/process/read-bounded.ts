/**
 * The first `max` bytes of a response body; the rest is not downloaded (the stream is cancelled),
 * so a huge or endless answer costs `max` bytes of memory. Notes when something was left unread.
 */
export async function readBounded(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString('utf8');
    if (size + value.byteLength > max) {
      chunks.push(value.subarray(0, max - size));
      await reader.cancel();
      return `${Buffer.concat(chunks).toString('utf8')}\n…(more not read: the record keeps ${max} bytes)`;
    }
    size += value.byteLength;
    chunks.push(value);
  }
}
