import type { VigilEvent } from '../contracts/event.js';

/** Longest evidence an incident keeps: a traceback's last frames fit, a runaway record does not. */
const MAX_EVIDENCE = 2000;

/** Fields sources put what went wrong in, most telling first (probe error, log record, task error_log). */
const textFields = ['error', 'text', 'error_log', 'message', 'msg'] as const;

/**
 * What an alert says about the observation that fired it, so the person reading it sees what went
 * wrong, not only that something did: where (file, task, status) and what (the probe's error, the
 * log record with its traceback, the task's error_log).
 */
export function summaryOf(count: number, event: VigilEvent): string {
  const data = event.data ?? {};
  const where = [
    event.labels.file && `in ${event.labels.file}`,
    (typeof data.task_id === 'string' || typeof data.task_id === 'number') && `task ${data.task_id}`,
    event.labels.status && `status ${event.labels.status}`,
  ].filter(Boolean);
  const head = `${count} consecutive failures of ${event.name}${where.length ? ` (${where.join(', ')})` : ''}`;
  const text = textFields
    .map((k) => data[k])
    .find((v): v is string => typeof v === 'string' && v.trim() !== '')
    ?.trimEnd();
  if (!text) return head;
  const cut = text.length > MAX_EVIDENCE ? `${text.slice(0, MAX_EVIDENCE)}…` : text;
  return cut.includes('\n') ? `${head}:\n${cut}` : `${head}: ${cut}`;
}
