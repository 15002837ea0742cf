import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../src/contracts/event.js';
import { Metrics } from '../../src/metrics.js';
import type { QueuePayloads } from '../../src/contracts/queues.js';
import { plannedAt, probeProcessor } from '../../src/sources/probes/worker.js';
import { startHelixSim } from '../../src/demo/helix-sim.js';
import { commandProbeSchema } from '../../src/sources/probes/command.js';
import type { ProbeSpec } from '../../src/sources/probes/schema.js';

const spec = (url: string): ProbeSpec => ({
  kind: 'http',
  name: 'helix-api-health',
  url,
  method: 'GET',
  every: 5000,
  timeout: 1000,
  expectStatus: [200],
  maxBodyBytes: 65536,
  followRedirects: false,
  labels: { service: 'helix-api' },
});

/** What BullMQ 6.7 hands a worker for a scheduler's run: no prevMillis, delay 0 once due. */
function schedulerJob(data: unknown, planned: number, createdAt: number): Job<QueuePayloads['probes']> {
  return {
    id: `repeat:probe-helix-api-health:${planned}`,
    data,
    opts: {},
    timestamp: createdAt,
    delay: 0,
  } as unknown as Job<QueuePayloads['probes']>;
}

describe('probe worker', () => {
  it('dates a run by its planned time, for the first run and later ones', () => {
    const planned = Date.parse('2026-11-29T08:00:05Z');
    // The first run is created at its planned time; a later one when the run before it was taken.
    expect(plannedAt(schedulerJob({}, planned, planned))).toBe(planned);
    expect(plannedAt(schedulerJob({}, planned, planned - 5000))).toBe(planned);
    const manual = { id: '17', timestamp: planned - 3, opts: {} } as Job;
    expect(plannedAt(manual)).toBe(planned - 3);
  });

  it('dates a run that starts more than an interval late (no agent was up) when it ran', async () => {
    const sim = await startHelixSim({ healthy: false });
    try {
      const probe = spec(`${sim.url}/api/v1/health`);
      const events: VigilEvent[] = [];
      const run = probeProcessor({ record: async (e) => void events.push(e), metrics: new Metrics() });
      const planned = Date.now() - 60_000;
      const before = Date.now();
      await run(schedulerJob({ probe: probe.name, spec: probe }, planned, planned - 5000));
      expect(events[0]!.id).toBe(`probe:${probe.name}:${planned}`);
      expect(Date.parse(events[0]!.at)).toBeGreaterThanOrEqual(before);
    } finally {
      await sim.close();
    }
  });

  it('gives a re-run of the same scheduled run the same event (id and time), so it counts once', async () => {
    const sim = await startHelixSim({ healthy: false });
    try {
      const probe = spec(`${sim.url}/api/v1/health`);
      const events: VigilEvent[] = [];
      const metrics = new Metrics();
      const run = probeProcessor({ record: async (e) => void events.push(e), metrics });
      const planned = Math.floor(Date.now() / 1000) * 1000;
      const job = schedulerJob({ probe: probe.name, spec: probe }, planned, planned - 5000);
      await run(job);
      await run(job);
      expect(events).toHaveLength(2);
      expect(events[1]).toMatchObject({ id: events[0]!.id, at: new Date(planned).toISOString(), ok: false });
      expect(events[0]!.data).toMatchObject({ status: 503 });
      expect(metrics.value('vigil_probe_runs_total', { probe: probe.name, outcome: 'failed' })).toBe(2);
      expect(await metrics.render()).toContain(`vigil_probe_duration_seconds_count{probe="${probe.name}"} 2`);
    } finally {
      await sim.close();
    }
  });

  it('fails a job whose spec is invalid with a clear error, counts it, and records nothing', async () => {
    const events: VigilEvent[] = [];
    const metrics = new Metrics();
    const run = probeProcessor({ record: async (e) => void events.push(e), metrics });
    const bad = { ...spec('http://127.0.0.1:1/'), url: 'ftp://nope', timeout: 'soon' };
    const job = schedulerJob({ probe: 'helix-api-health', spec: bad }, 1000, 1000);
    await expect(run(job)).rejects.toMatchObject({
      code: 'E_PROBE_SPEC',
      message: expect.stringMatching(/probe "helix-api-health" .* invalid spec: (?=.*url: )(?=.*timeout: )/),
    });
    const old = schedulerJob({ probe: 'helix-api-health' }, 1000, 1000);
    await expect(run(old)).rejects.toMatchObject({ code: 'E_PROBE_SPEC' });
    expect(events).toEqual([]);
    expect(metrics.value('vigil_probe_runs_total', { probe: 'helix-api-health', outcome: 'invalid' })).toBe(
      2,
    );
  });

  it("runs a command or SQL probe only as this agent's own rules define it", async () => {
    const events: VigilEvent[] = [];
    const command = commandProbeSchema.parse({
      kind: 'command',
      name: 'detect-zombie-tasks',
      argv: [process.execPath, '-e', 'console.log(JSON.stringify({ value: 0 }))'],
      every: '10s',
    });
    const job = schedulerJob({ probe: command.name, spec: command }, 1000, 1000);
    const metrics = new Metrics();
    const own = probeProcessor({ record: async (e) => void events.push(e), metrics, own: () => [command] });
    await own(job);
    expect(events[0]).toMatchObject({ ok: true, value: 0 });
    // A job naming another program (written to Redis by anyone) is not run, whatever its name.
    const other = { ...command, argv: ['rm', '-rf', '/tmp/x'] };
    await expect(own(schedulerJob({ probe: command.name, spec: other }, 2000, 2000))).rejects.toMatchObject({
      code: 'E_PROBE_SPEC',
      message: expect.stringContaining("is not defined exactly so in this agent's rules"),
    });
    const stranger = probeProcessor({ record: async (e) => void events.push(e), metrics });
    await expect(stranger(job)).rejects.toMatchObject({ code: 'E_PROBE_SPEC' });
    expect(events).toHaveLength(1);
    expect(metrics.value('vigil_probe_runs_total', { probe: command.name, outcome: 'invalid' })).toBe(2);
  });

  it('refuses a host-bound probe in a cluster job: it would measure whichever host took it', async () => {
    const run = probeProcessor({ record: async () => undefined, metrics: new Metrics() });
    const spec = { kind: 'system', name: 'cpu', measure: 'cpu', every: 5000, timeout: 1000, labels: {} };
    await expect(run(schedulerJob({ probe: 'cpu', spec }, 1000, 1000))).rejects.toMatchObject({
      code: 'E_PROBE_SPEC',
    });
  });

  it('records a probe that crashes as a failed observation with the reason', async () => {
    const events: VigilEvent[] = [];
    // A NUL byte makes spawn throw: the runner's bug-shaped failure, caught by the guard.
    const command = commandProbeSchema.parse({ kind: 'command', name: 'nul', argv: ['a\0b'], every: '10s' });
    const run = probeProcessor({
      record: async (e) => void events.push(e),
      metrics: new Metrics(),
      own: () => [command],
    });
    expect(await run(schedulerJob({ probe: 'nul', spec: command }, 1000, 1000))).toBe(false);
    expect(events[0]).toMatchObject({
      ok: false,
      data: { error: expect.stringMatching(/^probe crashed: .*null bytes/) },
    });
  });
});
