import { probesBench } from './probes.js';
import { postgresSection } from './postgres.js';
import { logsSection } from './logs.js';
import { evaluationSection } from './evaluation.js';
/**
 * Benchmarks of their own (sources, …) that `npm run bench` runs after the alert latencies and
 * appends to bench/RESULTS.md. Each measures its own baseline in the same run and renders Markdown.
 */
export interface BenchSection {
  /** Heading in RESULTS.md, and the key in BENCH_ONLY / BENCH_SKIP (comma-separated). */
  key: string;
  title: string;
  run(): Promise<string>;
}

export const sections: BenchSection[] = [];
sections.push(probesBench);
sections.push(postgresSection);
sections.push(logsSection);
sections.push(evaluationSection);

/** BENCH_ONLY=a,b runs just those sections (and skips the alert latencies); BENCH_SKIP=a,b leaves some out. */
export function chosenSections(env = process.env): BenchSection[] {
  const list = (v: string | undefined) =>
    new Set(
      (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  const only = list(env.BENCH_ONLY);
  const skip = list(env.BENCH_SKIP);
  return sections.filter((s) => (only.size === 0 || only.has(s.key)) && !skip.has(s.key));
}

const marks = (key: string) => [`<!-- section:${key} -->`, `<!-- /section:${key} -->`] as const;

/** The section's block in RESULTS.md, between markers so a later run of it alone can replace it. */
export function renderSection(s: BenchSection, markdown: string): string {
  const [open, close] = marks(s.key);
  return `${open}\n## ${s.title}\n\n${markdown.trim()}\n${close}\n`;
}

/** Replaces the section's block in an existing RESULTS.md, or appends it. */
export function spliceSection(text: string, s: BenchSection, markdown: string): string {
  const [open, close] = marks(s.key);
  const block = renderSection(s, markdown);
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) return `${text.trimEnd()}\n\n${block}`;
  return text.slice(0, start) + block + text.slice(end + close.length + 1);
}
