import { open, type FileHandle } from 'node:fs/promises';
import { createJoiner } from './multiline.js';
import { fingerprint, type FileIdentity } from './identity.js';
import { emptyTally, Scanner, type LogRecord, type Tally } from './scanner.js';
import type { Hits } from './hits.js';
import type { MultilineMode } from './schema.js';

/** Reads at most this much per read call: large enough that one regex scan covers many lines. */
const CHUNK_BYTES = 1024 * 1024;

export interface TailOptions {
  maxLineBytes: number;
  multiline: MultilineMode;
  hits: () => Hits;
}

/** Called with each chunk's records; resolves once their events are durable. */
export type RecordSink = (tail: FileTail, records: LogRecord[], tally: Tally) => Promise<void>;

/**
 * One followed file, through an open handle: a file renamed or deleted is still read to its end.
 * `identity` names the content for ids and saved positions; it is the file's own, except when the
 * handle reads a copy of another file's content (copytruncate's rotated copy).
 */
export class FileTail {
  /** Next byte to read. */
  private offset: number;
  private skip: boolean;
  private scanner: Scanner;
  private readonly buf: Buffer;
  /** When data last came (ms), for multi-line records and rotated-away files going idle. */
  lastGrowth = Date.now();
  /** Set once the path no longer leads to this file: it is read to its end, then closed. */
  orphanedSince: number | undefined;
  /** Size and mtime at the last look, to notice a rewrite between polls. */
  lastChange = '';
  /** The content this handle reads is another file's (a rotated copy): ids and positions are that file's. */
  borrowed: FileIdentity | undefined;

  private constructor(
    private readonly handle: FileHandle,
    public path: string,
    readonly dev: string,
    readonly ino: string,
    public fp: string | undefined,
    start: { offset: number; skip: boolean },
    private readonly opts: TailOptions,
  ) {
    this.offset = start.offset;
    this.skip = start.skip;
    this.scanner = this.newScanner();
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, opts.maxLineBytes + 1));
  }

  /** Opens `path` (throws the system error: ENOENT, EACCES, …). */
  static async open(
    path: string,
    opts: TailOptions,
    start: (
      id: { dev: string; ino: string; fp: string | undefined; size: bigint },
      head: FileHandle,
    ) => Promise<{ offset: number; skip: boolean }>,
  ): Promise<FileTail> {
    const handle = await open(path, 'r');
    try {
      const st = await handle.stat({ bigint: true });
      const id = { dev: String(st.dev), ino: String(st.ino), fp: await fingerprint(handle), size: st.size };
      const tail = new FileTail(handle, path, id.dev, id.ino, id.fp, await start(id, handle), opts);
      tail.lastChange = `${st.size}:${st.mtimeNs}`;
      return tail;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  get key(): string {
    return `${this.dev}:${this.ino}`;
  }

  /** The identity events and positions use; undefined until the first line is complete. */
  identity(): FileIdentity | undefined {
    if (this.borrowed) return this.borrowed;
    return this.fp === undefined ? undefined : { dev: this.dev, ino: this.ino, fp: this.fp };
  }

  /** Where a restart must begin: the start of a record still open, else the next unread byte. */
  committed(): { offset: number; skip: boolean } {
    const pending = this.scanner.pendingOffset;
    return pending === undefined
      ? { offset: this.offset, skip: this.skip }
      : { offset: pending, skip: false };
  }

  /** The read position, to notice a truncation. */
  get readOffset(): number {
    return this.offset;
  }

  /** Content replaced under the same inode (copytruncate): start over from its first byte. */
  async restart(): Promise<void> {
    this.fp = await fingerprint(this.handle);
    this.offset = 0;
    this.skip = false;
    this.scanner = this.newScanner();
  }

  fingerprintNow(): Promise<string | undefined> {
    return fingerprint(this.handle);
  }

  /** Reads every complete line there is now, chunk by chunk, handing each chunk's records to `sink`. */
  async read(sink: RecordSink): Promise<void> {
    for (;;) {
      const { bytesRead: n } = await this.handle.read(this.buf, 0, this.buf.length, this.offset);
      if (n === 0) return;
      if (this.skip) {
        const nl = this.buf.subarray(0, n).indexOf(10);
        this.offset += nl < 0 ? n : nl + 1;
        this.skip = nl < 0;
        this.lastGrowth = Date.now();
        continue;
      }
      const last = this.buf.lastIndexOf(10, n - 1);
      if (last < 0 && n < this.opts.maxLineBytes) return; // an incomplete last line waits
      this.fp ??= await fingerprint(this.handle);
      const rollback = this.committed();
      const records: LogRecord[] = [];
      const tally = emptyTally();
      if (last < 0) {
        this.scanner.scanLongLine(this.buf.subarray(0, this.opts.maxLineBytes), this.offset, tally, records);
        this.offset += n;
        this.skip = true;
      } else {
        this.scanner.scan(this.buf.subarray(0, last + 1), this.offset, tally, records);
        this.offset += last + 1;
      }
      this.lastGrowth = Date.now();
      try {
        await sink(this, records, tally);
      } catch (err) {
        // Nothing of this chunk counts as read: the next read starts where the saved position is.
        this.rewind(rollback);
        throw err;
      }
    }
  }

  /** Ends a multi-line record that nothing has joined for `waitMs`. */
  async flushIdle(waitMs: number, now: number, sink: RecordSink): Promise<void> {
    const pending = this.scanner.pendingOffset;
    if (pending === undefined || now - this.lastGrowth < waitMs) return;
    const records: LogRecord[] = [];
    const tally = emptyTally();
    this.scanner.flush(tally, records);
    try {
      await sink(this, records, tally);
    } catch (err) {
      this.rewind({ offset: pending, skip: false });
      throw err;
    }
  }

  private rewind(to: { offset: number; skip: boolean }): void {
    this.offset = to.offset;
    this.skip = to.skip;
    this.scanner = this.newScanner();
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private newScanner(): Scanner {
    return new Scanner(this.opts.maxLineBytes, createJoiner(this.opts.multiline), this.opts.hits());
  }
}
