/**
 * Why a regular expression may backtrack catastrophically on a crafted line, or undefined. Log lines
 * carry text from outside (request paths, user input), and JavaScript's engine backtracks: a pattern
 * like `(a+)+$` takes exponential time on `aaaa…!`, and one such line would stall the agent's tail.
 * The check is the common culprit, a quantified group that itself contains a quantifier (nested
 * repetition); it is deliberately simple and errs on the side of refusing.
 */
export function backtrackingRisk(source: string): string | undefined {
  /** Per open group: whether something inside it repeats, and where it started. */
  const groups: Array<{ repeats: boolean; at: number }> = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') groups.push({ repeats: false, at: i });
    else if (c === ')') {
      const group = groups.pop();
      if (!group) continue;
      const quantified = isQuantifier(source, i + 1);
      if (quantified && group.repeats)
        return `a repeated group that itself repeats (${source.slice(group.at, i + 2)}) can backtrack catastrophically on a crafted line; rewrite it without the nesting`;
      const outer = groups.at(-1);
      if (outer && (group.repeats || quantified)) outer.repeats = true;
    } else if (isQuantifier(source, i) && !(c === '{' && source[i - 1] === ')')) {
      const inner = groups.at(-1);
      if (inner) inner.repeats = true;
    }
  }
  return undefined;
}

function isQuantifier(source: string, i: number): boolean {
  const c = source[i];
  if (c === '*' || c === '+') return true;
  if (c === '{') return /^\{\d+(,\d*)?\}/.test(source.slice(i)) && !/^\{(\d+)(,\1)?\}/.test(source.slice(i));
  return false;
}
