import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRules } from '../../src/rules/loader.js';
import { groupByWarnings, unfedRules } from '../../src/sources/coverage.js';
import { logKind } from '../../src/sources/logs/log-source.js';
import { hostProbesKind } from '../../src/sources/probes/host-source.js';
import { probesKind } from '../../src/sources/probes/source.js';
import { SourceRegistry } from '../../src/sources/registry.js';
import { sourcesSchema } from '../../src/sources/schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const head = (id: string) =>
  `id: ${id}\ntitle: ${id}\nseverity: info\nackSla: 1h\ncondition: { kind: consecutive, count: 1 }\n`;

/** One rule file per entry, loaded the way the agent loads them. */
function rules(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-coverage-'));
  dirs.push(dir);
  for (const [id, body] of Object.entries(files)) writeFileSync(join(dir, `${id}.yaml`), head(id) + body);
  return loadRules(dir, {});
}

const set = () =>
  rules({
    cpu: 'probe: { kind: system, name: cpu, measure: cpu, every: 10s }\n',
    api: 'probe: { kind: tcp, name: api-port, host: 127.0.0.1, port: 8015, every: 10s }\n',
    errors: 'match: { source: log, name: production }\n',
    canary: 'match: { source: manual, name: canary }\n',
    any: 'match: { name: whatever }\n',
    off: 'enabled: false\nmatch: { source: pg, name: tasks }\n',
  });

const only = (...kinds: string[]) => kinds.map((kind) => ({ kind, name: kind }));

