import type { BurstResult } from './burst.js';
import type { BurstOutcome, BurstSeries } from './bursts.js';
import { median, ms } from './stats.js';

/** The issue's targets for 5,000 incidents at once on one agent. */
export const BURST_TARGETS = {
  n: 5000,
  p99Ms: 5000,
  alertsPerSec: 1000,
  firstMs: 1000,
  redisPerAlert: 15,
  commitsPerAlert: 2,
};

const s = (v: number) => (Number.isFinite(v) ? `${(v / 1000).toFixed(2)} s` : 'never');
const num = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(0)}×` : '–');
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');

/** Per-alert costs of a run; NaN where not measured (limited runs, incomplete runs). */
export function costs(r: BurstResult) {
  const scripts = ['evalsha', 'eval', 'fcall', 'evalsha_ro', 'eval_ro', 'fcall_ro'];
  const calls = new Map(r.redis?.byCommand ?? []);
  return {
    redisTotal: r.redis ? r.redis.total / r.n : Number.NaN,
    redisStats: r.redis ? r.redis.commandstats / r.n : Number.NaN,
    scripts: r.redis ? scripts.reduce((a, c) => a + (calls.get(c) ?? 0), 0) / r.n : Number.NaN,
    commits: r.commits ? (r.commits.lifetime - r.commits.control) / r.n : Number.NaN,
  };
}

/** The median across runs of one figure; NaN (shown as never/–) if any run lacks it. */
const med = (runs: readonly BurstResult[], pick: (r: BurstResult) => number) => {
  const values = runs.map(pick);
  return values.some((v) => !Number.isFinite(v)) ? Number.NaN : median(values);
};

function freeRow(label: string, runs: BurstResult[]): string {
  const m = (pick: (r: BurstResult) => number) => med(runs, pick);
  const p50 = m((r) => r.latency.p50);
  const p99 = m((r) => r.latency.p99);
  const single50 = m((r) => r.singles.p50);
  const single99 = m((r) => r.singles.p99);
  return `| ${label} | ${m((r) => r.told)}/${runs[0]?.n} | ${s(p50)} | ${s(p99)} | ${s(m((r) => r.latency.max))} | ${int(m((r) => r.firstMs))} ms | ${s(m((r) => r.allToldMs))} | ${int(m((r) => r.alertsPerSec))} | ${s(m((r) => r.lastWrittenMs))} | ${ms(single50)} / ${ms(single99)} ms | ${ratio(p50, single50)} / ${ratio(p99, single99)} | ${int(m((r) => r.hop?.perSec ?? Number.NaN))} |`;
}

function costRow(label: string, runs: BurstResult[]): string {
  const m = (pick: (r: ReturnType<typeof costs>) => number) => med(runs, (r) => pick(costs(r)));
  const control = med(runs, (r) => r.commits?.control ?? Number.NaN);
  return `| ${label} | ${num(m((c) => c.redisTotal))} | ${num(m((c) => c.redisStats))} | ${num(
    m((c) => c.scripts),
    2,
  )} | ${num(
    m((c) => c.commits),
    2,
  )} | ${int(control)} |`;
}

function verdicts(series: readonly BurstSeries[]): string {
  const t = BURST_TARGETS;
  const runs = series.find((x) => x.mode === 'free' && x.n === t.n)?.runs ?? [];
  if (!runs.length) return `_No ${t.n.toLocaleString('en-US')}-incident burst in this run: no verdicts._`;
  const m = (pick: (r: BurstResult) => number) => med(runs, pick);
  const rows: [string, string, boolean][] = [
    [
      `p99 observation → Slack ≤ ${s(t.p99Ms)}`,
      s(m((r) => r.latency.p99)),
      m((r) => r.latency.p99) <= t.p99Ms,
    ],
    [
      `≥ ${int(t.alertsPerSec)} alerts/s`,
      int(m((r) => r.alertsPerSec)),
      m((r) => r.alertsPerSec) >= t.alertsPerSec,
    ],
    [
      `first message ≤ ${int(t.firstMs)} ms`,
      `${int(m((r) => r.firstMs))} ms`,
      m((r) => r.firstMs) <= t.firstMs,
    ],
    [
      `≤ ${t.redisPerAlert} Redis commands per alert (total_commands_processed)`,
      num(m((r) => costs(r).redisTotal)),
      m((r) => costs(r).redisTotal) <= t.redisPerAlert,
    ],
    [
      `≤ ${t.commitsPerAlert} PostgreSQL commits per alert`,
      num(
        m((r) => costs(r).commits),
        2,
      ),
      m((r) => costs(r).commits) <= t.commitsPerAlert,
    ],
  ];
  return `| target (${int(t.n)} at once, one agent, median of ${runs.length} runs) | measured | |
