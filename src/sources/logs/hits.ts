/**
 * Finds where the signals' patterns match in a whole chunk of text, one regex scan per pattern,
 * instead of running every pattern on every line: lines without a match cost a number comparison.
 */
export interface Hits {
  reset(text: string): void;
  /** Whether some pattern has a match starting in [start, end); `start` must not go backwards. */
  within(start: number, end: number): boolean;
}

/** Every non-empty line is a candidate: some signal reads a parsed field, so each record is parsed. */
export const everyLine: Hits = { reset: () => undefined, within: (start, end) => end > start };

export class PatternHits implements Hits {
  private readonly patterns: RegExp[];
  /** Per pattern, where its next match starts (-1: not searched yet, Infinity: none left). */
  private readonly next: number[];
  private text = '';

  constructor(patterns: readonly RegExp[]) {
    this.patterns = patterns.map((p) => new RegExp(p.source, 'gm'));
    this.next = patterns.map(() => -1);
  }

  reset(text: string): void {
    this.text = text;
    this.next.fill(-1);
  }

  within(start: number, end: number): boolean {
    let hit = false;
    for (let i = 0; i < this.patterns.length; i++) {
      let at = this.next[i] as number;
      if (at < start) {
        const re = this.patterns[i] as RegExp;
        re.lastIndex = start;
        const m = re.exec(this.text);
        at = m ? m.index : Infinity;
        this.next[i] = at;
      }
      if (at < end) hit = true;
    }
    return hit;
  }
}
