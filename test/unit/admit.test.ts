import { describe, expect, it } from 'vitest';
import { admit } from '../../src/events/admit.js';

const event = (over: Record<string, unknown> = {}) => ({
  id: 'e1',
  source: 'manual',
  name: 'x',
  at: new Date(0).toISOString(),
  host: 'h',
  labels: {},
  ...over,
});

describe('admit', () => {
  it('refuses a NUL character anywhere, naming where: PostgreSQL could store none of the batch', () => {
    expect(admit(event({ labels: { service: 'a\0b' } }), 0, 1000)).toEqual({
      ok: false,
      reason: 'schema',
      detail: {
        event: 'e1',
        at: new Date(0).toISOString(),
        problems: ['labels.service: contains a NUL character (\\u0000)'],
      },
    });
    const deep = admit(event({ data: { a: [{ b: '\0' }] } }), 0, 1000);
    expect(deep.ok || deep.detail.problems).toEqual(['data.a.0.b: contains a NUL character (\\u0000)']);
    const key = admit(event({ labels: { 'k\0': 'v' } }), 0, 1000);
    expect(key.ok || key.detail.problems).toEqual(['labels."k\\u0000": contains a NUL character (\\u0000)']);
    expect(admit(event({ labels: { service: 'hélix 🚨' } }), 0, 1000).ok).toBe(true);
  });
});
