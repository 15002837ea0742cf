import { describe, expect, it } from 'vitest';
import { catalogue, type MetricName } from '../../src/metric-catalogue.js';
import { Metrics } from '../../src/metrics.js';

describe('Metrics on prom-client', () => {
  it('shows HELP and TYPE for every counter and histogram of the catalogue from the start', async () => {
    const text = await new Metrics().render();
    for (const [name, spec] of Object.entries(catalogue)) {
      if (spec.type === 'gauge') continue;
      expect(text).toContain(`# HELP ${name} ${spec.help}`);
      expect(text).toContain(`# TYPE ${name} ${spec.type}`);
    }
    // A counter without labels reads 0 before anything happened; one with labels shows no series yet.
    expect(text).toMatch(/^vigil_events_total 0$/m);
    expect(text).not.toMatch(/^vigil_notifications_total\{/m);
  });

  it('counts by label set, and tests can read a counter back', async () => {
    const m = new Metrics();
    m.inc('vigil_notifications_total', { channel: 'slack', kind: 'opened' });
    m.inc('vigil_notifications_total', { kind: 'opened', channel: 'slack' }, 2);
    m.inc('vigil_notifications_total', { channel: 'email', kind: 'opened' });
    m.inc('vigil_events_total', {}, 5);
    expect(m.value('vigil_notifications_total', { channel: 'slack', kind: 'opened' })).toBe(3);
    expect(m.value('vigil_notifications_total', { channel: 'email', kind: 'resolved' })).toBe(0);
    const text = await m.render();
    expect(text).toMatch(/^vigil_notifications_total\{channel="slack",kind="opened"\} 3$/m);
    expect(text).toMatch(/^vigil_notifications_total\{channel="email",kind="opened"\} 1$/m);
    expect(text).toMatch(/^vigil_events_total 5$/m);
  });

  it('reads gauges at scrape time, sync or async, with HELP and TYPE', async () => {
    const m = new Metrics();
    let owed = 2;
    m.gauge('vigil_notifications_owed', { channel: 'slack' }, () => owed);
    m.gauge('vigil_canary_age_seconds', {}, async () => 1.5);
    expect(await m.render()).toMatch(/^vigil_notifications_owed\{channel="slack"\} 2$/m);
    owed = 0;
    const text = await m.render();
    expect(text).toMatch(/^vigil_notifications_owed\{channel="slack"\} 0$/m);
    expect(text).toContain('# TYPE vigil_notifications_owed gauge');
    expect(text).toContain(`# HELP vigil_canary_age_seconds ${catalogue.vigil_canary_age_seconds.help}`);
    expect(text).toMatch(/^vigil_canary_age_seconds 1.5$/m);
  });

  it('a gauge nobody registered is absent rather than a false 0', async () => {
    expect(await new Metrics().render()).not.toContain('vigil_canary_age_seconds');
  });

  // prom-client spells NaN "Nan"; Prometheus parses either.
  it('a gauge that fails or hangs shows NaN and does not hold up the scrape', async () => {
    const m = new Metrics({ readTimeoutMs: 50 });
    m.gauge('vigil_queue_jobs', { queue: 'events', state: 'waiting' }, () => new Promise<number>(() => {}));
    m.gauge('vigil_queue_jobs', { queue: 'events', state: 'active' }, async () => {
      throw new Error('Redis is away');
    });
    m.gauge('vigil_queue_jobs', { queue: 'events', state: 'failed' }, () => 4);
    const text = await m.render();
    expect(text).toMatch(/^vigil_queue_jobs\{queue="events",state="waiting"\} (NaN|Nan)$/m);
    expect(text).toMatch(/^vigil_queue_jobs\{queue="events",state="active"\} (NaN|Nan)$/m);
    expect(text).toMatch(/^vigil_queue_jobs\{queue="events",state="failed"\} 4$/m);
  });

  it('observes histograms in seconds, with the catalogue buckets', async () => {
    const m = new Metrics();
    m.observe('vigil_probe_duration_seconds', { probe: 'api' }, 0.03);
    m.observe('vigil_probe_duration_seconds', { probe: 'api' }, 3);
    const text = await m.render();
    expect(text).toContain('# TYPE vigil_probe_duration_seconds histogram');
    expect(text).toMatch(/^vigil_probe_duration_seconds_bucket\{le="0.05",probe="api"\} 1$/m);
    expect(text).toMatch(/^vigil_probe_duration_seconds_bucket\{le="\+Inf",probe="api"\} 2$/m);
    expect(text).toMatch(/^vigil_probe_duration_seconds_count\{probe="api"\} 2$/m);
  });

  it('keeps each agent apart: two Metrics in one process do not share values', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.inc('vigil_escalations_total');
    expect(b.value('vigil_escalations_total')).toBe(0);
    expect(await b.render()).toMatch(/^vigil_escalations_total 0$/m);
  });

  it('throws on a name outside the catalogue, a wrong type, or wrong labels', () => {
    const m = new Metrics();
    expect(() => m.inc('vigil_made_up_total' as MetricName)).toThrow(/unknown metric vigil_made_up_total/);
    expect(() => m.inc('vigil_channel_up', { channel: 'slack' })).toThrow(/is a gauge, not a counter/);
    expect(() => m.inc('vigil_events_rejected_total')).toThrow(/takes labels \{reason\}/);
    expect(() => m.inc('vigil_events_rejected_total', { reason: 'x', extra: 'y' })).toThrow(/labels/);
    expect(() => m.gauge('vigil_channel_up', { chanel: 'slack' }, () => 1)).toThrow(/\{channel\}/);
    expect(() => m.observe('vigil_probe_duration_seconds', {}, 1)).toThrow(/\{probe\}/);
  });
});
