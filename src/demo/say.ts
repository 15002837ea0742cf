import type { SlackCall } from './slack-emulator.js';

/** One line of a stand-in's story, stamped with the time of day (UTC). */
export const say = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)}  ${line}`);

/** Slack's escaped text (`&lt;`, `&gt;`, `&amp;`) as people read it. */
export const unslack = (t: string) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** A delivered Slack message or update, as a line for people; other calls say nothing. */
export function describeCall(call: SlackCall): string | undefined {
  if (call.status !== 200 || !['chat.postMessage', 'chat.update'].includes(call.method)) return undefined;
  const text = String(call.args.text ?? '').split('\n')[0];
  return `Slack ${call.method}${call.args.thread_ts ? ' (thread reply)' : ''}: ${text}`;
}
