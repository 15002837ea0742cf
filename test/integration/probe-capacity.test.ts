import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuleSet } from '../../src/rules/loader.js';
import { ruleSchema, type Rule } from '../../src/rules/schema.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

let env: TestEnv | undefined;
let target: { server: Server; sockets: Set<Socket> } | undefined;
afterEach(async () => {
  await env?.cleanup();
  if (target) {
    for (const s of target.sockets) s.destroy();
    await new Promise((resolve) => target!.server.close(resolve));
  }
  env = target = undefined;
});

/** Accepts every TCP connection and never says a word. */
async function silentTarget(): Promise<{ server: Server; sockets: Set<Socket>; url: string }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, sockets, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health` };
}

/**
 * `count` probes every 1 s with a 2 s timeout, as in the report that found this (rule files refuse a
 * timeout not below the interval, so the rules are built here): each hanging run overlaps the next.
 */
function hangingRules(count: number, url: string): RuleSet {
  const rules: Rule[] = [];
  for (let i = 0; i < count; i++) {
    const rule = ruleSchema.parse({
      id: `hang-${i}`,
      title: `hanging target ${i}`,
      severity: 'warning',
      ackSla: '1h',
      probe: { kind: 'http', name: `hang-${i}`, url, every: '1s', timeout: '500ms' },
      condition: { kind: 'consecutive', count: 100_000 },
      notify: [],
    });
    rules.push({ ...rule, probe: { ...rule.probe!, timeout: 2000 } });
  }
  return { rules, probes: rules.map((r) => r.probe!) };
}

describe('probe capacity', () => {
  it('50 probes against a target that never answers: at least 90 % of the expected observations', async () => {
    const silent = await silentTarget();
    target = silent;
    env = await createTestEnv();
    const agent = env.agent(env.config(), { rules: hangingRules(50, silent.url) });
    const observed = () =>
      Array.from({ length: 50 }, (_, i) =>
        agent.metrics.value('vigil_probe_runs_total', { probe: `hang-${i}`, outcome: 'failed' }),
      ).reduce((a, b) => a + b, 0);
    await agent.start();
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // Steady state: the first runs have timed out and every probe has runs in flight.
    while (observed() < 50) await sleep(20);
    // All probes share one phase, so their runs end together once a second: a span from the middle
    // of one second to the middle of another holds whole rounds only.
    await sleep(500);
    const before = observed();
    await sleep(4000);
    const got = observed() - before;
    expect(got, `${got} observations of 50 probes in 4 s`).toBeGreaterThanOrEqual(0.9 * 50 * 4);
  });
});