describe('rules no configured source can feed', () => {
  it('names a host probe without host-probes, a cluster probe without probes, an event source nobody produces', () => {
    const problems = unfedRules(set(), only('probes'));
    expect(problems).toEqual([
      expect.stringMatching(
        /^rule "cpu": no configured source runs its system probe "cpu" \(needs: host-probes; sources: probes \(probes\)\)$/,
      ),
      expect.stringMatching(/^rule "errors": no configured source produces "log" events for match\.source/),
    ]);
    expect(unfedRules(set(), only('host-probes'))).toEqual([
      expect.stringMatching(
        /^rule "api": no configured source runs its tcp probe "api-port" \(needs: probes;/,
      ),
      expect.stringMatching(/^rule "errors": /),
    ]);
    // Nothing at all: match.source probe has no producer either.
    const probeMatch = rules({
      x: 'match: { source: probe, name: y }\n',
      y: 'probe: { kind: http, name: y, url: "http://127.0.0.1:8015/", every: 10s }\n',
    });
    expect(unfedRules(probeMatch, [])).toEqual([
      expect.stringMatching(
        /^rule "x": no configured source produces "probe" events .*needs: probes or host-probes; sources: none/,
      ),
      'rule "y": no configured source runs its http probe "y" (needs: probes; sources: none)',
    ]);
  });

  it('with the default sources flags only the log rule: manual events, rules without a source and disabled ones pass', () => {
    const defaults = sourcesSchema.parse(undefined);
    expect(unfedRules(set(), defaults).map((p) => p.slice(0, 14))).toEqual(['rule "errors":']);
  });

  it('goes by what each configured kind produces, whatever the kind', () => {
    const tails = {
      kind: 'tails',
      ownership: 'host-bound' as const,
      schema: sourcesSchema,
      produces: ['log'],
      create: () => {
        throw new Error('not built in this test');
      },
    };
    const registry = new SourceRegistry()
      .register(probesKind)
      .register(hostProbesKind)
      .register(tails as never);
    expect(unfedRules(set(), only('probes', 'host-probes', 'tails'), registry)).toEqual([]);
    expect(unfedRules(set(), only('probes', 'host-probes'), registry)).toEqual([
      expect.stringContaining('"log" events for match.source (needs: tails;'),
    ]);
  });
});

describe('rules that match a name no configured source gives', () => {
  const log = (name: string, ...signals: string[]) => ({
    kind: 'log',
    name,
    paths: ['/var/log/helix/*.log'],
    signals: signals.map((s) => ({ name: s, match: s })),
  });
  const typo = () =>
    rules({
      traceback: 'match: { source: log, name: svc-tracebak }\n',
      errors: 'match: { source: log, name: svc-error }\n',
      anywhere: 'match: { name: svc-tracebak }\n',
      tasks: 'match: { source: pg, name: task-failed }\n',
    });

  it('names the file, line and column of match.name and the signals every log source has', () => {
    const sources = sourcesSchema.parse([
      log('app', 'svc-traceback', 'svc-error'),
      log('web', 'svc-error', 'svc-slow'),
      { kind: 'pg-outbox' },
    ]);
    // A rule without match.source may match any source's events; pg-outbox names come from rows.
    expect(unfedRules(typo(), sources)).toEqual([
      expect.stringMatching(
        /traceback\.yaml:6:29 match\.name: no log source has a signal named "svc-tracebak" \(signals: svc-traceback, svc-error, svc-slow\)$/,
      ),
    ]);
  });

  it('accepts a name any configured log source has, and checks nothing where a source of that kind is open-ended', () => {
    const sources = sourcesSchema.parse([log('app', 'svc-traceback'), log('web', 'svc-tracebak')]);
    expect(unfedRules(typo(), [...sources, ...sourcesSchema.parse([{ kind: 'pg-outbox' }])])).toEqual([
      expect.stringMatching(
        /errors\.yaml:6:29 match\.name: .*"svc-error" \(signals: svc-traceback, svc-tracebak\)$/,
      ),
    ]);
    const tails = {
      kind: 'tails',
      ownership: 'host-bound' as const,
      schema: sourcesSchema,
      produces: ['log'],
      create: () => {
        throw new Error('not built in this test');
      },
    };
    const registry = new SourceRegistry().register(logKind).register(tails as never);
    // Another kind producing log events without a list of names: any name may come from it.
    expect(unfedRules(typo(), [...sources, { kind: 'tails', name: 'tails' }], registry)).toEqual([
      expect.stringMatching(/^rule "tasks": no configured source produces "pg" events/),
    ]);
  });

  it('without positions (a rule set built in code) names the rule', () => {
    const built = { rules: typo().rules, probes: [] };
    expect(unfedRules(built, sourcesSchema.parse([log('app', 'other')]))).toEqual([
      'rule "errors" match.name: no log source has a signal named "svc-error" (signals: other)',
      expect.stringMatching(/^rule "tasks": no configured source produces "pg" events/),
      'rule "traceback" match.name: no log source has a signal named "svc-tracebak" (signals: other)',
    ]);
  });

  it('lists a name two signals share once', () => {
    const spec = logKind.schema.parse(log('app', 'a', 'b'));
    const shared = { ...spec, signals: [...spec.signals, { ...spec.signals[0], match: 'A' }] };
    expect(logKind.eventNames?.(shared as typeof spec)).toEqual(['a', 'b']);
  });
});

describe('groupBy labels the matched events never carry', () => {
  it('warns with file:line and the labels the events do carry; silent where they carry it or are open-ended', () => {
    const set = rules({
      'per-host': 'match: { source: log, name: svc-error }\ngroupBy: [hostt]\n',
      'per-file': 'match: { source: log, name: svc-error }\ngroupBy: [file, service]\n',
      'per-probe':
        'probe: { kind: tcp, name: db, host: 127.0.0.1, port: 5432, every: 10s }\ngroupBy: [host]\n',
      tasks: 'match: { source: pg, name: task }\ngroupBy: [anything]\n',
    });
    const sources = sourcesSchema.parse([
      {
        kind: 'log',
        name: 'app',
        paths: ['/var/log/helix/*.log'],
        signals: [{ name: 'svc-error', match: 'ERROR', labels: ['service'] }],
      },
      { kind: 'pg-outbox' },
    ]);
    expect(groupByWarnings(set, sources)).toEqual([
      expect.stringMatching(
        /per-host\.yaml:7:10 groupBy: the events this rule matches never carry "hostt" \(they carry: service, source, file\); every event would fall into one series$/,
      ),
      expect.stringMatching(/per-probe\.yaml:7:10 groupBy: .* never carry "host" \(they carry: probe\)/),
    ]);
  });
});
