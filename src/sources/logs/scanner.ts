import { isUtf8 } from 'node:buffer';
import type { Hits } from './hits.js';
import type { Joiner } from './multiline.js';

/** A complete record that some signal may match (its pattern hit it, or every record is parsed). */
export interface LogRecord {
  /** Byte offset of the record's first line in the file. */
  offset: number;
  /** Its lines joined by "\n", without the final newline. */
  text: string;
  lines: number;
  /** A line was longer than maxLineBytes, or the joined record was: cut, the rest skipped. */
  truncated: boolean;
  /** Bytes that are not UTF-8 were replaced with U+FFFD. */
  invalid: boolean;
}

/** Lines seen, by what became of them (records' lines are counted by whoever evaluates them). */
export interface Tally {
  skipped: number;
  truncated: number;
  invalid: number;
  /** Runs of NUL bytes (a copytruncate hole, binary garbage): each ends a line. */
  nul: number;
}

export const emptyTally = (): Tally => ({ skipped: 0, truncated: 0, invalid: 0, nul: 0 });

const REPLACEMENT = '\uFFFD';

/**
 * Turns the complete lines of a file, chunk by chunk, into records: lines joined by the multi-line
 * rule, cut at maxLineBytes. Text is only copied out for records the hits mark; the rest is counted.
 * A record still open at the end of a chunk waits for the next one (or for `flush`).
 */
export class Scanner {
  // The pending record: text from earlier chunks, plus a range of the current chunk's text.
  private open = false;
  private pOffset = -1;
  private pCarried = '';
  /** pCarried holds at least one line (the next is joined with "\n"). */
  private pStarted = false;
  /** Where the record begins in the current chunk (-1: in an earlier one). */
  private pStart = -1;
  /** Text of the current chunk not yet copied into pCarried (-1: none). */
  private pFrom = -1;
  private pTo = -1;
  private pLines = 0;
  private pHit = false;
  private pTruncated = false;
  private pInvalid = false;
  // The current chunk.
  private text = '';
  private base = 0;
  private ascii = true;
  private cursorChar = 0;
  private cursorByte = 0;
  private nextBad = -1;

  constructor(
    private readonly maxLineBytes: number,
    private readonly joiner: Joiner,
    private readonly hits: Hits,
  ) {}

  /** Where a record still open begins: a restart must read again from there. */
  get pendingOffset(): number | undefined {
    return this.open ? this.pOffset : undefined;
  }

  /** Scans `buf` (complete lines, ending in "\n") found at file offset `base`. */
  scan(buf: Buffer, base: number, tally: Tally, out: LogRecord[]): void {
    let text = buf.toString('utf8');
    const valid = isUtf8(buf);
    if (buf.indexOf(0) >= 0) {
      tally.nul += (text.match(/\0+/g) ?? []).length;
      // NUL and "\n" are both one byte and one character: offsets stay as they are.
      text = text.replaceAll('\0', '\n');
    }
    this.begin(text, base, text.length === buf.length);
    this.nextBad = valid ? Infinity : -1;
    for (let s = 0; s < text.length;) {
      const e = text.indexOf('\n', s);
      this.line(s, e, this.isLong(s, e), tally, out);
      s = e + 1;
    }
    this.endChunk();
  }

  /** A line with no newline within the read buffer: its first maxLineBytes bytes, flagged. */
  scanLongLine(head: Buffer, base: number, tally: Tally, out: LogRecord[]): void {
    const text = head.toString('utf8').replaceAll('\0', ' ');
    this.begin(text, base, text.length === head.length);
    this.nextBad = isUtf8(head) ? Infinity : -1;
    this.line(0, text.length, true, tally, out);
    this.endChunk();
  }

  /** Ends the open record: nothing joined it in time. */
  flush(tally: Tally, out: LogRecord[]): void {
    this.finish(tally, out);
  }

