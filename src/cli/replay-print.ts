import type { ReplayResult } from '../rules/replay.js';

/** "4m 10s", "1h 2m", "0s": how long something fired, as a person reads it. */
export function humanDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) parts.push(`${Math.floor(rest / size)}${unit}`);
    rest %= size;
  }
  return parts.slice(0, 2).join(' ');
}

export interface Totals {
  incidents: number;
  /** Still firing when the replay ended. */
  open: number;
  longestMs: number;
  totalMs: number;
}

export function totalsOf(r: ReplayResult): Totals {
  const spans = r.incidents.map((i) => i.forMs);
  return {
    incidents: r.incidents.length,
    open: r.incidents.filter((i) => i.open).length,
    longestMs: spans.length ? Math.max(...spans) : 0,
    totalMs: spans.reduce((a, b) => a + b, 0),
  };
}

/** The closing line: "2 incidents, longest 4m 10s firing". */
export function totalLine(t: Totals): string {
  if (t.incidents === 0) return 'no incidents';
  const open = t.open ? ` (${t.open} still firing at the end)` : '';
  return `${t.incidents} incident${t.incidents === 1 ? '' : 's'}, longest ${humanDuration(t.longestMs)} firing${open}`;
}

/** One line per fire and resolve (a quoted multi-line record shows its first line), then the total. */
export function transitionLines(r: ReplayResult): string[] {
  const lines = r.transitions.map((t) => {
    const [head, ...more] = t.summary.split('\n');
    const extra = more.length ? ` (+${more.length} line${more.length === 1 ? '' : 's'})` : '';
    return `${new Date(t.atMs).toISOString()}  ${t.type === 'fire' ? 'FIRE   ' : 'RESOLVE'}  ${t.fingerprint}  ${head ?? ''}${extra}`;
  });
  return [...lines, totalLine(totalsOf(r))];
}

export function replayJson(r: ReplayResult) {
  return {
    start: new Date(r.startMs).toISOString(),
    end: new Date(r.endMs).toISOString(),
    matched: r.matched,
    tooLate: r.tooLate,
    transitions: r.transitions.map((t) => ({ ...t, at: new Date(t.atMs).toISOString() })),
    ...totalsOf(r),
  };
}

/** `--compare`: one row per value, the incidents it gives and how long they fired in all. */
export function compareTable(rows: ReadonlyArray<{ setting: string; result: ReplayResult }>): string[] {
  const cells = rows.map(({ setting, result }) => {
    const t = totalsOf(result);
    return [setting, String(t.incidents), humanDuration(t.totalMs)];
  });
  const all = [['setting', 'incidents', 'firing in all'], ...cells];
  const widths = [0, 1, 2].map((i) => Math.max(...all.map((c) => (c[i] ?? '').length)));
  return all.map((c) =>
    c.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  '),
  );
}
