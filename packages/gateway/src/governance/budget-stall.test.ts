/**
 * When the database stalls (here: another session holds the budget tables locked), keys with
 * budgets fail closed with a 503 within `store_timeout_ms`; keys without budgets are served as if
 * nothing happened (they never touch those tables); keys with only rate limits follow
 * `rate_limits_on_store_failure`.
 */
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  adminQuery,
  cleanupPostgres,
  endAdmin,
  freshSchema,
  openTestStore,
  TEST_POSTGRES_URL,
  tableOf,
} from '../store/postgres/postgres-test-support.js';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { startTestGateway, type TestGateway, testModel } from '../test-support/test-gateway.js';
import { insertTestKey } from '../test-support/test-keys.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await cleanupPostgres();
});
afterAll(endAdmin);

const ask = { model: 'main', max_tokens: 100, messages: [{ role: 'user' as const, content: 'hi' }] };

async function setUp(rateLimitsOnStoreFailure: 'open' | 'closed') {
  const fake: FakeUpstream = await startFakeUpstream();
  cleanups.push(() => fake.close());
  const schema = freshSchema();
  const store = await openTestStore(schema);
  const gateway: TestGateway = await startTestGateway([testModel('main', fake.baseUrl)], {
    store,
    governance: { defaultMaxOutputTokens: 4096, storeTimeoutMs: 300, rateLimitsOnStoreFailure },
  });
  cleanups.push(() => gateway.close());
  const keys = {
    budgeted: await insertTestKey(store, gateway.url, { id: 'key_budget', limits: { budgetDailyUsd: 5 } }),
    free: await insertTestKey(store, gateway.url, { id: 'key_free' }),
    limited: await insertTestKey(store, gateway.url, { id: 'key_rpm', limits: { rpm: 1000 } }),
  };
  // Warm the key caches while the database answers.
  for (const key of Object.values(keys)) await key.client.models.list();
  /** Holds the budget tables locked, as a stalled database would, until the returned release. */
  const stall = async (): Promise<() => Promise<void>> => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    await client.query('BEGIN');
    await client.query(
      `LOCK TABLE ${tableOf(schema, 'budget_reservations')}, ${tableOf(schema, 'rate_counters')} IN ACCESS EXCLUSIVE MODE`,
    );
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await client.query('ROLLBACK');
      await client.end();
    };
    cleanups.push(release);
    return release;
  };
  return { gateway, keys, stall, schema };
}

describe('a stalled database', () => {
  it('fails budgeted keys closed with a 503, serves unbudgeted keys, and recovers', async () => {
    const { gateway, keys, stall, schema } = await setUp('closed');
    await keys.budgeted.client.chat.completions.create(ask);
    const release = await stall();
    const started = Date.now();
    await expect(keys.budgeted.client.chat.completions.create(ask)).rejects.toMatchObject({
      status: 503,
      code: 'budget_unavailable',
      message: expect.stringMatching(/cannot check key budget \(key_budget\)'s budget right now/),
    });
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(keys.limited.client.chat.completions.create(ask)).rejects.toMatchObject({ status: 503 });
    await expect(keys.free.client.chat.completions.create(ask)).resolves.toMatchObject({
      object: 'chat.completion',
    });
    await release();
    await expect(keys.budgeted.client.chat.completions.create(ask)).resolves.toMatchObject({
      object: 'chat.completion',
    });
    // The reservation that landed after the 503 was released, not left to count.
    await gateway.running.gateway.runtime.governance.flush();
    const left = await adminQuery(`SELECT count(*)::int AS n FROM ${tableOf(schema, 'budget_reservations')}`);
    expect(left.rows).toEqual([{ n: 0 }]);
  });

  it('admits rate-limited keys without a budget when configured to fail open', async () => {
    const { keys, stall } = await setUp('open');
    await stall();
    await expect(keys.limited.client.chat.completions.create(ask)).resolves.toMatchObject({
      object: 'chat.completion',
    });
    await expect(keys.budgeted.client.chat.completions.create(ask)).rejects.toBeInstanceOf(OpenAI.APIError);
  });
});
