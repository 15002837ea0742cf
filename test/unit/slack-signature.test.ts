import { describe, expect, it } from 'vitest';
import { SlackPayloadError, slackActionJobs } from '../../src/api/slack-actions.js';
import { signSlackRequest, verifySlackSignature } from '../../src/api/slack-signature.js';

// Slack's own worked example (api.slack.com/authentication/verifying-requests-from-slack).
const slackExample = {
  signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  rawBody:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};
const atExample = Number(slackExample.timestamp) * 1000;

describe('Slack v0 signatures', () => {
  it("signs like Slack's worked example and accepts it", () => {
    const { signingSecret, timestamp, rawBody } = slackExample;
    expect(signSlackRequest(signingSecret, timestamp, rawBody)).toBe(slackExample.signature);
    expect(verifySlackSignature({ ...slackExample, nowMs: atExample })).toBeUndefined();
  });

  it('refuses a changed body, another secret, a truncated or non-hex signature', () => {
    const check = (over: Partial<typeof slackExample>) =>
      verifySlackSignature({ ...slackExample, ...over, nowMs: atExample });
    expect(check({ rawBody: `${slackExample.rawBody}&x=1` })).toBe('bad signature');
    expect(check({ signingSecret: 'another-secret' })).toBe('bad signature');
    expect(check({ signature: slackExample.signature.slice(0, -2) })).toBe('bad signature');
    expect(check({ signature: `v0=${'z'.repeat(64)}` })).toBe('bad signature');
    expect(check({ signature: `v1=${slackExample.signature.slice(3)}` })).toBe('bad signature');
  });

  it('accepts 5 minutes either way and refuses beyond, or a timestamp that is not a number', () => {
    const at = (nowMs: number, timestamp = slackExample.timestamp) =>
      verifySlackSignature({ ...slackExample, timestamp, nowMs });
    expect(at(atExample + 300_000)).toBeUndefined();
    expect(at(atExample - 300_000)).toBeUndefined();
    expect(at(atExample + 301_000)).toBe('stale timestamp');
    expect(at(atExample - 301_000)).toBe('stale timestamp');
    expect(at(atExample, '1531420618.5')).toBe('stale timestamp');
  });

  it('refuses a request without its headers', () => {
    expect(verifySlackSignature({ ...slackExample, signature: undefined })).toBe('missing headers');
    expect(verifySlackSignature({ ...slackExample, timestamp: '' })).toBe('missing headers');
  });
});

describe('interaction payload → action jobs', () => {
  const press = (actions: unknown[], extra: Record<string, unknown> = {}) => ({
    type: 'block_actions',
    user: { id: 'U1', username: 'alice', name: 'alice' },
    trigger_id: '1.2.abc',
    response_url: 'https://hooks.slack.com/actions/T/1/x',
    actions,
    ...extra,
  });

  it('makes one job per Vigil button with the Slack user as actor, the same id for the same press', () => {
    const payload = press([
      { action_id: 'vigil_ack', value: '12', action_ts: '1.000001' },
      { action_id: 'vigil_open', action_ts: '1.000002' },
      { action_id: 'vigil_approve', value: '12:run-7', action_ts: '1.000003' },
    ]);
    const jobs = slackActionJobs(payload, 5);
    expect(jobs.map((j) => j.data)).toEqual([
      {
        action: 'ack',
        incidentId: '12',
        actor: { name: 'alice', via: 'slack', id: 'U1' },
        receivedAt: 5,
        responseUrl: 'https://hooks.slack.com/actions/T/1/x',
      },
      expect.objectContaining({ action: 'approve', incidentId: '12', runId: 'run-7' }),
    ]);
    expect(slackActionJobs(payload, 6).map((j) => j.id)).toEqual(jobs.map((j) => j.id));
    for (const j of jobs) expect(j.id).not.toContain(':');
  });

  it('ignores what is not a button press', () => {
    expect(slackActionJobs({ type: 'view_submission', user: { id: 'U1' } })).toEqual([]);
  });

  it('refuses a payload that names no incident, or no user, saying which field', () => {
    const error = (payload: unknown) => {
      try {
        slackActionJobs(payload);
      } catch (err) {
        expect(err).toBeInstanceOf(SlackPayloadError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(error(press([{ action_id: 'vigil_ack', value: '1; DROP TABLE x' }]))).toMatch(
      /^actions\.0\.value: an incident id/,
    );
    expect(error(press([{ action_id: 'vigil_reject', value: '12' }]))).toMatch(/run id is missing/);
    expect(error(press([{ action_id: 'vigil_ack', value: '12' }], { user: undefined }))).toMatch(/^user:/);
    expect(error({ type: 'block_actions', user: { id: 'U1' }, actions: 'x' })).toMatch(/^actions:/);
    expect(error('nope')).toMatch(/^payload:/);
  });
});
