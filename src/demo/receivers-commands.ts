import type { Board, Presser } from './receivers-board.js';

const help = [
  'Commands:',
  '  list                      the messages, numbered, with their buttons',
  '  press <n> <button>        press a button of message n (ack, resolve, silence, not-actionable, or an action id)',
  '  ack <incident>            press Acknowledge on the newest message of that incident',
  '  resolve <incident>        press Resolve on it',
  '  silence <incident>        press Silence on it',
  '  not-actionable <incident> press Not actionable on it (feedback on the rule)',
  '  help                      this',
].join('\n');

/** One line typed into `vigil receivers`; the answer to print (empty: nothing to say). */
export async function runReceiversCommand(
  line: string,
  d: { board: Board; press: Presser; actionIdOf: (name: string) => string },
): Promise<string> {
  const [verb = '', ...args] = line.trim().split(/\s+/);
  switch (verb.toLowerCase()) {
    case '':
      return '';
    case 'help':
    case '?':
      return help;
    case 'list': {
      const entries = d.board.entries();
      if (!entries.length) return 'no messages yet';
      return entries
        .map(({ n, message, buttons }) => {
          const text = (message.text ?? '').split('\n')[0] ?? '';
          const list = buttons.map((b) => b.label).join(' · ') || 'no buttons';
          return `[${n}] ${message.channel}: ${text}\n     ${list}`;
        })
        .join('\n');
    }
    case 'press': {
      const n = Number(args[0]);
      if (!Number.isInteger(n) || !args[1]) return 'usage: press <n> <button>, e.g. press 1 ack';
      return d.press(n, d.actionIdOf(args[1]));
    }
    case 'ack':
    case 'resolve':
    case 'silence':
    case 'not-actionable': {
      const incident = args[0]?.replace(/^#/, '');
      if (!incident) return `usage: ${verb} <incident>, e.g. ${verb} 12`;
      const actionId = d.actionIdOf(verb);
      const entry = d.board.forIncident(incident, actionId);
      if (!entry) return `no message of incident #${incident} offers that button now`;
      return d.press(entry.n, actionId, incident);
    }
    default:
      return `unknown command "${verb}"; help lists them`;
  }
}
