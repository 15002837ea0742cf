import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { auditRows, insertIncident, stateOf } from '../support/oncall.js';
import { quietPeriod } from '../support/quiet.js';
import { insertRun, insertStep } from '../support/remediation-rows.js';

const token = 'api-token-for-tests-0123456789';

let env: TestEnv;
let agent: Agent;

async function api(path: string, init: RequestInit & { json?: unknown; auth?: string | null } = {}) {
  const headers: Record<string, string> = {};
  if (init.auth !== null) headers.authorization = init.auth ?? `Bearer ${token}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${agent.httpUrl}${path}`, {
    ...init,
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  env = await createTestEnv();
  agent = env.agent(env.config({ http: { host: '127.0.0.1', port: 0, apiToken: token } }));
  await agent.start();
}, 60_000);
afterAll(async () => env?.cleanup());

describe('JSON API', () => {
  it('refuses a request without the token, or with a wrong one, with 401 and changes nothing', async () => {
    const id = await insertIncident(env);
    expect((await api('/api/incidents', { auth: null })).status).toBe(401);
    const wrong = await api(`/api/incidents/${id}/ack`, {
      method: 'POST',
      auth: 'Bearer not-the-token-at-all',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatch(/wrong/);
    expect((await api('/api/incidents', { auth: `Basic ${token}` })).status).toBe(401);
    expect(await stateOf(env, id)).toBe('firing');
    const metrics = await (await fetch(`${agent.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/vigil_http_refused_total\{surface="api",reason="wrong-token"\} [1-9]/);
  });

  it('answers bad input with 400 naming the field and the reason', async () => {
    const id = await insertIncident(env);
    const badState = await api('/api/incidents?state=sleeping');
    expect(badState.status).toBe(400);
    expect(badState.body.issues).toEqual([expect.objectContaining({ path: 'query.state' })]);
    const badBody = await api(`/api/incidents/${id}/ack`, {
      method: 'POST',
      json: { by: 42, colour: 'red' },
    });
    expect(badBody.status).toBe(400);
    const paths = (badBody.body.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toContain('body.by');
    expect(JSON.stringify(badBody.body.issues)).toMatch(/colour/);
    const badId = await api('/api/incidents/12abc');
    expect(badId.status).toBe(400);
    expect(badId.body.issues).toEqual([{ path: 'params.id', message: 'must be an incident number' }]);
    const notJson = await fetch(`${agent.httpUrl}/api/incidents/${id}/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"by": ',
    });
    expect(notJson.status).toBe(400);
    expect(await stateOf(env, id)).toBe('firing');
  });

  it('lists incidents and shows one with its timeline', async () => {
    const id = await insertIncident(env, { ruleId: 'listed-rule', title: 'Listed <b>one</b>' });
    const list = await api('/api/incidents?state=firing&rule=listed-rule');
    expect(list.status).toBe(200);
    const incidents = list.body.incidents as { id: string; title: string; startedAt: string }[];
    expect(incidents.map((i) => i.id)).toEqual([id]);
    expect(incidents[0]!.startedAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    const shown = await api(`/api/incidents/${id}`);
    expect(shown.status).toBe(200);
    expect((shown.body.incident as { title: string }).title).toBe('Listed <b>one</b>');
    expect(shown.body.transitions).toEqual([
      expect.objectContaining({ kind: 'opened', to: 'firing', actor: 'test-agent' }),
    ]);
    expect(shown.body).toHaveProperty('deliveries');
    expect(shown.body).toHaveProperty('escalations');
    expect((await api('/api/incidents/987654321')).status).toBe(404);
  });

  it('acknowledges once: audit row with the actor, and a second ack is 409 with no second row', async () => {
    const id = await insertIncident(env);
    const first = await api(`/api/incidents/${id}/ack`, {
      method: 'POST',
      json: { by: 'alice', note: 'looking' },
    });
    expect(first.status).toBe(200);
    expect(first.body.changed).toBe(true);
    expect((first.body.incident as { state: string }).state).toBe('acknowledged');
    const again = await api(`/api/incidents/${id}/ack`, { method: 'POST', json: { by: 'bob' } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/already acknowledged/);
    await quietPeriod();
    const acks = (await auditRows(env, id)).filter((r) => r.to_state === 'acknowledged');
    expect(acks).toEqual([expect.objectContaining({ actor: 'alice (api)', note: 'looking' })]);
    expect(await stateOf(env, id)).toBe('acknowledged');
    const shown = await api(`/api/incidents/${id}`);
    expect((shown.body.transitions as { actor: string }[]).map((t) => t.actor)).toEqual([
      'test-agent',
      'alice (api)',
    ]);
  });

  it('un-acknowledges and resolves, with "api" as the actor when no one is named', async () => {
    const id = await insertIncident(env);
    expect((await api(`/api/incidents/${id}/ack`, { method: 'POST' })).status).toBe(200);
    expect((await api(`/api/incidents/${id}/unack`, { method: 'POST', json: {} })).status).toBe(200);
    expect(await stateOf(env, id)).toBe('firing');
    const resolved = await api(`/api/incidents/${id}/resolve`, {
      method: 'POST',
      json: { note: 'fixed by hand' },
    });
    expect(resolved.status).toBe(200);
    expect(await stateOf(env, id)).toBe('resolved');
    expect((await api(`/api/incidents/${id}/resolve`, { method: 'POST' })).status).toBe(409);
    expect((await api('/api/incidents/987654321/ack', { method: 'POST' })).status).toBe(404);
    const rows = await auditRows(env, id);
    expect(rows.slice(1).map((r) => [r.to_state, r.actor])).toEqual([
      ['acknowledged', 'api (api)'],
      ['firing', 'api (api)'],
      ['resolved', 'api (api)'],
    ]);
    const all = await api('/api/incidents?state=resolved');
    expect((all.body.incidents as { id: string }[]).map((i) => i.id)).toContain(id);
  });
});

describe('silences through the JSON API', () => {
  it('adds, lists and expires a silence, with the author and reason; bad bodies are 400 naming the field', async () => {
    const added = await api('/api/silences', {
      method: 'POST',
      json: {
        matchers: ['rule=api-health', { name: 'host', op: '=~', value: 'db-.*' }],
        for: '2h',
        reason: 'deploy',
        by: 'erin',
      },
    });
    expect(added.status).toBe(201);
    const silence = added.body.silence as { id: string; createdBy: string; state: string; endsAt: string };
    expect(silence).toMatchObject({ createdBy: 'erin (api)', state: 'active', reason: 'deploy' });
    expect(Date.parse(silence.endsAt) - Date.now()).toBeGreaterThan(7_000_000);

    const listed = await api('/api/silences');
    expect((listed.body.silences as { id: string }[]).map((s) => s.id)).toContain(silence.id);

    const bad = [
      [{ matchers: [], for: '1h', reason: 'x' }, 'body.matchers'],
      [{ matchers: ['rule api-health'], for: '1h', reason: 'x' }, 'body.matchers.0'],
      [{ matchers: ['rule=a'], for: 'soon', reason: 'x' }, 'body.for'],
      [{ matchers: ['rule=a'], until: 'tomorrow', reason: 'x' }, 'body.until'],
      [{ matchers: ['rule=a'], for: '1h' }, 'body.reason'],
      [{ matchers: ['rule=a'], reason: 'x' }, 'body.for'],
    ] as const;
    for (const [json, path] of bad) {
      const res = await api('/api/silences', { method: 'POST', json });
      expect([path, res.status]).toEqual([path, 400]);
      expect((res.body.issues as { path: string }[]).map((i) => i.path)).toContain(path);
    }

    const expired = await api(`/api/silences/${silence.id}`, { method: 'DELETE' });
    expect(expired.status).toBe(200);
    expect((expired.body.silence as { state: string }).state).toBe('expired');
    expect((await api(`/api/silences/${silence.id}`, { method: 'DELETE' })).status).toBe(409);
    expect((await api('/api/silences/99999', { method: 'DELETE' })).status).toBe(404);
    const after = await api('/api/silences');
    expect((after.body.silences as { id: string }[]).map((s) => s.id)).not.toContain(silence.id);
  });
});

describe('remediation runs through the JSON API', () => {
  it("shows an incident's runs with their steps, approves and rejects once with who: 200, 404, 409, 400", async () => {
    const id = await insertIncident(env, { ruleId: 'zombie-tasks' });
    const asking = await insertRun(env, id, { state: 'awaiting-approval', entry: 0, minutes: 10 });
    const toReject = await insertRun(env, id, { state: 'awaiting-approval', entry: 1, minutes: 10 });
    const done = await insertRun(env, id, {
      state: 'succeeded',
      entry: 2,
      verified: true,
      outcome: 'reset 3',
    });
    await insertStep(env, done, 1, { name: 'reset', outcome: 'ok', detail: '3 tasks', output: 'ids: 1 2 3' });

    const shown = await api(`/api/incidents/${id}`);
    const runs = shown.body.runs as {
      id: string;
      state: string;
      steps: { name: string; output: string }[];
    }[];
    expect(runs.map((r) => [r.id, r.state])).toEqual([
      [asking, 'awaiting-approval'],
      [toReject, 'awaiting-approval'],
      [done, 'succeeded'],
    ]);
    expect(runs[2]!.steps).toEqual([expect.objectContaining({ name: 'reset', output: 'ids: 1 2 3' })]);

    const unauthorised = await api(`/api/remediation/runs/${asking}/approve`, { method: 'POST', auth: null });
    expect(unauthorised.status).toBe(401);
    const approved = await api(`/api/remediation/runs/${asking}/approve`, {
      method: 'POST',
      json: { by: 'carol' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      changed: true,
      message: `Approved run ${asking} of #${id}`,
      run: { id: asking, state: 'approved', decidedBy: 'carol (api)' },
    });
    const again = await api(`/api/remediation/runs/${asking}/reject`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe(
      `Run ${asking} is not waiting for approval: it is approved (decided by carol (api))`,
    );
    expect((await api(`/api/remediation/runs/${done}/approve`, { method: 'POST' })).status).toBe(409);

    const rejected = await api(`/api/remediation/runs/${toReject}/reject`, { method: 'POST', json: {} });
    expect(rejected.status).toBe(200);
    expect(rejected.body.run).toMatchObject({ state: 'rejected', decidedBy: 'api (api)' });

    expect((await api('/api/remediation/runs/987654321/approve', { method: 'POST' })).status).toBe(404);
    const badId = await api('/api/remediation/runs/12abc/approve', { method: 'POST' });
    expect([badId.status, badId.body.issues]).toEqual([
      400,
      [{ path: 'params.id', message: 'must be a run number' }],
    ]);
    const badBody = await api(`/api/remediation/runs/${toReject}/approve`, {
      method: 'POST',
      json: { by: '', target: 'elsewhere' },
    });
    expect(badBody.status).toBe(400);
    expect(JSON.stringify(badBody.body.issues)).toMatch(/body\.by.*target|target.*body\.by/);
    await quietPeriod();
    const notes = (await auditRows(env, id)).filter((r) => r.kind === 'remediation').map((r) => r.actor);
    expect(notes).toEqual(['carol (api)', 'api (api)']);
  });
});