  private begin(text: string, base: number, ascii: boolean): void {
    this.text = text;
    this.base = base;
    this.ascii = ascii;
    this.cursorChar = 0;
    this.cursorByte = 0;
    this.hits.reset(text);
  }

  private line(s: number, e: number, long: boolean, tally: Tally, out: LogRecord[]): void {
    const bad = this.hasBad(s, e);
    if (long) tally.truncated++;
    if (bad) tally.invalid++;
    if (!this.open || !this.joiner.continues(this.text, s, e, true)) {
      if (this.open) this.finish(tally, out);
      if (s === e) {
        tally.skipped++;
        return;
      }
      // Called for its side effect: a record's first line sets the joiner's state.
      this.joiner.continues(this.text, s, e, false);
      this.open = true;
      this.pOffset = -1;
      this.pStart = s;
    }
    this.pLines++;
    this.pHit ||= this.hits.within(s, e);
    this.pInvalid ||= bad;
    if (long) {
      this.materialize();
      this.append(this.cut(s, e));
      this.pTruncated = true;
    } else if (this.pFrom >= 0) this.pTo = e;
    else {
      this.pFrom = s;
      this.pTo = e;
    }
    if (!this.joiner.joins) this.finish(tally, out);
  }

  private finish(tally: Tally, out: LogRecord[]): void {
    if (!this.open) return;
    if (this.pHit) {
      if (this.pOffset < 0) this.pOffset = this.byteAt(this.pStart);
      this.materialize();
      out.push({
        offset: this.pOffset,
        text: this.pCarried,
        lines: this.pLines,
        truncated: this.pTruncated,
        invalid: this.pInvalid,
      });
    } else tally.skipped += this.pLines;
    this.open = false;
    this.pCarried = '';
    this.pStarted = false;
    this.pFrom = -1;
    this.pLines = 0;
    this.pHit = this.pTruncated = this.pInvalid = false;
  }

  /** The open record keeps its text as a string across chunks (bounded by maxLineBytes). */
  private endChunk(): void {
    if (!this.open) return;
    if (this.pOffset < 0) this.pOffset = this.byteAt(this.pStart);
    this.materialize();
  }

  private materialize(): void {
    if (this.pFrom < 0) return;
    const piece = this.text.slice(this.pFrom, this.pTo);
    this.pFrom = -1;
    this.append(piece);
  }

  private append(piece: string): void {
    if (this.pCarried.length >= this.maxLineBytes) {
      this.pTruncated = true;
      return;
    }
    const joined = this.pStarted ? `${this.pCarried}\n${piece}` : piece;
    this.pStarted = true;
    if (joined.length > this.maxLineBytes) {
      this.pCarried = joined.slice(0, this.maxLineBytes);
      this.pTruncated = true;
    } else this.pCarried = joined;
  }

  private isLong(s: number, e: number): boolean {
    const chars = e - s;
    if (chars <= this.maxLineBytes / 3) return false;
    if (this.ascii) return chars > this.maxLineBytes;
    return Buffer.byteLength(this.text.slice(s, e)) > this.maxLineBytes;
  }

  /** The line's first maxLineBytes bytes, without a character cut in half. */
  private cut(s: number, e: number): string {
    const line = this.text.slice(s, e);
    if (this.ascii) return line.slice(0, this.maxLineBytes);
    const head = Buffer.from(line).subarray(0, this.maxLineBytes).toString('utf8');
    return head.endsWith(REPLACEMENT) ? head.slice(0, -1) : head;
  }

  private hasBad(s: number, e: number): boolean {
    if (this.nextBad < s) {
      const at = this.text.indexOf(REPLACEMENT, s);
      this.nextBad = at < 0 ? Infinity : at;
    }
    return this.nextBad < e;
  }

  /** File offset of a character of the chunk; called with positions that never go backwards. */
  private byteAt(char: number): number {
    if (this.ascii) return this.base + char;
    this.cursorByte += Buffer.byteLength(this.text.slice(this.cursorChar, char));
    this.cursorChar = char;
    return this.base + this.cursorByte;
  }
}
