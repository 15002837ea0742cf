import type { EmulatedMessage } from './slack-emulator.js';

/** A button of a message as the receivers show it: what pressing it sends. */
export interface BoardButton {
  actionId: string;
  value: string | undefined;
  label: string;
}

/** A top-level message with the number people type (`press 3 ack`) and its latest buttons. */
export interface BoardEntry {
  n: number;
  message: EmulatedMessage;
  buttons: BoardButton[];
}

/** Presses one button of a numbered message; what the agent answered, in words. */
export type Presser = (n: number, actionId: string, value?: string) => Promise<string>;

/** Short names for Vigil's buttons, so `press 3 ack` works as well as `press 3 vigil_ack`. */
const shortNames: Record<string, string> = {
  ack: 'vigil_ack',
  resolve: 'vigil_resolve',
  silence: 'vigil_silence',
  'not-actionable': 'vigil_not_actionable',
};

export function actionIdOf(name: string): string {
  return shortNames[name.toLowerCase()] ?? name;
}

/** The buttons in a message's blocks and its attachments' blocks (Block Kit `actions` elements). */
export function buttonsOf(message: Pick<EmulatedMessage, 'blocks' | 'attachments'>): BoardButton[] {
  const blocks = [
    ...asList(message.blocks),
    ...asList(message.attachments).flatMap((a) => asList((a as { blocks?: unknown }).blocks)),
  ];
  const buttons: BoardButton[] = [];
  for (const block of blocks) {
    const b = block as { type?: unknown; elements?: unknown };
    if (b.type !== 'actions') continue;
    for (const el of asList(b.elements)) {
      const e = el as {
        type?: unknown;
        action_id?: unknown;
        value?: unknown;
        text?: { text?: unknown };
        url?: unknown;
      };
      if (e.type !== 'button' || typeof e.action_id !== 'string' || e.url !== undefined) continue;
      buttons.push({
        actionId: e.action_id,
        value: typeof e.value === 'string' ? e.value : undefined,
        label: typeof e.text?.text === 'string' ? e.text.text : e.action_id,
      });
    }
  }
  return buttons;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/** Numbers the emulator's top-level messages in the order they arrived. */
export class Board {
  readonly #numbers = new Map<string, number>();

  constructor(private readonly messages: () => EmulatedMessage[]) {}

  /** The message's number, handing out the next one the first time it is seen. */
  numberOf(channel: string, ts: string): number {
    const key = `${channel}/${ts}`;
    let n = this.#numbers.get(key);
    if (n === undefined) {
      n = this.#numbers.size + 1;
      this.#numbers.set(key, n);
    }
    return n;
  }

  entries(): BoardEntry[] {
    return this.messages()
      .map((message) => ({
        n: this.numberOf(message.channel, message.ts),
        message,
        buttons: buttonsOf(message),
      }))
      .sort((a, b) => a.n - b.n);
  }

  entry(n: number): BoardEntry | undefined {
    return this.entries().find((e) => e.n === n);
  }

  /** The newest message offering this button for this incident (its value is the incident id). */
  forIncident(incident: string, actionId: string): BoardEntry | undefined {
    return this.entries()
      .reverse()
      .find((e) => e.buttons.some((b) => b.actionId === actionId && b.value === incident));
  }
}
