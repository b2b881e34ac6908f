/**
 * A gateway that crashed while holding a budget lease leaves its reservation in the store, where it
 * would count until it expires. The next run of the same instance (same ledger chain) drops it
 * before listening, so the budget it held is usable at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { startTestGateway, testModel } from '../test-support/test-gateway.js';
import { insertTestKey } from '../test-support/test-keys.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('a restarted gateway', () => {
  it('drops the leases its crashed run left, and only its own', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'autocap-restart-'));
    cleanups.push(async () => rmSync(folder, { recursive: true, force: true }));
    const sqlitePath = join(folder, 'autocap.db');
    const now = Date.now();
    const day = { scopeKind: 'key', scopeId: 'key_restart', window: 'day', limitUsd: 0.01 } as const;
    const left = openSqliteStore(sqlitePath);
    for (const [reservationId, amountUsd] of [
      // This instance's chain is `main`: its crashed run held $0.006 of the key's $0.01 day.
      ['lease:main:crashed-run', 0.006],
      // Another instance's live lease is not this restart's to drop.
      ['lease:other:live', 0.002],
    ] as const) {
      await left.governance.reserveBudget({
        reservationId,
        checks: [day],
        scopes: [day],
        amountUsd,
        nowMs: now,
        expiresAtMs: now + 600_000,
      });
    }
    await left.close();

    const fake: FakeUpstream = await startFakeUpstream();
    cleanups.push(() => fake.close());
    // testModel prices: $1 per Mtok in, $2 per Mtok out; a worst case of about $0.0020 a request.
    fake.setDefault({ kind: 'ok', content: 'fine', usage: { input: 10, output: 1000 } });
    const gateway = await startTestGateway([testModel('main', fake.baseUrl)], { sqlitePath });
    cleanups.push(() => gateway.close());
    expect(gateway.logs.join('')).toContain('released budget leases left by a previous run');
    const { client } = await insertTestKey(gateway.running.gateway.runtime.store, gateway.url, {
      id: 'key_restart',
      limits: { budgetDailyUsd: 0.01 },
    });
    const ask = { model: 'main', max_tokens: 1000, messages: [{ role: 'user' as const, content: 'Go.' }] };
    // $0.008 is free again ($0.002 stays with the other instance): three requests fit, not four.
    for (let index = 0; index < 3; index++) {
      await expect(client.chat.completions.create(ask)).resolves.toMatchObject({ object: 'chat.completion' });
    }
    await expect(client.chat.completions.create(ask)).rejects.toMatchObject({
      status: 429,
      code: 'budget_exceeded',
    });
  });
});
