import type { Source } from '../contracts/source.js';
import { VigilError } from '../errors.js';
import type { SourceContext, SourceKind } from './kind.js';
import { logKind } from './logs/log-source.js';
import { hostProbesKind } from './probes/host-source.js';
import { probesKind } from './probes/source.js';
import { pgNotifyKind } from './postgres/notify-source.js';
import { pgOutboxKind } from './postgres/outbox-source.js';

type AnyKind = SourceKind<{ kind: string; name: string }>;

/** The kinds a `sources:` entry may name; adding one is one file and one entry here. */
export class SourceRegistry {
  readonly #kinds = new Map<string, AnyKind>();

  register<S extends { kind: string; name: string }>(kind: SourceKind<S>): this {
    if (this.#kinds.has(kind.kind))
      throw new VigilError('E_SOURCE_DUPLICATE', `source kind "${kind.kind}" is registered twice`);
    this.#kinds.set(kind.kind, kind as unknown as AnyKind);
    return this;
  }

  get(kind: string): AnyKind {
    const found = this.#kinds.get(kind);
    if (!found) {
      const known = [...this.#kinds.keys()].join(', ');
      throw new VigilError('E_SOURCE_KIND', `unknown source kind "${kind}" (known: ${known})`);
    }
    return found;
  }

  all(): AnyKind[] {
    return [...this.#kinds.values()];
  }

  /** Builds one source per entry; two entries of one name are refused (logs and metrics name them). */
  build(specs: ReadonlyArray<{ kind: string; name: string }>, ctx: SourceContext): Source[] {
    const names = new Set<string>();
    return specs.map((spec) => {
      if (names.has(spec.name))
        throw new VigilError('E_SOURCE_DUPLICATE', `two sources are named "${spec.name}"`);
      names.add(spec.name);
      const log = ctx.log.child({ source: spec.name, kind: spec.kind });
      return this.get(spec.kind).create(spec, { ...ctx, log });
    });
  }
}

export const sourceKinds = new SourceRegistry()
  .register(probesKind)
  .register(hostProbesKind)
  .register(logKind)
  .register(pgOutboxKind)
  .register(pgNotifyKind);
