/**
 * Budgets, limits and data classes end to end: a real gateway (SQLite) driven by the official
 * `openai` SDK with virtual keys that carry budgets, against fake upstreams with fixed usage.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NO_LIMITS } from '../store/governance-types.js';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { startTestGateway, type TestGateway, testModel } from '../test-support/test-gateway.js';
import { insertTestKey } from '../test-support/test-keys.js';

let rented: FakeUpstream;
let owned: FakeUpstream;
let gateway: TestGateway;

// testModel prices: $1 per Mtok in, $2 per Mtok out; 10 in + 1,000 out = $0.00201 a request.
const USAGE = { input: 10, output: 1000 };
const ask = (model = 'main') => ({
  model,
  max_tokens: 1000,
  messages: [{ role: 'user' as const, content: 'Budget me.' }],
});

async function apiError(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error('the request succeeded; expected an API error');
}

/** The next 00:00 UTC, as the 429 spells it. */
function nextUtcMidnight(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1))
    .toISOString()
    .replace('.000Z', 'Z');
}

beforeAll(async () => {
  [rented, owned] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  gateway = await startTestGateway([
    testModel('main', rented.baseUrl),
    testModel('local', owned.baseUrl, { owned: true, fallbacks: ['main'], retries: 0 }),
  ]);
});
afterAll(async () => {
  await gateway.close();
  await Promise.all([rented.close(), owned.close()]);
});
beforeEach(() => {
  for (const fake of [rented, owned]) {
    fake.reset();
    fake.setDefault({ kind: 'ok', content: 'fine', usage: USAGE });
  }
});

const store = () => gateway.running.gateway.runtime.store;

describe('budgets and limits end to end', () => {
  it('refuses a key once its $0.01 daily budget is spent, naming the budget and its reset', async () => {
    const { client } = await insertTestKey(store(), gateway.url, {
      id: 'key_daily',
      limits: { budgetDailyUsd: 0.01 },
    });
    // Worst case $0.00203 a request: four fit in $0.01, the fifth would not.
    for (let index = 0; index < 4; index++) {
      await expect(client.chat.completions.create(ask())).resolves.toMatchObject({
        object: 'chat.completion',
      });
    }
    const refused = await apiError(client.chat.completions.create(ask()));
    expect(refused.status).toBe(429);
    expect(refused.code).toBe('budget_exceeded');
    expect(refused.type).toBe('insufficient_quota');
    expect(refused.message).toContain("key daily (key_daily)'s daily budget of $0.01 is spent");
    expect(refused.message).toContain(`it resets at ${nextUtcMidnight()}`);
    expect(Number(refused.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(rented.requests).toHaveLength(4);
    await gateway.running.gateway.runtime.governance.flush();
    const spend = await store().governance.budgetSpend(
      { scopeKind: 'key', scopeId: 'key_daily' },
      Date.now(),
    );
    expect(spend.find((row) => row.window === 'day')?.spentUsd).toBeCloseTo(4 * 0.00201, 12);
  });

  it("shares a team budget between the team's keys", async () => {
    await store().governance.createTeam({
      id: 'team_research',
      name: 'research',
      createdAtMs: 0,
      limits: { ...NO_LIMITS, budgetDailyUsd: 0.005 },
      dataClass: null,
    });
    const first = await insertTestKey(store(), gateway.url, { id: 'key_r1', teamId: 'team_research' });
    const second = await insertTestKey(store(), gateway.url, { id: 'key_r2', teamId: 'team_research' });
    await first.client.chat.completions.create(ask());
    await second.client.chat.completions.create(ask());
    for (const key of [first, second]) {
      const refused = await apiError(key.client.chat.completions.create(ask()));
      expect(refused.status).toBe(429);
      expect(refused.message).toContain("team research's daily budget of $0.005 is spent");
    }
    await gateway.running.gateway.runtime.governance.flush();
    const [day] = await store().governance.budgetSpend(
      { scopeKind: 'team', scopeId: 'team_research' },
      Date.now(),
    );
    expect(day?.spentUsd).toBeCloseTo(2 * 0.00201, 12);
  });

  it('refuses the request past a requests-per-minute limit', async () => {
    // Three requests inside one UTC minute: wait out the end of a minute first.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
    const { client } = await insertTestKey(store(), gateway.url, { id: 'key_rpm', limits: { rpm: 2 } });
    await client.chat.completions.create(ask());
    await client.chat.completions.create(ask());
    const refused = await apiError(client.chat.completions.create(ask()));
    expect(refused.status).toBe(429);
    expect(refused.code).toBe('rate_limited');
    expect(refused.message).toMatch(
      /key rpm \(key_rpm\)'s limit of 2 requests per minute is reached \(2 this minute\); it resets at \d{4}-\d\d-\d\dT\d\d:\d\d:00Z/,
    );
    expect(rented.requests).toHaveLength(2);
  });

  it('refuses a request past the concurrent-request limit', async () => {
    rented.setDefault({ kind: 'ok', content: 'slow', usage: USAGE, delayMs: 300 });
    const { client } = await insertTestKey(store(), gateway.url, {
      id: 'key_conc',
      limits: { maxConcurrent: 1 },
    });
    const results = await Promise.allSettled([
      client.chat.completions.create(ask()),
      client.chat.completions.create(ask()),
    ]);
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(/limit of 1 concurrent requests/);
    // The slot is given back: the next request passes.
    await expect(client.chat.completions.create(ask())).resolves.toMatchObject({ object: 'chat.completion' });
  });

  it("keeps a private key (or a private team's key) on owned models, whatever it asks", async () => {
    await store().governance.createTeam({
      id: 'team_health',
      name: 'health',
      createdAtMs: 0,
      limits: NO_LIMITS,
      dataClass: 'private',
    });
    const privateKey = await insertTestKey(store(), gateway.url, { id: 'key_private', dataClass: 'private' });
    const teamKey = await insertTestKey(store(), gateway.url, { id: 'key_health', teamId: 'team_health' });
    for (const { client } of [privateKey, teamKey]) {
      const refused = await apiError(client.chat.completions.create(ask('main')));
      expect(refused.status).toBe(403);
      expect(refused.code).toBe('data_class_violation');
      // `local` falls back to the rented `main` for other keys, never for these.
      owned.script([{ kind: 'status', status: 503 }]);
      const failed = await apiError(client.chat.completions.create(ask('local')));
      expect(failed.status).toBeGreaterThanOrEqual(500);
      await expect(client.chat.completions.create(ask('local'))).resolves.toMatchObject({
        choices: [{ message: { content: 'fine' } }],
      });
    }
    expect(rented.requests).toHaveLength(0);
    const ledger = await store().pageLedger({ limit: 1000 });
    const entries = ledger.entries.filter((entry) => ['key_private', 'key_health'].includes(entry.keyId));
    expect(entries.every((entry) => entry.owned && entry.metadata['data_class'] === 'private')).toBe(true);
  });

  it('sends an unbudgeted key straight through, with no budget rows', async () => {
    const { client } = await insertTestKey(store(), gateway.url, { id: 'key_free' });
    await client.chat.completions.create(ask());
    await gateway.running.gateway.runtime.governance.flush();
    const spend = await store().governance.budgetSpend({ scopeKind: 'key', scopeId: 'key_free' }, Date.now());
    expect(spend.every((row) => row.spentUsd === 0)).toBe(true);
  });
});
