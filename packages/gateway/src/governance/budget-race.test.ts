/**
 * THE RACE: 1,000 concurrent requests on one key with a $1 total budget, spread over two gateway
 * instances that share one PostgreSQL schema (each with its own store, pool and ledger chain).
 * Reservations are atomic across the instances, so the spend admitted stays within the budget plus
 * one request's worst case, and every request refused gets a 429 `budget_exceeded`.
 */
import { writeFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { hashKey } from '../auth/keys.js';
import { NO_LIMITS } from '../store/governance-types.js';
import {
  cleanupPostgres,
  endAdmin,
  freshSchema,
  openTestStore,
} from '../store/postgres/postgres-test-support.js';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { startTestGateway, type TestGateway, testModel } from '../test-support/test-gateway.js';
import { GOVERNANCE_DEFAULTS } from './budget-guard.js';
import { worstCaseCost } from './worst-case.js';

const KEY = 'ak-race-key-with-a-one-dollar-budget';
const REQUESTS = 1000;
const BUDGET_USD = 1;
// testModel prices: $1 per Mtok in, $2 per Mtok out. 10 in + 5,000 out = $0.01001 a request.
const USAGE = { input: 10, output: 5000 };
const ACTUAL_USD = (USAGE.input * 1 + USAGE.output * 2) / 1e6;
const BODY = { model: 'main', max_tokens: 5000, messages: [{ role: 'user', content: 'Race.' }] } as const;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await cleanupPostgres();
});
afterAll(endAdmin);

describe('budgets under concurrency, across two instances on PostgreSQL', () => {
  it('admits at most $1 plus one request of 1,000 concurrent requests on a $1 budget', async () => {
    const fake: FakeUpstream = await startFakeUpstream();
    cleanups.push(() => fake.close());
    // A little latency keeps hundreds of requests in flight at once.
    fake.setDefault({ kind: 'ok', content: 'ok', usage: USAGE, delayMs: 20 });
    const schema = freshSchema();
    const instances: TestGateway[] = [];
    for (const chainId of ['race-a', 'race-b']) {
      const store = await openTestStore(schema, { poolSize: 10 });
      const gateway = await startTestGateway(
        [
          testModel('main', fake.baseUrl, {
            maxConnections: 64,
            timeouts: { connectMs: 5000, firstByteMs: 5000, idleMs: 5000 },
          }),
        ],
        {
          store,
          chainId,
        },
      );
      cleanups.push(() => gateway.close());
      instances.push(gateway);
    }
    const [first, second] = instances as [TestGateway, TestGateway];
    // A brand-new key: its very first requests are the race.
    await first.running.gateway.runtime.store.insertKey({
      id: 'key_race',
      hash: hashKey(KEY),
      name: 'race',
      createdAtMs: 0,
      expiresAtMs: null,
      allowedModels: null,
      revoked: false,
      limits: { ...NO_LIMITS, budgetTotalUsd: BUDGET_USD },
    });

    const agent = new Agent({ connections: REQUESTS, pipelining: 0 });
    cleanups.push(() => agent.close());
    const results = await Promise.all(
      Array.from({ length: REQUESTS }, async (_, index) => {
        const target = index % 2 === 0 ? first : second;
        const response = await fetch(`${target.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify(BODY),
          dispatcher: agent,
        });
        const body = (await response.json()) as { error?: { code?: string; message?: string } };
        return { status: response.status, code: body.error?.code, message: body.error?.message };
      }),
    );
    await Promise.all(instances.map((instance) => instance.running.gateway.runtime.governance.flush()));

    const admitted = results.filter((result) => result.status === 200).length;
    const refused = results.filter((result) => result.status === 429 && result.code === 'budget_exceeded');
    expect(admitted + refused.length).toBe(REQUESTS);
    expect(refused[0]?.message).toMatch(/key race \(key_race\)'s total budget of \$1\.00 is spent/);

    const store = second.running.gateway.runtime.store;
    const ledger = await store.pageLedger({ limit: 10_000 });
    const ledgerUsd = ledger.entries.reduce((sum, entry) => sum + entry.costUsd, 0);
    expect(new Set(ledger.entries.map((entry) => entry.chainId))).toEqual(new Set(['race-a', 'race-b']));
    // One answered entry per admitted request (an attempt that failed under load bills nothing).
    const answered = ledger.entries.filter((entry) => entry.status === 'ok');
    expect(answered).toHaveLength(admitted);
    expect(new Set(answered.map((entry) => entry.requestId)).size).toBe(admitted);
    expect(ledgerUsd).toBeCloseTo(admitted * ACTUAL_USD, 9);
    const [, , total] = await store.governance.budgetSpend(
      { scopeKind: 'key', scopeId: 'key_race' },
      Date.now(),
    );
    expect(total?.spentUsd).toBeCloseTo(ledgerUsd, 9);

    const oneRequestWorstUsd = worstCaseCost(
      BODY,
      [testModel('main', fake.baseUrl)],
      GOVERNANCE_DEFAULTS.defaultMaxOutputTokens,
    ).costUsd;
    expect(ledgerUsd).toBeLessThanOrEqual(BUDGET_USD + oneRequestWorstUsd);
    // The budget is used, not left idle: fewer than two requests' worth remains.
    expect(ledgerUsd).toBeGreaterThan(BUDGET_USD - 2 * oneRequestWorstUsd);
    // Both instances admitted some: the budget really was shared.
    expect(answered.filter((entry) => entry.chainId === 'race-a').length).toBeGreaterThan(0);
    expect(answered.filter((entry) => entry.chainId === 'race-b').length).toBeGreaterThan(0);
    const report = process.env['AUTOCAP_RACE_REPORT'];
    if (report) {
      writeFileSync(
        report,
        JSON.stringify({
          admitted,
          refused: refused.length,
          ledgerUsd,
          settledUsd: total?.spentUsd,
          oneRequestWorstUsd,
        }),
      );
    }
  }, 60_000);
});
