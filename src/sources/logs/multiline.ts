import type { MultilineMode } from './schema.js';

const TRACEBACK = 'Traceback (most recent call last):';
const CHAINED = ['During handling of the above exception', 'The above exception was the direct cause'];

/**
 * Decides, line by line, whether a line continues the record before it. It looks at a line's first
 * characters only, so it costs next to nothing on lines that start records (most of a log).
 */
export interface Joiner {
  /** False: every line is a record of its own. */
  readonly joins: boolean;
  /** `open`: a record is pending that the line could join. */
  continues(text: string, start: number, end: number, open: boolean): boolean;
}

const SPACE = 32;
const TAB = 9;

const indentedOrBlank = (text: string, start: number, end: number) => {
  if (start === end) return true;
  const c = text.charCodeAt(start);
  return c === SPACE || c === TAB;
};

/** `indented`: lines starting with a space or a tab (and blank lines) join the record above. */
const indented: Joiner = {
  joins: true,
  continues: (text, start, end, open) => open && indentedOrBlank(text, start, end),
};

/**
 * `python-traceback`: what Python's logging writes for `logger.exception(…)` — the message line,
 * then `Traceback (most recent call last):`, indented frames, and the exception line after the
 * frames (`ValueError: …`); chained exceptions ("During handling of the above exception…") too.
 * Indented lines join as well.
 */
class PythonTraceback implements Joiner {
  readonly joins = true;
  /** Inside a traceback's frames: the next unindented line is its exception line. */
  private inFrames = false;
  /** The pending record holds a traceback, so a chained exception's lines join it. */
  private hasTraceback = false;

  continues(text: string, start: number, end: number, open: boolean): boolean {
    if (text.startsWith(TRACEBACK, start)) {
      this.inFrames = true;
      const joins = open;
      this.hasTraceback = true;
      return joins;
    }
    if (!open) return this.starts();
    if (indentedOrBlank(text, start, end)) return true;
    if (this.inFrames) {
      this.inFrames = false;
      return true;
    }
    if (this.hasTraceback && CHAINED.some((p) => text.startsWith(p, start))) return true;
    return this.starts();
  }

  /** The line starts a record of its own. */
  private starts(): false {
    this.inFrames = false;
    this.hasTraceback = false;
    return false;
  }
}

const none: Joiner = { joins: false, continues: () => false };

export function createJoiner(mode: MultilineMode): Joiner {
  if (mode === 'python-traceback') return new PythonTraceback();
  if (mode === 'indented') return indented;
  return none;
}
