import { watch, type FSWatcher } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { errorMessage } from '../errors.js';
import type { Health } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { RuleSet } from './loader.js';

/** What a reload changed, by rule id. */
export interface RuleChange {
  added: string[];
  removed: string[];
  changed: string[];
}

export function diffRules(before: RuleSet, after: RuleSet): RuleChange {
  const old = new Map(before.rules.map((r) => [r.id, r]));
  const next = new Map(after.rules.map((r) => [r.id, r]));
  return {
    added: [...next.keys()].filter((id) => !old.has(id)),
    removed: [...old.keys()].filter((id) => !next.has(id)),
    changed: [...next]
      .filter(([id, r]) => old.has(id) && !isDeepStrictEqual(old.get(id), r))
      .map(([id]) => id),
  };
}

const unchanged = (c: RuleChange) => c.added.length + c.removed.length + c.changed.length === 0;

export interface RuleWatcherDeps {
  /** The rules folder (config `rules.dir`, already resolved against the config file). */
  dir: string;
  /** Reads and validates every rule file, the loader the agent started with; throws what is wrong. */
  load: () => RuleSet;
  /** The set running now. */
  current: () => RuleSet;
  /** Puts a valid set in place of the running one. */
  apply: (next: RuleSet, change: RuleChange) => Promise<void>;
  /** Watch the folder (default true); without, only reload() (SIGHUP) reloads. */
  watch?: boolean;
  /** Changes are gathered this long before one reload (editors write a file in several steps). */
  debounceMs?: number;
  health: Health;
  metrics: Metrics;
  log: Logger;
}

export type ReloadResult = 'ok' | 'failed';

/**
 * Hot reload of the rule files. A change in the folder (or reload()) re-reads all of them with the
 * same loader as at start; a set with any problem is refused whole and the last good one keeps
 * running, with the problems in the log (file:line) and in /healthz until a good version loads.
 * Reloads never overlap: a change during one makes one more after it.
 */
export class RuleWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReloadResult> | undefined;
  private again = false;
  private closed = false;

  constructor(private readonly deps: RuleWatcherDeps) {}

  start(): void {
    if (this.deps.watch === false) return;
    try {
      this.watcher = watch(this.deps.dir, () => this.schedule());
      this.watcher.on('error', (err) => this.lost(err));
    } catch (err) {
      this.lost(err);
    }
  }

  /** Re-reads the rules now (SIGHUP); resolves once the result is in place. */
  reload(why = 'requested'): Promise<ReloadResult> {
    if (this.closed) return Promise.resolve('failed');
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.once(why).finally(() => {
      this.running = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        void this.reload(why);
      }
    });
    return this.running;
  }

  /** Stops watching and waits for a reload in flight, so nothing is swapped under a closing agent. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    await this.running;
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload('rules folder changed'), this.deps.debounceMs ?? 250);
  }

  /** The folder cannot be watched (removed, or too many watches): say so; SIGHUP still works. */
  private lost(err: unknown): void {
    this.watcher?.close();
    this.watcher = undefined;
    const problem = `rules folder ${this.deps.dir} not watched (${errorMessage(err)}): rule changes apply after SIGHUP or a restart`;
    this.deps.log.error({ dir: this.deps.dir, err: errorMessage(err) }, 'rules folder not watched');
    this.deps.health.set('rules watch', problem);
  }

  private async once(why: string): Promise<ReloadResult> {
    const { log, health, metrics } = this.deps;
    let next: RuleSet;
    try {
      next = this.deps.load();
    } catch (err) {
      const problems = (err as { problems?: string[] }).problems ?? [errorMessage(err)];
      metrics.inc('vigil_rules_reload_total', { result: 'failed' });
      log.error({ why, problems }, 'rules not reloaded: the last good rules keep running');
      health.set(
        'rules',
        `rule files not reloaded, the last good rules keep running: ${problems.join('; ')}`,
      );
      return 'failed';
    }
    const change = diffRules(this.deps.current(), next);
    try {
      await this.deps.apply(next, change);
    } catch (err) {
      // Parts of the set may be in place (the engine's swap is synchronous and first): what did not
      // get there (a probe schedule with Redis away) is re-asserted by its owner later.
      metrics.inc('vigil_rules_reload_total', { result: 'failed' });
      log.error({ why, err: errorMessage(err), ...change }, 'rules reloaded, but not everywhere');
      health.set('rules', `rules reloaded, but not everywhere: ${errorMessage(err)}`);
      return 'failed';
    }
    metrics.inc('vigil_rules_reload_total', { result: 'ok' });
    health.set('rules', undefined);
    if (unchanged(change)) log.debug({ why }, 'rules reloaded: no rule changed');
    else log.info({ why, rules: next.rules.length, ...change }, 'rules reloaded');
    if (!this.watcher && this.deps.watch !== false && !this.closed) {
      health.set('rules watch', undefined);
      this.start();
    }
    return 'ok';
  }
}