|---|---|---|
${rows.map(([what, value, ok]) => `| ${what} | ${value} | **${ok ? 'PASS' : 'FAIL'}** |`).join('\n')}`;
}

function limitedRows(series: readonly BurstSeries[]): string {
  return series
    .filter((x) => x.mode === 'limited')
    .flatMap((x) =>
      x.runs.map(
        (r, i) =>
          `| ${int(r.n)} | ${i + 1} | ${r.digest} | ${s(r.allToldMs)} | ${int(r.told)} in ${s(r.endedMs)} | ${int(r.slack.posts)} | ${int(r.slack.updates)} | ${int(r.slack.digests)} | ${int(r.slack.limited)} | ${int(r.failedJobs)} |`,
      ),
    )
    .join('\n');
}

function topCommands(series: readonly BurstSeries[]): string {
  const free = series.filter((x) => x.mode === 'free' && x.runs.some((r) => r.redis));
  const largest = free[free.length - 1];
  const runs = (largest?.runs ?? []).filter((r) => r.redis);
  const sorted = [...runs].sort((a, b) => costs(a).redisTotal - costs(b).redisTotal);
  const run = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!run?.redis) return '';
  const top = run.redis.byCommand.slice(0, 12).map(([cmd, n]) => `${cmd} ${(n / run.n).toFixed(1)}`);
  return `Commands per alert in the median ${int(run.n)} run, most called first: ${top.join(', ')}.`;
}

export function renderBursts(outcome: BurstOutcome, config: Record<string, string | number>): string {
  const free = outcome.series.filter((x) => x.mode === 'free');
  const perRun = free.flatMap((x) => x.runs.map((r, i) => freeRow(`${int(r.n)} run ${i + 1}`, [r])));
  const costRuns = free.flatMap((x) => x.runs.map((r, i) => costRow(`${int(r.n)} run ${i + 1}`, [r])));
  const notes = outcome.series.flatMap((x) =>
    x.runs.flatMap((r) => r.notes.map((n) => `${int(r.n)} ${r.mode}: ${n}`)),
  );
  return `## Bursts: N distinct incidents opening at once → Slack

${verdicts(outcome.series)}

### Configuration

| | |
|---|---|
${Object.entries(config)
  .map(([k, v]) => `| ${k} | ${v} |`)
  .join('\n')}

### Latency and throughput (Slack without a rate limit, digests off)

Latency is per incident, from its deciding observation handed to \`agent.ingest()\` to the Slack call
that told it. "Single alert" is the one-at-a-time figure measured in the same agent lifetime just
before the burst; the ratios compare the burst to it. "Slack hop alone" is the same client posting as
many messages straight to the same emulator at the notify concurrency: the ceiling the emulator sets.

| burst | told | p50 | p99 | max | first message | all told | alerts/s | incident rows written by | single alert p50 / p99 | ratio p50 / p99 | Slack hop alone, posts/s |
|---|---|---|---|---|---|---|---|---|---|---|---|
${free.map((x) => freeRow(`**${int(x.n)}, median of ${x.runs.length}**`, x.runs)).join('\n')}
${perRun.join('\n')}

### Cost per alert

| burst | Redis commands (INFO stats total_commands_processed) | Redis commands (sum of INFO commandstats calls) | of which Lua script calls | PostgreSQL commits | commits of the control lifetime |
|---|---|---|---|---|---|
${free.map((x) => costRow(`**${int(x.n)}, median of ${x.runs.length}**`, x.runs)).join('\n')}
${costRuns.join('\n')}

${topCommands(outcome.series)}

### Under Slack's rate limit (1 message/s per channel, bursts of 3; chat.update counted apart)

| burst | run | digests | time until every incident told | incidents told (in) | posts | updates | digest messages | answered 429 | notify jobs failed for good |
|---|---|---|---|---|---|---|---|---|---|
${limitedRows(outcome.series) || '| – | | | not run | | | | | | |'}
${notes.length ? `\nNotes: ${notes.join('; ')}.\n` : ''}${outcome.strangers.length ? `\n**Other sessions were seen in the bench's database (${outcome.strangers.join(', ')}): their commits may be in the counts.**\n` : ''}
### How the bursts are measured

Each run builds a fresh world (schema, key prefix, receivers process) with the \`api-health\` rule and a
bench rule \`bench-burst\` (consecutive, count 1, \`groupBy: [target]\`, Slack only unless
BENCH_BURST_EMAIL=1), and product defaults for pools, concurrency, attempts and backoff. One agent
measures the single alerts (its warm-up), then the N deciding observations — failed probe results for N
distinct \`target\` labels, built beforehand — are handed to \`agent.ingest()\` in one loop (each stamped
with \`hrNow()\` as it is handed over), so the batcher sees them at the same moment. An incident counts as
told at the first successful \`chat.postMessage\` or \`chat.update\` whose metadata names it
(\`event_payload.incident\`, or \`event_payload.incidents\` of a digest); incident ids are mapped back to
targets through the schema's \`vigil_incidents\` after the run. "all told" and alerts/s run from the first
hand-over to the last incident told; "first message" from the first hand-over to the first incident told.

Redis: on a redis-server of the bench's own (nobody else's commands in its counters), \`INFO stats
commandstats\` (one command) just before the hand-over and once the queues have drained after the last
incident was told, less the bench's own commands in between (that INFO and the idle checks, counted
one by one). On Redis 7 both counters include the commands Lua scripts run (checked: one EVAL running
three commands adds four to each), so they agree; the verdict uses total_commands_processed.

PostgreSQL: \`xact_commit\` of the bench's database in \`pg_stat_database\`, read from another database.
A session reports its commits when it flushes its statistics, and a transaction that touches no table
(\`SELECT 1\`) may wait until the session ends, so the window is a whole agent lifetime: read before the
agent starts and after its last session has gone. A control lifetime in the same world (start, the same
number of single alerts, close) is subtracted, leaving the burst's own commits; read-only transactions
count, as they do in \`xact_commit\`. Autovacuum, if it runs during the window, is counted too.

Under the rate limit, the emulator answers 429 with a Retry-After from its token bucket; the run ends
when every incident has been told, when nothing is left to retry and some deliveries failed for good
(checked twice, a second apart), or after the time limit in Configuration ("never" then). A run that
never finishes is not repeated.
`;
}
