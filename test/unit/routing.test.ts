import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { VigilConfigInput } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import { Router } from '../../src/incidents/routing.js';
import { TargetBook } from '../../src/notify/targets.js';
import { loadRules } from '../../src/rules/loader.js';

const base = {
  database: { url: 'postgres://x@127.0.0.1/x' },
  redis: { url: 'redis://127.0.0.1:6379' },
  slack: { token: 'xoxb-1', channel: 'C0ALERTS' },
  email: { smtpUrl: 'smtp://127.0.0.1:1025', from: 'v@x.test', to: ['oncall@x.test'] },
  targets: {
    db: { slack: 'C0DB' },
    leads: { slack: 'C0LEADS', mention: 'S0LEADS' },
    dba: { email: ['dba@x.test'] },
  },
  escalation: { policies: { page: { steps: [{ to: ['leads'] }] }, slow: { steps: [{ to: ['dba'] }] } } },
};
const rule = loadRules('test/fixtures/rules-api-health', { HELIX_API_URL: 'http://127.0.0.1:1' }).rules[0]!;

function router(routes: VigilConfigInput['routes']) {
  const config = loadConfig({ env: {}, object: { ...base, routes } });
  return new Router(config, new TargetBook(['slack', 'email'], config.targets));
}

describe('routes', () => {
  it('the first match wins; labels, severity and rule must all match; continue adds the next', () => {
    const r = router([
      { match: { labels: { system: 'postgres' } }, to: ['db', 'dba'], escalation: 'slow' },
      {
        match: { severity: ['critical', 'high'], rule: 'api-health' },
        to: ['slack'],
        escalation: 'page',
        continue: true,
      },
      { match: { severity: 'critical' }, to: ['email'] },
      { to: ['slack'] },
    ]);
    expect(r.route(rule, { system: 'postgres' })).toEqual({ targets: ['db', 'dba'], policy: 'slow' });
    // critical api-health: the second route, and (continue) the third adds email; the first policy named stays.
    expect(r.route(rule, { system: 'helix' })).toEqual({ targets: ['slack', 'email'], policy: 'page' });
    expect(r.route({ ...rule, severity: 'warning' }, {})).toEqual({ targets: ['slack'], policy: undefined });
  });

  it('a rule adds its own targets and policy; targets on channels the rule does not use are left out', () => {
    const r = router([{ to: ['slack', 'dba'] }]);
    const own = { ...rule, route: { to: ['leads'], escalation: 'page' } };
    expect(r.route(own, {})).toEqual({ targets: ['slack', 'dba', 'leads'], policy: 'page' });
    expect(r.route({ ...own, notify: ['slack' as const] }, {})).toEqual({
      targets: ['slack', 'leads'],
      policy: 'page',
    });
  });

  it('without routes, everything goes to the configured channels', () => {
    const config = loadConfig({ env: {}, object: base });
    const r = new Router(config, new TargetBook(['slack', 'email'], config.targets));
    expect(r.route(rule, {})).toEqual({ targets: ['slack', 'email'], policy: undefined });
  });

  it('refuses at start: no catch-all, an unknown target or policy, a first step with a delay', () => {
    const problems = (
      routes: VigilConfigInput['routes'],
      escalation: VigilConfigInput['escalation'] = base.escalation,
    ) => {
      try {
        loadConfig({ env: {}, object: { ...base, routes, escalation } });
        return '';
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
    };
    expect(problems([{ match: { severity: 'critical' }, to: ['slack'] }])).toMatch(
      /routes: needs a catch-all route/,
    );
    expect(problems([{ to: ['pager'] }])).toMatch(
      /routes\[0\]\.to\[0\]: unknown target "pager" \(known: db, leads, dba, slack, email\)/,
    );
    expect(problems([{ to: ['slack'], escalation: 'nope' }])).toMatch(
      /routes\[0\]\.escalation: unknown escalation policy "nope"/,
    );
    expect(
      problems([{ to: ['slack'] }], { policies: { p: { steps: [{ after: '5m', to: ['leads'] }] } } }),
    ).toMatch(/escalation\.policies\.p\.steps\[0\]\.after: the first step comes at the rule's ackSla/);
  });
});
