/**
 * The governance half of the store contract (teams, keys, usage), run by `describeStoreContract`
 * against every backend on a real database; budgets and rate counters are in budget-contract.ts.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleLedgerEntry } from '../test-support/ledger-entries.js';
import { type Limits, NO_LIMITS, type TeamRecord } from './governance-types.js';
import type { GatewayStore, VirtualKeyRecord } from './store.js';

export function describeGovernanceContract(
  name: string,
  open: () => Promise<GatewayStore>,
  cleanup: () => Promise<void> | void,
): void {
  describe(`${name}: governance contract`, () => {
    let store: GatewayStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it('creates, lists, reads and updates teams; refuses a duplicate name', async () => {
      const research = sampleTeam('team_r', 'research', { budgetDailyUsd: 50, rpm: 600 });
      const ops = sampleTeam('team_o', 'ops', {}, 2);
      await store.governance.createTeam(research);
      await store.governance.createTeam(ops);
      await expect(store.governance.getTeam('team_r')).resolves.toEqual(research);
      await expect(store.governance.getTeam('team_missing')).resolves.toBeNull();
      await expect(store.governance.listTeams()).resolves.toEqual([research, ops]);
      await expect(store.governance.createTeam({ ...ops, id: 'team_x' })).rejects.toThrow(
        /team named "ops" already exists/,
      );
      const updated = await store.governance.updateTeam('team_r', {
        limits: { budgetDailyUsd: null, budgetMonthlyUsd: 900.5, tpm: 10_000 },
        dataClass: 'private',
      });
      expect(updated).toEqual({
        ...research,
        limits: { ...research.limits, budgetDailyUsd: null, budgetMonthlyUsd: 900.5, tpm: 10_000 },
        dataClass: 'private',
      });
      await expect(store.governance.updateTeam('team_missing', { name: 'x' })).resolves.toBeNull();
      await expect(store.governance.updateTeam('team_o', { name: 'research' })).rejects.toThrow(
        /already exists/,
      );
    });

    it('round-trips every governance field of a key, and a plain key without any', async () => {
      await store.governance.createTeam(sampleTeam('team_r', 'research'));
      const governed: VirtualKeyRecord = {
        ...plainKey('key_g'),
        teamId: 'team_r',
        role: 'team_admin',
        metadata: { owner: 'ana', 'cost-centre': '42 ü' },
        limits: { ...NO_LIMITS, budgetDailyUsd: 0.01, budgetTotalUsd: 12.5, rpm: 3, maxConcurrent: 2 },
        dataClass: 'private',
        createdBy: 'master',
      };
      const plain = plainKey('key_p', 2);
      await store.insertKey(governed);
      await store.insertKey(plain);
      await expect(store.findKeyByHash(governed.hash)).resolves.toEqual(governed);
      await expect(store.governance.getKey('key_p')).resolves.toEqual(plain);
      await expect(store.governance.getKey('key_missing')).resolves.toBeNull();
      await expect(store.governance.listKeys({ teamId: 'team_r' })).resolves.toEqual([governed]);
      await expect(store.governance.listKeys()).resolves.toEqual([governed, plain]);
      const updated = await store.governance.updateKey('key_p', {
        teamId: 'team_r',
        role: 'user',
        limits: { rpm: 5 },
        metadata: { purpose: 'batch' },
        allowedModels: ['local'],
        expiresAtMs: 99_000,
      });
      expect(updated).toEqual({
        ...plain,
        teamId: 'team_r',
        limits: { ...NO_LIMITS, rpm: 5 },
        metadata: { purpose: 'batch' },
        allowedModels: ['local'],
        expiresAtMs: 99_000,
      });
      const cleared = await store.governance.updateKey('key_p', {
        limits: { rpm: null },
        metadata: null,
        teamId: null,
      });
      expect(cleared).toEqual({ ...plain, allowedModels: ['local'], expiresAtMs: 99_000 });
      await expect(store.governance.updateKey('key_p', { teamId: 'team_missing' })).rejects.toThrow(
        /team "team_missing" does not exist/,
      );
      await expect(store.governance.updateKey('key_missing', { name: 'x' })).resolves.toBeNull();
    });

    it('aggregates usage by key, team, model, task and day, with filters', async () => {
      await store.governance.createTeam(sampleTeam('team_r', 'research'));
      await store.insertKey({ ...plainKey('key_a'), teamId: 'team_r' });
      await store.insertKey(plainKey('key_b', 2));
      const day1 = Date.UTC(2026, 2, 15, 10);
      const day2 = Date.UTC(2026, 2, 16, 10);
      const entry = (n: number, overrides: Parameters<typeof sampleLedgerEntry>[1]) =>
        sampleLedgerEntry(n, { requestId: `req_${n}`, attempt: 1, metadata: {}, ...overrides });
      await store.appendLedger('chain-a', [
        entry(0, {
          keyId: 'key_a',
          modelServed: 'm1',
          costUsd: 0.5,
          inputTokens: 10,
          outputTokens: 1,
          startedAtMs: day1,
          metadata: { task: 'sum' },
        }),
        // Two attempts of one request.
        entry(1, {
          requestId: 'req_x',
          keyId: 'key_a',
          modelServed: 'm1',
          costUsd: 0,
          inputTokens: 0,
          outputTokens: 0,
          startedAtMs: day1,
        }),
        entry(2, {
          requestId: 'req_x',
          attempt: 2,
          keyId: 'key_a',
          modelServed: 'm2',
          costUsd: 1.25,
          inputTokens: 20,
          outputTokens: 2,
          startedAtMs: day2,
          metadata: { task: 'sum' },
        }),
        entry(3, {
          keyId: 'key_b',
          modelServed: 'm2',
          costUsd: 0.25,
          inputTokens: 30,
          outputTokens: 3,
          startedAtMs: day2,
          metadata: { task: 'chat' },
        }),
        entry(4, {
          keyId: 'master',
          modelServed: 'm1',
          costUsd: 2,
          inputTokens: 40,
          outputTokens: 4,
          startedAtMs: day2,
        }),
      ]);
      const rows = async (query: Parameters<GatewayStore['governance']['usage']>[0]) =>
        (await store.governance.usage(query)).map((row) => [
          row.group,
          row.requests,
          row.attempts,
          row.inputTokens,
          row.outputTokens,
          row.costUsd,
        ]);
      await expect(rows({ groupBy: 'key' })).resolves.toEqual([
        ['master', 1, 1, 40, 4, 2],
        ['key_a', 2, 3, 30, 3, 1.75],
        ['key_b', 1, 1, 30, 3, 0.25],
      ]);
      await expect(rows({ groupBy: 'team' })).resolves.toEqual([
        [null, 2, 2, 70, 7, 2.25],
        ['team_r', 2, 3, 30, 3, 1.75],
      ]);
      await expect(rows({ groupBy: 'model' })).resolves.toEqual([
        ['m1', 3, 3, 50, 5, 2.5],
        ['m2', 2, 2, 50, 5, 1.5],
      ]);
      await expect(rows({ groupBy: 'task' })).resolves.toEqual([
        [null, 2, 2, 40, 4, 2],
        ['sum', 2, 2, 30, 3, 1.75],
        ['chat', 1, 1, 30, 3, 0.25],
      ]);
      await expect(rows({ groupBy: 'day' })).resolves.toEqual([
        ['2026-03-16', 3, 3, 90, 9, 3.5],
        ['2026-03-15', 2, 2, 10, 1, 0.5],
      ]);
      await expect(rows({ groupBy: 'model', teamId: 'team_r', fromMs: day2 })).resolves.toEqual([
        ['m2', 1, 1, 20, 2, 1.25],
      ]);
      await expect(rows({ groupBy: 'day', keyId: 'key_b', toMs: day2 })).resolves.toEqual([]);
      await expect(rows({ groupBy: 'key', toMs: day2 })).resolves.toEqual([['key_a', 2, 2, 10, 1, 0.5]]);
    });
  });
}

function sampleTeam(id: string, name: string, limits: Partial<Limits> = {}, order = 1): TeamRecord {
  return {
    id,
    name,
    createdAtMs: 1_767_225_600_000 + order,
    limits: { ...NO_LIMITS, ...limits },
    dataClass: null,
  };
}

function plainKey(id: string, order = 1): VirtualKeyRecord {
  return {
    id,
    hash: createHash('sha256').update(`ak-${id}`).digest('hex'),
    name: `key ${id}`,
    createdAtMs: 1_767_225_600_000 + order,
    expiresAtMs: null,
    allowedModels: null,
    revoked: false,
  };
}
