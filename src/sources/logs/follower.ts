import { stat, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../../log.js';
import { expandPaths } from './glob.js';
import type { FileIdentity } from './identity.js';
import { findRotated } from './rotation.js';
import type { Position } from './state-file.js';
import { FileTail, type RecordSink, type TailOptions } from './tail.js';

export interface FollowerOptions extends TailOptions {
  patterns: readonly string[];
  startAt: 'end' | 'beginning';
  multilineWait: number;
  /** A rotated-away file is read until it has been idle this long, then closed. */
  orphanGrace: number;
  log: Logger;
  /** A file or folder that cannot be read (reported once per reason, not per poll); `undefined`: no longer failing. */
  problem(path: string, err: NodeJS.ErrnoException | undefined): void;
}

/**
 * Keeps one tail per file the patterns lead to, like `tail -F`: a path that now leads to another
 * file (rename-and-create, delete-and-create) hands the old handle over as an orphan that is
 * drained first; a file truncated or rewritten under the same inode (copytruncate) restarts from 0
 * after what it held past the read position was read from its rotated copy.
 */
export class Follower {
  private readonly byPath = new Map<string, FileTail>();
  /** Every tail reading a file of its own, orphans included, by device:inode. */
  private readonly byKey = new Map<string, FileTail>();
  /** Tails draining content whose path has moved on: read before the others, closed once idle. */
  private readonly orphans = new Set<FileTail>();
  /** Saved positions not yet matched to a file. */
  private readonly saved: Position[];
  private readonly unreadable = new Set<string>();
  private firstLook = true;

  constructor(
    private readonly opts: FollowerOptions,
    saved: readonly Position[],
    /** No saved state at all: the very first start (`startAt` applies). */
    private readonly fresh: boolean,
  ) {
    this.saved = [...saved];
  }

  get files(): number {
    return this.byKey.size;
  }

  /** Paths that exist and could not be opened, while no file can be read: nothing can be read at all. */
  get blind(): string[] {
    return this.byPath.size === 0 ? [...this.unreadable] : [];
  }

  /** The paths a file was found at by the last look, readable or not. */
  get present(): string[] {
    return [...this.byPath.keys(), ...this.unreadable];
  }

  /** Finds the files the patterns lead to now and what changed since the last look. */
  async discover(): Promise<void> {
    const paths = await expandPaths(this.opts.patterns, (folder, err) => {
      if (err.code !== 'ENOENT') this.opts.problem(folder, err);
    });
    const seen = new Set<string>();
    // Failing paths are found again on each look: one that now opens, or is gone, is no longer a problem.
    const failing = new Set(this.unreadable);
    this.unreadable.clear();
    for (const path of paths) {
      let st;
      try {
        st = await stat(path, { bigint: true });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code !== 'ENOENT') this.fail(path, e);
        continue;
      }
      if (!st.isFile()) continue;
      seen.add(path);
      const key = `${st.dev}:${st.ino}`;
      const current = this.byPath.get(path);
      if (current?.key === key) {
        await this.checkRewrite(current, st.size, `${st.size}:${st.mtimeNs}`);
        continue;
      }
      if (current) this.orphan(current);
      const known = this.byKey.get(key);
      if (known && !known.borrowed) {
        // Renamed to a path the patterns match: the same tail goes on, under its new name.
        known.path = path;
        known.orphanedSince = undefined;
        this.orphans.delete(known);
        this.byPath.set(path, known);
        continue;
      }
      await this.follow(path);
    }
    for (const [path, tail] of this.byPath) if (!seen.has(path)) this.orphan(tail);
    for (const path of failing) if (!this.unreadable.has(path)) this.opts.problem(path, undefined);
    if (this.firstLook) await this.reconcile();
    this.firstLook = false;
  }

  /** Reads what every file has now: orphans first, so rotated content comes before the new file's. */
  async read(sink: RecordSink): Promise<void> {
    const now = Date.now();
    for (const tail of [...this.orphans, ...this.byPath.values()]) {
      try {
        await tail.read(sink);
        await tail.flushIdle(this.opts.multilineWait, now, sink);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // A read error (EIO, a vanished network share) is this file's; anything else is the sink's.
        if (typeof e.code !== 'string' || !e.syscall) throw err;
        this.opts.problem(tail.path, e);
      }
    }
    for (const tail of this.orphans) {
      const idle = now - Math.max(tail.lastGrowth, tail.orphanedSince ?? now);
      if (idle < this.opts.orphanGrace) continue;
      await tail.flushIdle(0, now, sink);
      this.orphans.delete(tail);
      if (this.byKey.get(tail.key) === tail) this.byKey.delete(tail.key);
      await tail.close();
    }
  }

  /** What to save: where each content's reading stands. */
  positions(): Position[] {
    const out: Position[] = [...this.saved];
    for (const tail of new Set([...this.byKey.values(), ...this.orphans])) {
      const id = tail.identity();
      if (id) out.push({ path: tail.path, ...id, ...tail.committed() });
    }
    return out;
  }

  async close(): Promise<void> {
    const all = new Set([...this.byKey.values(), ...this.orphans]);
    this.byKey.clear();
    this.byPath.clear();
    this.orphans.clear();
    await Promise.allSettled([...all].map((t) => t.close()));
  }

  private async follow(path: string): Promise<void> {
    let tail: FileTail;
    try {
      tail = await FileTail.open(path, this.opts, (id, handle) => this.startOf(id, handle));
    } catch (err) {
      this.fail(path, err as NodeJS.ErrnoException);
      return;
    }
    this.byPath.set(path, tail);
    this.byKey.set(tail.key, tail);
  }

  private fail(path: string, err: NodeJS.ErrnoException): void {
    this.unreadable.add(path);
    this.opts.problem(path, err);
  }

  /** Where to begin in a file just found: its saved position, or its end at the very first start, or 0. */
  private async startOf(
    id: { dev: string; ino: string; fp: string | undefined; size: bigint },
    handle: FileHandle,
  ): Promise<{ offset: number; skip: boolean }> {
    const i = this.saved.findIndex((p) => p.dev === id.dev && p.ino === id.ino && p.fp === id.fp);
    const found = i >= 0 ? this.saved.splice(i, 1)[0] : undefined;
    if (found) return { offset: found.offset, skip: found.skip };
    if (!(this.firstLook && this.fresh && this.opts.startAt === 'end') || id.size === 0n)
      return { offset: 0, skip: false };
    const size = Number(id.size);
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    // Mid-line (a write under way): the rest of that line is skipped, not read as a line of its own.
    return { offset: size, skip: last[0] !== 10 };
  }

  /** Content replaced under the same inode: copytruncate, or a file truncated and written again. */
  private async checkRewrite(tail: FileTail, size: bigint, change: string): Promise<void> {
    if (tail.borrowed) return;
    let replaced = size < BigInt(tail.readOffset);
    // Size and mtime both: a file truncated and written again can reach the size it had.
    if (!replaced && change !== tail.lastChange && tail.fp !== undefined)
      replaced = (await tail.fingerprintNow()) !== tail.fp;
    tail.lastChange = change;
    if (!replaced) return;
    const was = tail.identity();
    const from = tail.committed();
    if (was && from.offset > 0) await this.drainRotated(tail.path, was, from, 'truncated');
    await tail.restart();
  }

  /** Saved positions whose content is no longer at their path: read the rest from where it went. */
  private async reconcile(): Promise<void> {
    for (const pos of this.saved.splice(0)) {
      if (this.unreadable.has(pos.path)) {
        this.saved.push(pos); // claimed once the file can be opened
        continue;
      }
      await this.drainRotated(pos.path, pos, pos, 'rotated while stopped');
    }
  }

  private async drainRotated(
    path: string,
    was: FileIdentity,
    from: { offset: number; skip: boolean },
    why: string,
  ): Promise<void> {
    const { log } = this.opts;
    const rotated = await findRotated(path, was, from.offset);
    if (rotated === undefined) {
      log.warn(
        { file: path, offset: from.offset },
        `${why}: no rotated file holds what came after the last read; it is not read`,
      );
      return;
    }
    try {
      const tail = await FileTail.open(rotated.path, this.opts, () => Promise.resolve(from));
      if (tail.dev !== was.dev || tail.ino !== was.ino) tail.borrowed = { ...was };
      else this.byKey.set(tail.key, tail);
      tail.path = path;
      tail.orphanedSince = Date.now();
      this.orphans.add(tail);
      if (rotated.size > from.offset)
        log.info(
          { file: path, rotated: rotated.path, offset: from.offset },
          `${why}: reading the rest from the rotated file`,
        );
    } catch (err) {
      this.opts.problem(rotated.path, err as NodeJS.ErrnoException);
    }
  }

  private orphan(tail: FileTail): void {
    for (const [p, t] of this.byPath) if (t === tail) this.byPath.delete(p);
    tail.orphanedSince ??= Date.now();
    this.orphans.add(tail);
  }
}
