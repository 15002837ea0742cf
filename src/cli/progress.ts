import type { Progress } from '../rules/replay-input.js';

/** Smaller inputs read in a blink: a bar would only flicker. */
const LARGE = 4 << 20;
const WIDTH = 30;

/**
 * A progress bar on stderr for a large input, redrawn in place; nothing when stderr is not a
 * terminal (a pipe or a log file must not fill with carriage returns).
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  let shown = -1;
  let drawn = false;
  const update: Progress = (done, total) => {
    if (!stream.isTTY || total < LARGE) return;
    const pct = Math.min(100, Math.floor((done / total) * 100));
    if (pct === shown) return;
    shown = pct;
    drawn = true;
    const fill = Math.round((pct / 100) * WIDTH);
    stream.write(`\r${label} [${'#'.repeat(fill)}${' '.repeat(WIDTH - fill)}] ${pct}%`);
  };
  const end = () => {
    if (drawn) stream.write('\r\x1b[K');
  };
  return { update, end };
}
