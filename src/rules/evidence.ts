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
  return quote(`${count} consecutive failures of ${event.name}${whereOf(event)}`, textOf(event));
}

/** Where an event happened, in words: " (in app.log, task 42, status failed)". */
export function whereOf(event: VigilEvent): string {
  const data = event.data ?? {};
  const where = [
    event.labels.file && `in ${event.labels.file}`,
    (typeof data.task_id === 'string' || typeof data.task_id === 'number') && `task ${data.task_id}`,
    event.labels.status && `status ${event.labels.status}`,
  ].filter(Boolean);
  return where.length ? ` (${where.join(', ')})` : '';
}

/** What went wrong, in the event's own words (a probe's error, a log record, a task's error_log). */
export function textOf(event: VigilEvent): string | undefined {
  const data = event.data ?? {};
  return textFields
    .map((k) => data[k])
    .find((v): v is string => typeof v === 'string' && v.trim() !== '')
    ?.trimEnd();
}

/** A headline followed by the evidence, cut to a size a message can carry. */
export function quote(head: string, text: string | undefined): string {
  if (!text) return head;
  const cut = text.length > MAX_EVIDENCE ? `${text.slice(0, MAX_EVIDENCE)}…` : text;
  return cut.includes('\n') ? `${head}:\n${cut}` : `${head}: ${cut}`;
}
