/** The last `max` bytes of a stream and a count of all of them, in memory proportional to `max`. */
export class OutputTail {
  #chunks: Buffer[] = [];
  #kept = 0;
  total = 0;
  constructor(readonly max: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.byteLength;
    this.#chunks.push(chunk);
    this.#kept += chunk.byteLength;
    if (this.#kept > 2 * this.max) this.#compact();
  }

  text(): string {
    this.#compact();
    const cut = this.total - this.#kept;
    const tail = Buffer.concat(this.#chunks).toString('utf8');
    return cut > 0 ? `…(${cut} earlier bytes cut)\n${tail}` : tail;
  }

  #compact(): void {
    const all = Buffer.concat(this.#chunks);
    const tail = all.subarray(Math.max(0, all.byteLength - this.max));
    this.#chunks = [tail];
    this.#kept = tail.byteLength;
  }
}
