import { describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../src/contracts/event.js';
import { summaryOf } from '../../src/rules/evidence.js';

const event = (over: Partial<VigilEvent>): VigilEvent => ({
  id: 'e1',
  source: 'log',
  name: 'helix-traceback',
  at: '2026-11-29T10:00:00.000Z',
  host: 'h',
  labels: {},
  ok: false,
  ...over,
});

describe('what an alert says went wrong', () => {
  it('a probe: its error on the same line', () => {
    const e = event({ source: 'probe', name: 'helix-api-health', data: { error: 'HTTP 503' } });
    expect(summaryOf(3, e)).toBe('3 consecutive failures of helix-api-health: HTTP 503');
  });

  it('a log record: the file, then the whole traceback below', () => {
    const text =
      'ERROR helix.agent: boom\nTraceback (most recent call last):\n  File "a.py", line 1\nValueError: x';
    const e = event({ labels: { file: '/var/log/helix/production.log' }, data: { text, lines: 4 } });
    expect(summaryOf(1, e)).toBe(
      `1 consecutive failures of helix-traceback (in /var/log/helix/production.log):\n${text}`,
    );
  });

  it('a task: its id, status and error_log', () => {
    const e = event({
      source: 'pg',
      name: 'task-status',
      labels: { table: 'tasks', status: 'failed' },
      data: { task_id: 42, error_log: 'TimeoutError: agent worker did not answer' },
    });
    expect(summaryOf(3, e)).toBe(
      '3 consecutive failures of task-status (task 42, status failed): TimeoutError: agent worker did not answer',
    );
  });

  it('a runaway record is cut, and an event without text says only what and where', () => {
    const long = event({ data: { text: 'x'.repeat(5000) } });
    expect(summaryOf(1, long).length).toBeLessThan(2100);
    expect(summaryOf(1, long).endsWith('…')).toBe(true);
    expect(summaryOf(2, event({ data: { text: '   ' } }))).toBe('2 consecutive failures of helix-traceback');
  });
});
