/**
 * Two gateway instances on one PostgreSQL behave as one gateway: a key made through one is
 * accepted by the other, and each appends to its own ledger chain, which verifies.
 */
import OpenAI from 'openai';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { hashKey } from '../auth/keys.js';
import {
  cleanupPostgres,
  endAdmin,
  freshSchema,
  openTestStore,
} from '../store/postgres/postgres-test-support.js';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { startTestGateway, type TestGateway, testModel } from '../test-support/test-gateway.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await cleanupPostgres();
});
afterAll(endAdmin);

describe('gateways on PostgreSQL', () => {
  it('share keys and the ledger across instances, one chain each', async () => {
    const fake: FakeUpstream = await startFakeUpstream();
    cleanups.push(() => fake.close());
    fake.setDefault({ kind: 'ok', content: 'shared', usage: { input: 10, output: 5 } });
    const schema = freshSchema();
    const instances: TestGateway[] = [];
    for (const chainId of ['gw-a', 'gw-b']) {
      const store = await openTestStore(schema);
      const gateway = await startTestGateway([testModel('main', fake.baseUrl)], { store, chainId });
      cleanups.push(() => gateway.close());
      instances.push(gateway);
    }
    const [first, second] = instances as [TestGateway, TestGateway];
    await first.running.gateway.runtime.store.insertKey({
      id: 'key_shared',
      hash: hashKey('ak-shared-between-instances'),
      name: 'shared',
      createdAtMs: 0,
      expiresAtMs: null,
      allowedModels: null,
      revoked: false,
    });
    const ask = { model: 'main', messages: [{ role: 'user' as const, content: 'hi' }] };
    for (const gateway of instances) {
      const client = new OpenAI({
        baseURL: `${gateway.url}/v1`,
        apiKey: 'ak-shared-between-instances',
        maxRetries: 0,
      });
      for (let i = 0; i < 3; i++)
        expect((await client.chat.completions.create(ask)).choices[0]?.message.content).toBe('shared');
    }
    // Each instance journals its entries and moves them into the database in batches.
    for (const gateway of instances) await gateway.running.gateway.runtime.ledger.caughtUp();
    const store = second.running.gateway.runtime.store;
    const page = await store.pageLedger({ limit: 100 });
    expect(page.entries.map((entry) => entry.chainId).sort()).toEqual([
      'gw-a',
      'gw-a',
      'gw-a',
      'gw-b',
      'gw-b',
      'gw-b',
    ]);
    expect(page.entries.every((entry) => entry.keyId === 'key_shared')).toBe(true);
    const verified = await store.verifyLedger();
    expect(verified).toMatchObject({ ok: true, entries: 6, chains: 2 });
  });
});
