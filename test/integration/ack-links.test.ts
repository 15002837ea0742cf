import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent.js';
import { AckLinks, sign } from '../../src/api/ack-links.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { auditRows, insertIncident, stateOf } from '../support/oncall.js';
import { quietPeriod } from '../support/quiet.js';

const secret = randomBytes(32).toString('hex');
const publicUrl = 'https://vigil.example.test/';

let env: TestEnv;
let agent: Agent;
let pool: Pool;
let links: AckLinks;

/** The link's path, asked of the agent (publicUrl names where it would be in production). */
const at = (link: string) => `${agent.httpUrl}${new URL(link).pathname}`;
const page = async (res: Response) => ({ status: res.status, html: await res.text() });
const post = (url: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });

beforeAll(async () => {
  env = await createTestEnv();
  const config = env.config({ http: { host: '127.0.0.1', port: 0, linkSecret: secret }, publicUrl });
  agent = env.agent(config);
  await agent.start();
  pool = createPool(config.database, `vigil test-${env.id}-links`);
  links = new AckLinks({ pool, secret, publicUrl, ttlMs: 3_600_000 });
}, 60_000);
afterAll(async () => {
  await pool?.end();
  await env?.cleanup();
});

describe('email acknowledge links', () => {
  it('GET shows a confirmation page and changes nothing; POST acknowledges once', async () => {
    const id = await insertIncident(env, { title: 'Disk <script>alert(1)</script> full' });
    const link = (await links.create(id)) as string;
    expect(link).toMatch(/^https:\/\/vigil\.example\.test\/ack\/[\w-]+\.[\w-]+$/);

    const shown = await page(await fetch(at(link)));
    expect(shown.status).toBe(200);
    expect(shown.html).toContain(
      `Acknowledge incident #${id} — Disk &lt;script&gt;alert(1)&lt;/script&gt; full?`,
    );
    expect(shown.html).not.toContain('<script>');
    expect(shown.html).toMatch(/<form method="post" action=""><button/);
    await fetch(at(link)); // a mail scanner looking twice
    await quietPeriod();
    expect(await stateOf(env, id)).toBe('firing');
    expect(await auditRows(env, id)).toHaveLength(1);

    const done = await page(await post(at(link)));
    expect(done.status).toBe(200);
    expect(done.html).toMatch(/Acknowledged/);
    const reused = await page(await post(at(link)));
    expect(reused.status).toBe(410);
    expect(reused.html).toMatch(/already been used/);
    await quietPeriod();
    expect(await stateOf(env, id)).toBe('acknowledged');
    const acks = (await auditRows(env, id)).filter((r) => r.to_state === 'acknowledged');
    expect(acks.map((r) => r.actor)).toEqual(['email link (email)']);
  });

  it('of two presses at once, exactly one acknowledges', async () => {
    const id = await insertIncident(env);
    const link = (await links.create(id)) as string;
    const statuses = (await Promise.all([post(at(link)), post(at(link))])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 410]);
    await quietPeriod();
    expect((await auditRows(env, id)).filter((r) => r.to_state === 'acknowledged')).toHaveLength(1);
  });

  it('refuses an expired token, whether its row or its signed expiry says so', async () => {
    const id = await insertIncident(env);
    const lapsed = (await links.create(id, -5000)) as string;
    for (const method of ['GET', 'POST']) {
      const res = await page(await fetch(at(lapsed), { method }));
      expect(res.status).toBe(410);
      expect(res.html).toMatch(/expired/);
    }
    const forged = sign({ i: id, j: 'forged-jti', e: Math.floor(Date.now() / 1000) - 60 }, secret);
    expect((await post(`${agent.httpUrl}/ack/${forged}`)).status).toBe(410);
    await quietPeriod();
    expect(await stateOf(env, id)).toBe('firing');
  });

  it('refuses tampered, foreign and garbage tokens with a page, never a stack trace', async () => {
    const id = await insertIncident(env);
    const other = await insertIncident(env);
    const link = (await links.create(id)) as string;
    const token = new URL(link).pathname.slice('/ack/'.length);
    const [claims, mac] = token.split('.') as [string, string];
    const json = JSON.parse(Buffer.from(claims, 'base64url').toString()) as { i: string };
    const retargeted = `${Buffer.from(JSON.stringify({ ...json, i: other })).toString('base64url')}.${mac}`;
    const foreign = sign(
      { i: id, j: 'x', e: Math.floor(Date.now() / 1000) + 600 },
      'another-secret'.repeat(3),
    );
    const unknownJti = sign({ i: id, j: 'never-issued', e: Math.floor(Date.now() / 1000) + 600 }, secret);
    const cases: [string, number][] = [
      [retargeted, 400],
      [foreign, 400],
      [`${claims}.${mac.slice(0, -2)}`, 400],
      ['garbage', 400],
      ['a.b.c', 400],
      [`${Buffer.from('{"i":').toString('base64url')}.x`, 400],
      [unknownJti, 404],
    ];
    for (const [t, status] of cases) {
      const res = await page(await post(`${agent.httpUrl}/ack/${encodeURIComponent(t)}`));
      expect([t, res.status]).toEqual([t, status]);
      expect(res.html).toMatch(/^<!doctype html>/);
      expect(res.html).not.toMatch(/Error|\bat \S+:\d+/);
    }
    await quietPeriod();
    expect(await stateOf(env, id)).toBe('firing');
    expect(await stateOf(env, other)).toBe('firing');
  });

  it('issues no link without a public URL, and mounts no API without a token', async () => {
    expect(
      await new AckLinks({ pool, secret, publicUrl: undefined, ttlMs: 1000 }).create('1'),
    ).toBeUndefined();
    const res = await fetch(`${agent.httpUrl}/api/incidents`);
    expect(res.status).toBe(404);
  });
});
