import { ErrorCode, WebClient } from '@slack/web-api';
import type { VigilConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { slackLogger } from './slack.js';

type TargetsConfig = Pick<VigilConfig, 'targets' | 'slack' | 'email'>;

/**
 * Why a target may not get its page. `unreachable`: it cannot (no such channel, bot not in it,
 * malformed address). `unchecked`: nobody could tell (Slack did not answer, the token may not
 * look): worth a warning, not a verdict.
 */
export interface TargetProblem {
  target: string;
  verdict: 'unreachable' | 'unchecked';
  problem: string;
}

export const describeTargetProblem = (p: TargetProblem): string =>
  p.verdict === 'unreachable'
    ? `target "${p.target}" cannot be paged: ${p.problem}`
    : `could not check target "${p.target}": ${p.problem}`;

const atext = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const dnsLabel = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
// RFC 5322's dot-atom on both sides (no quoted local parts, no address literals): what mail servers take.
const addressPattern = new RegExp(`^${atext}(?:\\.${atext})*@${dnsLabel}(?:\\.${dnsLabel})*$`);

/** `bob@example.com` or `Bob <bob@example.com>`, as nodemailer takes them. */
export function wellFormedAddress(text: string): boolean {
  const address = /^[^<>]*<([^<>]+)>$/.exec(text.trim())?.[1] ?? text.trim();
  return address.length <= 254 && addressPattern.test(address);
}

type Finding = Omit<TargetProblem, 'target'>;

const invite = 'invite the bot with /invite @vigil';

/** What a failed Slack call means for a target: a problem to report, or nobody could tell. */
function slackFailure(err: unknown, what: string): Finding {
  const e = err as { code?: string; data?: { error?: string; needed?: string } };
  const error = e.code === ErrorCode.PlatformError ? e.data?.error : undefined;
  if (error === 'channel_not_found')
    return { verdict: 'unreachable', problem: `${what} not found (check the id; ${invite})` };
  if (error === 'not_in_channel')
    return { verdict: 'unreachable', problem: `the bot is not in ${what} (${invite})` };
  if (error === 'missing_scope')
    return {
      verdict: 'unchecked',
      problem: `the Slack token lacks the ${e.data?.needed ?? 'needed'} scope to look up ${what}`,
    };
  if (error) return { verdict: 'unreachable', problem: `Slack refused to look up ${what}: ${error}` };
  return { verdict: 'unchecked', problem: `Slack did not answer about ${what} (${errorMessage(err)})` };
}

/**
 * Checks every target of vigil.yaml (and the channels' own destinations, `slack` and `email`): the
 * Slack channel exists and has the bot in it, a mentioned user group exists, email addresses are
 * well formed. Returns the problems only; never throws.
 */
export async function checkTargets(config: TargetsConfig, log: Logger): Promise<TargetProblem[]> {
  const slack = config.slack;
  const client =
    slack &&
    new WebClient(slack.token, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: slack.timeout,
      logger: slackLogger(log.child({ component: 'slack-web-api' })),
    });
  const channel = async (id: string): Promise<Finding | undefined> => {
    const what = `Slack channel ${id}`;
    // The config refuses a Slack target without the slack section.
    if (!client) return undefined;
    // conversations.info takes ids only; a name still posts, it just cannot be looked at.
    if (!/^[CGD][A-Z0-9]{2,}$/.test(id))
      return { verdict: 'unchecked', problem: `"${id}" is a channel name; only an id (C…) can be checked` };
    try {
      const res = await client.conversations.info({ channel: id });
      if (res.channel?.is_archived) return { verdict: 'unreachable', problem: `${what} is archived` };
      if (res.channel?.is_member === false)
        return { verdict: 'unreachable', problem: `the bot is not in ${what} (${invite})` };
      return undefined;
    } catch (err) {
      return slackFailure(err, what);
    }
  };
  let groups: Promise<Set<string> | Finding> | undefined;
  const userGroup = async (id: string) => {
    if (!client) return undefined;
    groups ??= client.usergroups.list({}).then(
      (res) => new Set((res.usergroups ?? []).flatMap((g) => [g.id ?? '', g.handle ?? ''])),
      (err: unknown) => slackFailure(err, 'Slack user groups'),
    );
    const known = await groups;
    if (!(known instanceof Set)) return known;
    return known.has(id)
      ? undefined
      : { verdict: 'unreachable' as const, problem: `Slack user group ${id} (mention) not found` };
  };
  const targets: Array<{ name: string; slack?: string; email?: string[]; mention?: string }> = [
    ...(slack ? [{ name: 'slack', slack: slack.channel }] : []),
    ...(config.email ? [{ name: 'email', email: config.email.to }] : []),
    ...Object.entries(config.targets).map(([name, t]) => ({ name, ...t })),
  ];
  const found = await Promise.all(
    targets.map(async (t): Promise<TargetProblem | undefined> => {
      const problems = [
        t.slack === undefined ? undefined : await channel(t.slack),
        t.mention?.startsWith('S') ? await userGroup(t.mention) : undefined,
      ].filter((p) => p !== undefined);
      const bad = (t.email ?? []).filter((a) => !wellFormedAddress(a));
      if (bad.length)
        problems.push({
          verdict: 'unreachable',
          problem: `not a well-formed email address: ${bad.map((a) => JSON.stringify(a)).join(', ')}`,
        });
      if (problems.length === 0) return undefined;
      return {
        target: t.name,
        verdict: problems.some((p) => p.verdict === 'unreachable') ? 'unreachable' : 'unchecked',
        problem: problems.map((p) => p.problem).join('; '),
      };
    }),
  );
  return found.filter((p) => p !== undefined);
}
