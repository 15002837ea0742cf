import type { Incident } from '../contracts/incident.js';
import { zonedTime } from '../incidents/time-text.js';
import type { Timeline, TimelineDelivery } from '../incidents/timeline.js';
import { labelsText } from '../notify/format.js';
import { formatElapsed } from '../notify/when.js';
import { runStory } from './remediation-print.js';
import { table } from './table.js';

const stateOf = (i: Incident) => (i.held ? `${i.state} [${i.held}]` : i.state);

const lasted = (i: Incident, now: Date) =>
  formatElapsed((i.resolvedAt ?? now).getTime() - i.startedAt.getTime());

export function incidentTable(incidents: readonly Incident[], timeZone: string, now = new Date()): string {
  if (incidents.length === 0) return 'no incidents';
  return table(
    ['ID', 'STATE', 'SEVERITY', 'RULE', 'SINCE', 'DURATION', 'ACKED BY', 'TITLE'],
    incidents.map((i) => [
      `#${i.id}`,
      stateOf(i),
      i.severity,
      i.ruleId,
      zonedTime(i.startedAt, timeZone),
      lasted(i, now),
      i.acknowledgedBy ?? '',
      i.title,
    ]),
  );
}

function deliveryText(d: TimelineDelivery, timeZone: string): string {
  const where = `${d.channel}${d.target ? ` → ${d.target}` : ''}`;
  const how = d.inDigest ? ' (in a digest)' : d.fallbackFrom ? ` (standing in for ${d.fallbackFrom})` : '';
  if (d.state === 'sent')
    return `${where}: sent ${d.deliveredAt ? zonedTime(d.deliveredAt, timeZone) : ''}${how}`.trimEnd();
  const tries = `${d.attempts} ${d.attempts === 1 ? 'try' : 'tries'}`;
  const error = d.lastError ? `; ${d.lastError}` : '';
  return d.state === 'owed'
    ? `${where}: still owed (${tries}${error})${how}`
    : `${where}: abandoned after ${tries}${error}${how}`;
}

/** `vigil incidents show`: the incident, then its story in order. */
export function incidentStory(t: Timeline, timeZone: string, now = new Date()): string {
  const i = t.incident;
  const at = (d: Date) => zonedTime(d, timeZone);
  const out = [`#${i.id} ${i.title}`];
  const field = (name: string, value: string) => out.push(`  ${name.padEnd(10)} ${value}`);
  field('state', stateOf(i) + (i.heldBy ? ` (held by ${i.heldBy})` : ''));
  field('severity', `${i.severity}   rule ${i.ruleId}   category ${i.category}`);
  field('since', `${at(i.startedAt)} (${lasted(i, now)}${i.resolvedAt ? '' : ' so far'})`);
  if (i.acknowledgedBy)
    field('acked', `${i.acknowledgedBy}${i.acknowledgedAt ? ` at ${at(i.acknowledgedAt)}` : ''}`);
  if (i.ackExpiresAt) field('ack ends', at(i.ackExpiresAt));
  if (i.resolvedAt) field('resolved', `${at(i.resolvedAt)}${i.resolvedBy ? ` by ${i.resolvedBy}` : ''}`);
  field('summary', i.summary || '—');
  if (Object.keys(i.labels).length) field('labels', labelsText(i.labels));
  if (i.targets.length) field('targets', i.targets.join(', '));
  if (i.policy || i.escalationStep) field('escalation', `${i.policy ?? 'default'}, step ${i.escalationStep}`);
  out.push('', 'Timeline');
  for (const tr of t.transitions) {
    const move = tr.from && tr.from !== tr.to ? `${tr.from} → ${tr.to}` : tr.to;
    out.push(
      `  ${at(tr.at)}  ${tr.kind.padEnd(12)} ${move.padEnd(26)} by ${tr.actor}${tr.note ? ` — ${tr.note}` : ''}`,
    );
    for (const d of t.deliveries.filter((x) => x.seq === tr.seq))
      out.push(`      ${deliveryText(d, timeZone)}`);
  }
  const orphans = t.deliveries.filter((d) => !t.transitions.some((tr) => tr.seq === d.seq));
  for (const d of orphans) out.push(`  (${d.kind}) ${deliveryText(d, timeZone)}`);
  out.push('', t.escalations.length ? 'Escalations' : 'Escalations: none');
  for (const e of t.escalations) {
    const to = e.deliveries.map((d) => `${d.channel}${d.target ? ` → ${d.target}` : ''}`).join(', ');
    out.push(`  ${at(e.at)}  by ${e.actor}${to ? ` to ${to}` : ''}${e.note ? ` — ${e.note}` : ''}`);
  }
  if (t.runs.length) out.push('', 'Remediation');
  for (const r of t.runs) out.push(...runStory(r, timeZone));
  return out.join('\n');
}
