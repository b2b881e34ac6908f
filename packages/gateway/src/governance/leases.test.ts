/**
 * Leases of budgets and rate limits against a real SQLite store, with an injected clock: what
 * reaches the store (counted by a wrapper around the real governance store), what is admitted,
 * and that two leases on one budget (two gateway instances) never admit more than it holds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BudgetCheck, GovernanceStore, RateCheck } from '../store/governance-types.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { GatewayStore } from '../store/store.js';
import { AllowanceRefused, AllowanceUnavailable } from './allowance.js';
import { BudgetLease, type LeaseOptions, RateLease } from './leases.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const key = { scopeKind: 'key', scopeId: 'key_a' } as const;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

interface Rig {
  readonly store: GatewayStore;
  readonly calls: string[];
  readonly clock: { ms: number };
  readonly options: (overrides?: Partial<LeaseOptions>) => LeaseOptions;
}

function rig(): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'autocap-leases-'));
  const store = openSqliteStore(join(dir, 'gateway.db'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => void store.close());
  const calls: string[] = [];
  const counted = new Proxy(store.governance, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  }) as GovernanceStore;
  const clock = { ms: T0 };
  return {
    store,
    calls,
    clock,
    options: (overrides = {}) => ({
      store: counted,
      now: () => clock.ms,
      storeTimeoutMs: 500,
      validityMs: 10_000,
      requestTimeoutMs: 30_000,
      ...overrides,
    }),
  };
}

const total = (limitUsd: number): BudgetCheck[] => [{ ...key, window: 'total', limitUsd }];

async function takeAll(lease: BudgetLease | RateLease, needs: readonly (readonly number[])[]) {
  return Promise.all(
    needs.map(async (need) => {
      try {
        await lease.take(need);
        return 'ok';
      } catch (error) {
        if (error instanceof AllowanceRefused) return 'refused';
        if (error instanceof AllowanceUnavailable) return 'unavailable';
        throw error;
      }
    }),
  );
}

async function totalSpent(store: GatewayStore, nowMs: number): Promise<number> {
  const [, , row] = await store.governance.budgetSpend(key, nowMs);
  return row?.spentUsd ?? 0;
}

describe('a budget lease', () => {
  it('admits from its reservation with one store call per growing ask, not one per request', async () => {
    const { options, calls, store, clock } = rig();
    const lease = new BudgetLease('lease_1', total(1000), [key], options());
    // 200 requests of $0.01 arrive together, then 200 more one by one.
    const first = await takeAll(
      lease,
      Array.from({ length: 200 }, () => [0.01]),
    );
    expect(first.every((result) => result === 'ok')).toBe(true);
    for (let i = 0; i < 200; i += 1) await takeAll(lease, [[0.01]]);
    // Asks: $0.01 for the first waiter, then every waiter doubled ($3.98), then grown again.
    expect(calls.filter((call) => call === 'reserveBudget').length).toBeLessThanOrEqual(4);
    // All 400 finish at $0.004 each; one sync moves $1.60 to spend and keeps the rest reserved.
    for (let i = 0; i < 400; i += 1) lease.finish(0.01, 0.004);
    clock.ms += 100;
    await lease.sync(false);
    expect(await totalSpent(store, clock.ms)).toBeCloseTo(1.6, 9);
    // Idle for over a second: what no request uses goes back, and the reservation with it.
    clock.ms += 1500;
    expect(lease.due(clock.ms)).toBe(true);
    await lease.sync(false);
    expect(lease.empty).toBe(true);
    await expect(
      store.governance.reserveBudget({
        reservationId: 'other',
        checks: total(1000),
        scopes: [key],
        amountUsd: 998.4,
        nowMs: clock.ms,
        expiresAtMs: clock.ms + 1000,
      }),
    ).resolves.toEqual({ ok: true });
  });

  it('keeps growing its asks while requests keep coming, and starts small again after an idle second', async () => {
    const { options, store, clock } = rig();
    const asks: number[] = [];
    const spied = new Proxy(store.governance, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'reserveBudget') return typeof value === 'function' ? value.bind(target) : value;
        return (input: { amountUsd: number }) => {
          asks.push(input.amountUsd);
          return value.call(target, input);
        };
      },
    }) as GovernanceStore;
    const lease = new BudgetLease('lease_1', total(1000), [key], options({ store: spied }));
    // A steady key: one $0.01 request every 100 ms for 30 s ($3 in all).
    for (let i = 0; i < 300; i += 1) {
      await takeAll(lease, [[0.01]]);
      clock.ms += 100;
    }
    // Each ask doubles the last ($0.01, $0.02, ... $2.56): nine asks, though they come further
    // and further apart. Restarting at $0.01 whenever asks were over a second apart took 50.
    expect(asks).toHaveLength(9);
    asks.forEach((amount, i) => {
      expect(amount).toBeCloseTo(0.01 * 2 ** i, 9);
    });
    // Two idle seconds, then a burst that outruns the slice: the ask starts from the demand again.
    clock.ms += 2000;
    await lease.sync(false);
    asks.length = 0;
    await takeAll(
      lease,
      Array.from({ length: 300 }, () => [0.01]),
    );
    expect(asks[0]).toBeLessThan(0.02);
  });

  it('never asks for more than a sixteenth of the limit at once, yet uses the last cent', async () => {
    const { options, calls } = rig();
    const lease = new BudgetLease('lease_1', total(1), [key], options());
    const results = await takeAll(
      lease,
      Array.from({ length: 150 }, () => [0.01]),
    );
    // $1 holds 100 requests of $0.01: exactly 100 are admitted, the rest refused.
    expect(results.filter((result) => result === 'ok')).toHaveLength(100);
    expect(results.filter((result) => result === 'refused')).toHaveLength(50);
    const asks = calls.filter((call) => call === 'reserveBudget').length;
    // At most $0.0625 an ask: at least 16 asks; refusals after the first come from memory.
    expect(asks).toBeGreaterThanOrEqual(16);
    expect(asks).toBeLessThan(40);
  });

  it('admits no more than the budget across two leases on one store (two instances)', async () => {
    const { options, store, clock } = rig();
    const a = new BudgetLease('lease_a', total(1), [key], options());
    const b = new BudgetLease('lease_b', total(1), [key], options());
    const worst = 0.010027;
    const results = await Promise.all([
      takeAll(
        a,
        Array.from({ length: 500 }, () => [worst]),
      ),
      takeAll(
        b,
        Array.from({ length: 500 }, () => [worst]),
      ),
    ]);
    const admitted = results.flat().filter((result) => result === 'ok').length;
    // 99 × $0.010027 = $0.9927 ≤ $1 < 100 × $0.010027; leftovers in each lease are each < one request.
    expect(admitted).toBeLessThanOrEqual(99);
    expect(admitted).toBeGreaterThanOrEqual(98);
    for (const [lease, result] of [
      [a, results[0]],
      [b, results[1]],
    ] as const) {
      for (const outcome of result ?? []) if (outcome === 'ok') lease.finish(worst, worst);
      await lease.sync(true);
    }
    expect(await totalSpent(store, clock.ms)).toBeCloseTo(admitted * worst, 9);
    expect(a.empty && b.empty).toBe(true);
  });

  it('charges a request that cost more than its worst case once, in spend, not again in the lease', async () => {
    const { options, store, clock } = rig();
    const lease = new BudgetLease('lease_1', total(1), [key], options());
    await takeAll(lease, [[0.05]]);
    // An upstream that ignored max_tokens: $0.30 against a worst case of $0.05.
    lease.finish(0.05, 0.3);
    await lease.sync(false);
    expect(await totalSpent(store, clock.ms)).toBeCloseTo(0.3, 9);
    // $0.70 is left, and all of it can be taken: the overrun is not owed a second time.
    await expect(takeAll(lease, [[0.7]])).resolves.toEqual(['ok']);
    clock.ms += 100;
    await expect(takeAll(lease, [[0.01]])).resolves.toEqual(['refused']);
  });

  it('stops spending from a lease it could not renew, and says the store is unavailable', async () => {
    const { options, clock } = rig();
    let failing = false;
    const base = options();
    const flaky: GovernanceStore = new Proxy(base.store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          failing ? Promise.reject(new Error('connection refused')) : value.apply(target, args);
      },
    });
    const lease = new BudgetLease('lease_1', total(100), [key], { ...base, store: flaky });
    await takeAll(
      lease,
      Array.from({ length: 50 }, () => [0.01]),
    );
    failing = true;
    // Within its validity, the lease still admits from what it holds, store or no store.
    expect(lease.take([0.01])).toBeUndefined();
    clock.ms += 10_000;
    await expect(takeAll(lease, [[0.01]])).resolves.toEqual(['unavailable']);
    await expect(lease.sync(true)).rejects.toThrow(/connection refused/);
    failing = false;
    await expect(takeAll(lease, [[0.01]])).resolves.toEqual(['ok']);
  });

  it('gives a waiting request up after the store timeout when the store hangs', async () => {
    const { options } = rig();
    const base = options({ storeTimeoutMs: 50 });
    const hanging: GovernanceStore = { ...base.store, reserveBudget: () => new Promise(() => {}) };
    const lease = new BudgetLease('lease_1', total(1), [key], { ...base, store: hanging });
    await expect(takeAll(lease, [[0.01], [0.01]])).resolves.toEqual(['unavailable', 'unavailable']);
  });
});

describe('a rate lease', () => {
  const rate = (rpm: number | null, tpm: number | null): RateCheck[] => [{ ...key, rpm, tpm }];

  it('holds an RPM limit exactly, one minute at a time', async () => {
    const { options, clock } = rig();
    const lease = new RateLease(rate(10, null), options());
    const results = await takeAll(
      lease,
      Array.from({ length: 25 }, () => [1, 5]),
    );
    expect(results.filter((result) => result === 'ok')).toHaveLength(10);
    clock.ms += 60_000;
    const next = await takeAll(
      lease,
      Array.from({ length: 12 }, () => [1, 5]),
    );
    expect(next.filter((result) => result === 'ok')).toHaveLength(10);
  });

  it('counts completion tokens in the store once they pass what was counted ahead', async () => {
    const { options, store, clock } = rig();
    const lease = new RateLease(rate(null, 1000), options());
    await takeAll(lease, [[1, 100]]);
    lease.correct(500, clock.ms);
    expect(lease.due(clock.ms)).toBe(true);
    await lease.sync();
    // 600 counted (plus any ahead); a request of 500 more no longer fits in the store's count.
    await expect(
      store.governance.takeRateLimit({ checks: rate(null, 1000), tokens: 500, nowMs: clock.ms }),
    ).resolves.toMatchObject({ ok: false, limit: 'tpm' });
    // A negative correction from a past minute does not free this minute's tokens.
    clock.ms += 60_000;
    await takeAll(lease, [[1, 100]]);
    lease.correct(-100, clock.ms - 60_000);
    expect(lease.due(clock.ms)).toBe(false);
  });
});
