/**
 * The governance admin API over HTTP: teams, keys shown once and stored hashed, the role matrix
 * enforced on every route, and every escalation attempt refused with the key left unchanged.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../auth/keys.js';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { MASTER_KEY, startTestGateway, type TestGateway, testModel } from '../test-support/test-gateway.js';

let fake: FakeUpstream;
let gateway: TestGateway;

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown> & {
    error?: { code: string; message: string; param: string | null };
  };
  readonly headers: Headers;
}

async function call(key: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    body: (await response.json()) as Answer['body'],
    headers: response.headers,
  };
}

const store = () => gateway.running.gateway.runtime.store;

beforeAll(async () => {
  fake = await startFakeUpstream();
  fake.setDefault({ kind: 'ok', content: 'hi', usage: { input: 10, output: 1000 } });
  gateway = await startTestGateway([testModel('main', fake.baseUrl), testModel('other', fake.baseUrl)]);
});
afterAll(async () => {
  await gateway.close();
  await fake.close();
});

describe('admin API', () => {
  let teamId = '';
  let otherTeamId = '';
  let teamAdmin = { id: '', key: '' };
  let user = { id: '', key: '' };

  it('lets the master key create, list, read and update teams', async () => {
    const created = await call(MASTER_KEY, 'POST', '/admin/teams', {
      name: 'research',
      budget_daily_usd: 0.05,
      rpm: 100,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: 'team',
      name: 'research',
      budget_daily_usd: 0.05,
      rpm: 100,
      tpm: null,
    });
    teamId = String(created.body['id']);
    expect(teamId).toMatch(/^team_[0-9a-f]{16}$/);
    otherTeamId = String((await call(MASTER_KEY, 'POST', '/admin/teams', { name: 'ops' })).body['id']);
    expect((await call(MASTER_KEY, 'POST', '/admin/teams', { name: 'ops' })).status).toBe(409);
    const bad = await call(MASTER_KEY, 'POST', '/admin/teams', { name: 'x', budget_daily_usd: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.param).toBe('budget_daily_usd');
    const listed = await call(MASTER_KEY, 'GET', '/admin/teams');
    expect((listed.body['data'] as { name: string }[]).map((team) => team.name)).toEqual(['research', 'ops']);
    const patched = await call(MASTER_KEY, 'PATCH', `/admin/teams/${teamId}`, { budget_monthly_usd: 10 });
    expect(patched.body).toMatchObject({ budget_daily_usd: 0.05, budget_monthly_usd: 10 });
    expect((await call(MASTER_KEY, 'GET', `/admin/teams/${teamId}`)).body['name']).toBe('research');
    expect((await call(MASTER_KEY, 'GET', '/admin/teams/team_missing')).status).toBe(404);
    const wrongMethod = await call(MASTER_KEY, 'DELETE', '/admin/teams');
    expect(wrongMethod.status).toBe(405);
  });

  it('shows a new key once and stores only its hash', async () => {
    const created = await call(MASTER_KEY, 'POST', '/admin/keys', {
      name: 'lead',
      team_id: teamId,
      role: 'team_admin',
      metadata: { owner: 'ana' },
    });
    expect(created.status).toBe(201);
    teamAdmin = { id: String(created.body['id']), key: String(created.body['key']) };
    expect(teamAdmin.key).toMatch(/^ak-/);
    expect(created.body).toMatchObject({ role: 'team_admin', team_id: teamId, created_by: 'master' });
    const stored = await store().governance.getKey(teamAdmin.id);
    expect(stored?.hash).toBe(hashKey(teamAdmin.key));
    const listed = await call(MASTER_KEY, 'GET', '/admin/keys');
    expect(JSON.stringify(listed.body)).not.toContain(teamAdmin.key);
    expect(JSON.stringify(listed.body)).not.toContain(stored?.hash);
  });

  it('lets a team admin make user keys in its team within the team budget, and nothing beyond', async () => {
    const made = await call(teamAdmin.key, 'POST', '/admin/keys', { name: 'worker', budget_daily_usd: 0.02 });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      team_id: teamId,
      role: 'user',
      budget_daily_usd: 0.02,
      created_by: teamAdmin.id,
    });
    user = { id: String(made.body['id']), key: String(made.body['key']) };
    const refusals = [
      { name: 'big', budget_daily_usd: 1 },
      { name: 'boss', role: 'admin' },
      { name: 'elsewhere', team_id: otherTeamId },
      { name: 'teamless', team_id: null },
      { name: 'unlimited', rpm: null },
    ];
    for (const body of refusals) {
      const refused = await call(teamAdmin.key, 'POST', '/admin/keys', body);
      expect(refused.status, JSON.stringify(body)).toBe(403);
      expect(refused.body.error?.code).toBe('permission_denied');
    }
    expect((await call(teamAdmin.key, 'POST', '/admin/teams', { name: 'mine' })).status).toBe(403);
    expect((await call(teamAdmin.key, 'GET', `/admin/teams/${otherTeamId}`)).status).toBe(403);
    expect((await call(teamAdmin.key, 'GET', `/admin/keys?team_id=${otherTeamId}`)).status).toBe(403);
    const listed = await call(teamAdmin.key, 'GET', '/admin/keys');
    expect((listed.body['data'] as { id: string }[]).map((key) => key.id).sort()).toEqual(
      [teamAdmin.id, user.id].sort(),
    );
  });

  it('refuses every escalation through the admin API and leaves the key unchanged', async () => {
    const before = await store().governance.getKey(teamAdmin.id);
    const attempts: [string, unknown, number][] = [
      [teamAdmin.key, { role: 'admin' }, 403],
      [teamAdmin.key, { role: 'user' }, 403],
      [teamAdmin.key, { team_id: otherTeamId }, 403],
      [teamAdmin.key, { budget_daily_usd: 100 }, 403],
      [teamAdmin.key, { allowed_models: null }, 403],
      [teamAdmin.key, { is_master: true }, 400],
      [teamAdmin.key, { created_by: 'master' }, 400],
      [teamAdmin.key, { name: 'ok', isMaster: true }, 400],
      [teamAdmin.key, { hash: 'x' }, 400],
      [user.key, { role: 'admin' }, 403],
      [user.key, { name: 'renamed' }, 403],
    ];
    for (const [key, body, status] of attempts) {
      const target = key === user.key ? user.id : teamAdmin.id;
      const answer = await call(key, 'PATCH', `/admin/keys/${target}`, body);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      if (status === 400) expect(answer.body.error?.message).toMatch(/Unknown field/);
    }
    // A user key cannot raise another key either, nor its own team admin.
    expect((await call(user.key, 'PATCH', `/admin/keys/${teamAdmin.id}`, { name: 'x' })).status).toBe(403);
    expect((await call(user.key, 'POST', '/admin/keys', { name: 'child' })).status).toBe(403);
    expect(await store().governance.getKey(teamAdmin.id)).toEqual(before);
    // What a team admin may change on its own key: its name and metadata.
    const renamed = await call(teamAdmin.key, 'PATCH', `/admin/keys/${teamAdmin.id}`, { name: 'lead-2' });
    expect(renamed.body).toMatchObject({ name: 'lead-2', role: 'team_admin' });
    // And on a key of its team: the budget, within the team's.
    const lowered = await call(teamAdmin.key, 'PATCH', `/admin/keys/${user.id}`, { budget_daily_usd: 0.01 });
    expect(lowered.body).toMatchObject({ budget_daily_usd: 0.01 });
    expect((await call(MASTER_KEY, 'PATCH', '/admin/keys/key_missing', { name: 'x' })).status).toBe(404);
  });

  it('a created key works, within its budget, and stops working once revoked', async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: user.key, maxRetries: 0 });
    const ask = { model: 'main', max_tokens: 1000, messages: [{ role: 'user' as const, content: 'hi' }] };
    // $0.01 daily budget, $0.00203 worst case: four requests fit.
    for (let index = 0; index < 4; index++) await client.chat.completions.create(ask);
    await expect(client.chat.completions.create(ask)).rejects.toMatchObject({
      status: 429,
      code: 'budget_exceeded',
    });
    expect((await call(user.key, 'POST', `/admin/keys/${user.id}/revoke`)).status).toBe(200);
    await expect(client.chat.completions.create(ask)).rejects.toMatchObject({ status: 401 });
  });

  it('scopes usage: a user sees its own, a team admin its team, the master key everything', async () => {
    const own = await call(user.key, 'GET', '/admin/usage?group_by=model');
    expect(own.status).toBe(401); // revoked above
    const made = await call(teamAdmin.key, 'POST', '/admin/keys', { name: 'reader' });
    const reader = String(made.body['key']);
    expect((await call(reader, 'GET', '/admin/usage?group_by=key')).body['data']).toEqual([]);
    expect((await call(reader, 'GET', `/admin/usage?team_id=${teamId}`)).status).toBe(403);
    expect((await call(reader, 'GET', `/admin/usage?key_id=${user.id}`)).status).toBe(403);
    const team = await call(teamAdmin.key, 'GET', '/admin/usage?group_by=key');
    expect(team.body['data']).toEqual([
      {
        group: user.id,
        requests: 4,
        attempts: 4,
        input_tokens: 40,
        output_tokens: 4000,
        cost_usd: expect.closeTo(0.00804, 12),
      },
    ]);
    expect((await call(teamAdmin.key, 'GET', `/admin/usage?team_id=${otherTeamId}`)).status).toBe(403);
    const byTeam = await call(MASTER_KEY, 'GET', '/admin/usage?group_by=team&from=2000-01-01');
    expect(byTeam.body).toMatchObject({
      object: 'list',
      group_by: 'team',
      data: [{ group: teamId, requests: 4 }],
    });
    const bad = await call(MASTER_KEY, 'GET', '/admin/usage?group_by=colour');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.param).toBe('group_by');
    expect((await call(MASTER_KEY, 'GET', '/admin/usage?from=yesterday')).body.error?.param).toBe('from');
  });
});
