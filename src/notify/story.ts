import { REMEDIATION_PAGE, type Incident } from '../contracts/incident.js';
import type { RenderInput } from './format.js';
import { clockText, formatElapsed, sinceText } from './when.js';

/**
 * The words both renderers share: where an incident stands (`stateText`) and what one notification
 * announces (`eventText`). Plain text: each renderer escapes for its own medium.
 */

/** A person's audit text names how they acted ("alice (slack U024BE7LH)"); the agent's is a bare name. */
const byPerson = /\((slack|email|cli|api)(\s[^)]*)?\)$/;

export function resolvedByHand(i: Incident): boolean {
  return i.resolvedBy !== null && byPerson.test(i.resolvedBy);
}

/** "silenced (silence 7c1e…)", "inhibited by incident #12", "flapping". */
export function holdText(i: Incident): string {
  switch (i.held) {
    case 'silenced':
      return i.heldBy ? `silenced (silence ${i.heldBy})` : 'silenced';
    case 'inhibited':
      return i.heldBy ? `inhibited by incident #${i.heldBy}` : 'inhibited';
    case 'flapping':
      return 'flapping';
    case null:
      return '';
  }
}

/** One word for the state field and the email: firing, acknowledged, resolved, or the hold. */
export function stateWord(i: Incident): string {
  if (i.state !== 'resolved' && i.held) return `${i.state}, ${i.held}`;
  return i.state;
}

/** Where the incident stands now, in one line. */
export function stateText(input: RenderInput, now: Date): string {
  const { incident: i } = input;
  const tz = input.timeZone ?? 'UTC';
  if (i.state === 'resolved') {
    const at = i.resolvedAt ?? now;
    const how = resolvedByHand(i) ? `by hand by ${i.resolvedBy ?? ''}` : 'the condition cleared';
    return `✅ Resolved at ${clockText(at, tz, now)} after ${formatElapsed(at.getTime() - i.startedAt.getTime())}: ${how}`;
  }
  let line: string;
  if (i.state === 'acknowledged') {
    const at = i.acknowledgedAt ? ` at ${clockText(i.acknowledgedAt, tz, now)}` : '';
    const until = i.ackExpiresAt ? ` (until ${clockText(i.ackExpiresAt, tz, now)})` : '';
    line = `👀 Acknowledged by ${i.acknowledgedBy ?? 'someone'}${at}${until}; firing since ${sinceText(i.startedAt, tz, now)}`;
  } else {
    line = `🔥 Firing since ${sinceText(i.startedAt, tz, now)}`;
  }
  return i.held ? `${line} · held: ${holdText(i)}, nobody is notified` : line;
}

/** What this notification announces: the thread reply's text and the email's headline. */
export function eventText(input: RenderInput, now: Date): string {
  const { incident: i, kind } = input;
  const tz = input.timeZone ?? 'UTC';
  const open = formatElapsed(now.getTime() - i.startedAt.getTime());
  switch (kind) {
    case 'opened':
      return `🔥 Opened: firing since ${sinceText(i.startedAt, tz, now)}`;
    case 'acknowledged': {
      const at = i.acknowledgedAt ? ` at ${clockText(i.acknowledgedAt, tz, now)}` : '';
      return `👀 Acknowledged by ${i.acknowledgedBy ?? 'someone'}${at}: escalation stopped`;
    }
    case 'unacknowledged':
      return '↩️ No longer acknowledged: firing again, escalation starts over';
    case 'ack-expired':
      return `⏰ The acknowledgement expired and it is still firing, after ${open}`;
    case 'escalated': {
      const step = i.escalationStep > 1 ? ` (step ${i.escalationStep})` : '';
      return i.state === 'acknowledged'
        ? `⚠️ Escalated${step}, then acknowledged by ${i.acknowledgedBy ?? 'someone'}`
        : input.why?.startsWith(REMEDIATION_PAGE)
          ? `⚠️ Escalated${step}: auto-remediation could not fix it`
          : `⚠️ Escalated${step}: not acknowledged within ${formatElapsed(i.ackSlaMs)}`;
    }
    case 'reminder': {
      const what = i.state === 'acknowledged' ? `acknowledged by ${i.acknowledgedBy ?? 'someone'}` : 'firing';
      return `🔔 Reminder: still ${what} after ${open}`;
    }
    case 'resolved':
      return stateText({ ...input, incident: { ...i, state: 'resolved' } }, now);
    case 'released':
      return `🔔 No longer held: still firing, since ${sinceText(i.startedAt, tz, now)}`;
    case 'flapping':
      return '🔁 Flapping: its alert keeps changing state; changes are held until it is stable';
    case 'stable':
      return '🟢 Stable again: changes are told again';
    case 'remediation':
      return '🛠️ Remediation';
    case 'approval':
      return '🙋 Remediation waits for approval';
    case 'silenced':
      return `🔕 Silenced${i.heldBy ? ` (silence ${i.heldBy})` : ''}: nothing more until the silence ends, except its resolution`;
  }
}
