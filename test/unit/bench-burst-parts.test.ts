import { describe, expect, it } from 'vitest';
import { redisDelta } from '../../bench/counters.js';
import { incidentsIn } from '../../bench/receivers-protocol.js';

describe('bench: telling which incidents a Slack message tells', () => {
  it('reads one incident, a digest list, or nothing', () => {
    const one = {
      event_type: 'vigil_notification',
      event_payload: { incident: '42', seq: 1, kind: 'opened' },
    };
    expect(incidentsIn(one)).toEqual({ incidents: ['42'], digest: false });
    const digest = { event_type: 'vigil_digest', event_payload: { digest: '7', added: '43,44' } };
    expect(incidentsIn(digest)).toEqual({ incidents: ['43', '44'], digest: true });
    expect(incidentsIn(undefined)).toEqual({ incidents: [], digest: false });
    expect(incidentsIn({ event_payload: 'x' })).toEqual({ incidents: [], digest: false });
    expect(incidentsIn({ event_payload: { digest: '7', added: '' } })).toEqual({
      incidents: [],
      digest: true,
    });
  });
});

describe('bench: Redis counters over a window', () => {
  it('takes out the first snapshot and the bench’s own commands', () => {
    const before = {
      total: 100,
      calls: new Map([
        ['info', 3],
        ['evalsha', 10],
        ['llen', 4],
      ]),
    };
    const after = {
      total: 147,
      calls: new Map([
        ['info', 4],
        ['evalsha', 30],
        ['llen', 10],
        ['xadd', 20],
      ]),
    };
    const delta = redisDelta(before, after, new Map([['llen', 6]]));
    expect(delta.byCommand).toEqual([
      ['evalsha', 20],
      ['xadd', 20],
    ]);
    expect(delta).toMatchObject({ total: 40, commandstats: 40 });
  });
});
