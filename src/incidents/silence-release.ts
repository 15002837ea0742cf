import type pg from 'pg';
import type { Logger } from '../log.js';
import type { TargetBook } from '../notify/targets.js';
import { holdMatching, openCandidates, reassign, release, subjectOf, type Release } from './silence-holds.js';
import { activeHolders, type MaintenanceClock } from './silence-judge.js';

export interface SilenceReleaseDeps {
  pool: pg.Pool;
  maintenance: MaintenanceClock;
  /** Where an incident nobody was told of is told of its release: its targets, on their channels. */
  targets: TargetBook;
  /** Credited with releases in the audit trail. */
  agentId: string;
  log: Logger;
}

/**
 * Keeps holds in step with silences and maintenance windows, from the sweeper (once per cluster):
 * holds open incidents a silence that started later (or a window that opened) matches, and releases
 * incidents whose silence ended or was expired — unless another one still matches them.
 */
export class SilenceRelease {
  readonly name = 'silences';
  /** Target name → channel, for the release statement. */
  private readonly targets: Map<string, string>;

  constructor(private readonly d: SilenceReleaseDeps) {
    this.targets = new Map(
      d.targets.names().flatMap((n) => {
        const channel = d.targets.channelOf(n);
        return channel ? [[n, channel] as const] : [];
      }),
    );
  }

  /** A pass of the sweeper, under its lock: once per cluster. */
  async tick(): Promise<void> {
    await this.run();
  }

  /** Holds what newly matches, releases what no longer does; the incident ids of each. */
  async run(): Promise<{ held: string[]; released: string[] }> {
    const { d } = this;
    // Candidates first: an incident held by a silence added after this read is not among them, so
    // it cannot be released for a silence this pass has not seen yet.
    const candidates = await openCandidates(d.pool, 'silenced');
    const holders = await activeHolders(d.pool, d.maintenance);
    const held = await holdMatching(d.pool, holders);
    if (held.length) d.log.info({ incidents: held }, 'open incidents silenced');
    const inForce = new Set(holders.map((h) => h.heldBy));
    const ended: Array<{ id: string; heldBy: string }> = [];
    for (const r of candidates) {
      const heldBy = r.held_by ?? '';
      if (inForce.has(heldBy)) continue;
      const other = holders.find((h) => h.matches(subjectOf(r)));
      if (other) await reassign(d.pool, r.id, heldBy, other.heldBy);
      else ended.push({ id: r.id, heldBy });
    }
    const released = await release(d.pool, await this.notes(ended), d.agentId, this.targets);
    if (released.length) d.log.info({ incidents: released }, 'silenced incidents released');
    return { held, released };
  }

  /** Why each hold ended, for the audit trail: "silence #3 expired by bob", "maintenance window nightly ended". */
  private async notes(ended: ReadonlyArray<{ id: string; heldBy: string }>): Promise<Release[]> {
    const ids = ended.map((e) => e.heldBy).filter((h) => /^\d{1,18}$/.test(h));
    const { rows } = ids.length
      ? await this.d.pool.query<{ id: string; expired_by: string | null }>(
          'SELECT id, expired_by FROM vigil_silences WHERE id = ANY($1::bigint[])',
          [ids],
        )
      : { rows: [] };
    const expiredBy = new Map(rows.map((r) => [r.id, r.expired_by]));
    return ended.map((e) => {
      const by = expiredBy.get(e.heldBy);
      const note = e.heldBy.startsWith('maintenance:')
        ? `maintenance window ${e.heldBy.slice('maintenance:'.length)} ended`
        : `silence #${e.heldBy} ${by ? `expired by ${by}` : 'ended'}`;
      return { ...e, note };
    });
  }
}
