/**
 * The budget and rate-counter half of the governance contract: reservations (and leases grown
 * under one id), settlement, windows, and per-minute counters, run against every backend on a real
 * database with injected times, so window boundaries are tested exactly.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BudgetCheck, RateCheck, ReserveRequest } from './governance-types.js';
import type { GatewayStore } from './store.js';

const MAR_15 = Date.UTC(2026, 2, 15, 12, 0, 0);
const MAR_31_LAST_SECOND = Date.UTC(2026, 2, 31, 23, 59, 59);
const APR_1 = Date.UTC(2026, 3, 1);

export function describeBudgetContract(
  name: string,
  open: () => Promise<GatewayStore>,
  cleanup: () => Promise<void> | void,
): void {
  describe(`${name}: budget and rate contract`, () => {
    let store: GatewayStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    const key = { scopeKind: 'key', scopeId: 'key_a' } as const;
    const team = { scopeKind: 'team', scopeId: 'team_r' } as const;
    const check = (scope: typeof key | typeof team, window: BudgetCheck['window'], limitUsd: number) => ({
      ...scope,
      window,
      limitUsd,
    });
    const reserve = (id: string, amountUsd: number, checks: BudgetCheck[], nowMs = MAR_15, ttlMs = 60_000) =>
      store.governance.reserveBudget({
        reservationId: id,
        checks,
        scopes: [key, team],
        amountUsd,
        nowMs,
        expiresAtMs: nowMs + ttlMs,
      } satisfies ReserveRequest);

    it('refuses a reservation that would pass the limit, and says what is spent and reserved', async () => {
      const limit = [check(key, 'total', 1)];
      await expect(reserve('r1', 0.4, limit)).resolves.toEqual({ ok: true });
      await expect(reserve('r2', 0.4, limit)).resolves.toEqual({ ok: true });
      await expect(reserve('r3', 0.4, limit)).resolves.toEqual({
        ok: false,
        scopeKind: 'key',
        scopeId: 'key_a',
        window: 'total',
        limitUsd: 1,
        spentUsd: 0,
        reservedUsd: 0.8,
        resetsAtMs: null,
      });
      // Exactly up to the limit is allowed.
      await expect(reserve('r4', 0.2, limit)).resolves.toEqual({ ok: true });
      await store.governance.releaseBudget('r1');
      await expect(reserve('r5', 0.4, limit)).resolves.toEqual({ ok: true });
    });

    it('settles: the reservation becomes spend in every window of every scope', async () => {
      const limit = [check(key, 'total', 1)];
      await reserve('r1', 0.5, limit);
      await store.governance.settleBudget({
        reservationId: 'r1',
        scopes: [key, team],
        actualUsd: 0.3,
        nowMs: MAR_15,
      });
      for (const scope of [key, team]) {
        const spend = await store.governance.budgetSpend(scope, MAR_15);
        expect(spend.map((row) => [row.window, row.windowStartMs, row.spentUsd])).toEqual([
          ['day', Date.UTC(2026, 2, 15), 0.3],
          ['month', Date.UTC(2026, 2, 1), 0.3],
          ['total', 0, 0.3],
        ]);
      }
      await expect(reserve('r2', 0.7, limit)).resolves.toEqual({ ok: true });
      await expect(reserve('r3', 0.01, limit)).resolves.toMatchObject({
        ok: false,
        spentUsd: 0.3,
        reservedUsd: 0.7,
      });
      // A settle of a reservation that expired (and was swept) still records the spend.
      await store.governance.settleBudget({
        reservationId: 'gone',
        scopes: [key],
        actualUsd: 0.1,
        nowMs: MAR_15,
      });
      const [, , total] = await store.governance.budgetSpend(key, MAR_15);
      expect(total?.spentUsd).toBeCloseTo(0.4, 12);
    });

    it('stops counting a reservation once it expires', async () => {
      const limit = [check(key, 'total', 1)];
      await reserve('crashed', 0.9, limit, MAR_15, 1000);
      await expect(reserve('r2', 0.9, limit, MAR_15 + 999)).resolves.toMatchObject({
        ok: false,
        reservedUsd: 0.9,
      });
      await expect(reserve('r3', 0.9, limit, MAR_15 + 1000)).resolves.toEqual({ ok: true });
    });

    it('resets day and month windows at UTC midnight and on the 1st; total never resets', async () => {
      await store.governance.settleBudget({
        reservationId: 'x',
        scopes: [key],
        actualUsd: 1,
        nowMs: MAR_31_LAST_SECOND,
      });
      await expect(reserve('d1', 0.1, [check(key, 'day', 1)], MAR_31_LAST_SECOND)).resolves.toMatchObject({
        ok: false,
        window: 'day',
        spentUsd: 1,
        resetsAtMs: APR_1,
      });
      // The spend of March 31 counts for all of March, and stops counting on April 1.
      await expect(reserve('m1', 0.1, [check(key, 'month', 1)], MAR_15)).resolves.toMatchObject({
        ok: false,
        window: 'month',
        resetsAtMs: APR_1,
      });
      await expect(
        reserve('d2', 0.1, [check(key, 'day', 1), check(key, 'month', 1)], APR_1),
      ).resolves.toEqual({
        ok: true,
      });
      await expect(
        reserve('t1', 0.1, [check(key, 'total', 1)], APR_1 + 86_400_000 * 400),
      ).resolves.toMatchObject({
        ok: false,
        window: 'total',
        resetsAtMs: null,
      });
    });

    it('checks the team budget and the key budget together', async () => {
      const other = { scopeKind: 'key', scopeId: 'key_b' } as const;
      await store.governance.settleBudget({
        reservationId: 'b',
        scopes: [other, team],
        actualUsd: 0.9,
        nowMs: MAR_15,
      });
      const checks = [check(key, 'total', 10), check(team, 'day', 1)];
      await expect(reserve('r1', 0.2, checks)).resolves.toMatchObject({
        ok: false,
        scopeKind: 'team',
        scopeId: 'team_r',
        window: 'day',
        spentUsd: 0.9,
        resetsAtMs: Date.UTC(2026, 2, 16),
      });
      await expect(reserve('r2', 0.1, checks)).resolves.toEqual({ ok: true });
      await expect(reserve('r3', 0.1, [check(key, 'total', 0.05)])).resolves.toMatchObject({
        ok: false,
        scopeKind: 'key',
      });
    });

    it('grows a live reservation under its id, checking room for the addition only', async () => {
      const limit = [check(key, 'total', 1)];
      await expect(reserve('lease', 0.3, limit)).resolves.toEqual({ ok: true });
      await expect(reserve('other', 0.2, limit)).resolves.toEqual({ ok: true });
      // 0.3 + 0.2 held: the lease may grow by 0.5, not by 0.6.
      await expect(reserve('lease', 0.6, limit)).resolves.toMatchObject({ ok: false, reservedUsd: 0.5 });
      await expect(reserve('lease', 0.5, limit)).resolves.toEqual({ ok: true });
      await expect(reserve('x', 0.01, limit)).resolves.toMatchObject({ ok: false, reservedUsd: 1 });
      // Growing also moves the expiry: the whole lease (0.8) counts past the first expiry.
      await expect(reserve('lease', 0, limit, MAR_15 + 30_000)).resolves.toEqual({ ok: true });
      await expect(reserve('x', 0.3, limit, MAR_15 + 70_000)).resolves.toMatchObject({
        ok: false,
        reservedUsd: 0.8,
      });
      // An expired lease restarts from the addition instead of reviving its old amount.
      await expect(reserve('lease', 0.1, limit, MAR_15 + 200_000)).resolves.toEqual({ ok: true });
      await expect(reserve('x', 0.9, limit, MAR_15 + 200_001)).resolves.toEqual({ ok: true });
    });

    it('settles part of a lease: the spend arrives, the rest stays reserved until it expires', async () => {
      const limit = [check(key, 'total', 1)];
      await reserve('lease', 0.6, limit);
      await store.governance.settleBudget({
        reservationId: 'lease',
        scopes: [key, team],
        actualUsd: 0.25,
        nowMs: MAR_15,
        keep: { amountUsd: 0.35, expiresAtMs: MAR_15 + 120_000 },
      });
      const [, , total] = await store.governance.budgetSpend(key, MAR_15);
      expect(total?.spentUsd).toBeCloseTo(0.25, 12);
      await expect(reserve('x', 0.5, limit, MAR_15 + 90_000)).resolves.toMatchObject({
        ok: false,
        spentUsd: 0.25,
        reservedUsd: 0.35,
      });
      // Keeping nothing drops the reservation.
      await store.governance.settleBudget({
        reservationId: 'lease',
        scopes: [key],
        actualUsd: 0,
        nowMs: MAR_15,
        keep: { amountUsd: 0, expiresAtMs: MAR_15 + 120_000 },
      });
      await expect(reserve('x', 0.75, limit)).resolves.toEqual({ ok: true });
    });

    it("drops a restarted instance's leases by id prefix, and only those", async () => {
      const limit = [check(key, 'total', 1)];
      await reserve('lease:gw-a:1', 0.3, limit);
      await reserve('lease:gw-a:2', 0.3, limit);
      await reserve('lease:gw-ab:1', 0.3, limit);
      // Two reservations of two scopes (key, team) each.
      await expect(store.governance.releaseReservations('lease:gw-a:')).resolves.toBe(4);
      await expect(reserve('x', 0.75, limit)).resolves.toMatchObject({ ok: false, reservedUsd: 0.3 });
      await expect(reserve('x', 0.7, limit)).resolves.toEqual({ ok: true });
      await expect(store.governance.releaseReservations('lease:gw-a:')).resolves.toBe(0);
    });

    it('admits exactly as many concurrent reservations as the budget holds', async () => {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, index) => reserve(`c${index}`, 0.1, [check(team, 'total', 1)])),
      );
      expect(results.filter((result) => result.ok)).toHaveLength(10);
    });

    it('counts requests and tokens per minute, refuses past RPM and TPM, and resets each minute', async () => {
      const minute = Date.UTC(2026, 2, 15, 12, 30);
      const rpm: RateCheck[] = [{ ...key, rpm: 2, tpm: null }];
      const take = (checks: readonly RateCheck[], tokens: number, nowMs: number) =>
        store.governance.takeRateLimit({ checks, tokens, nowMs });
      await expect(take(rpm, 10, minute)).resolves.toEqual({ ok: true });
      await expect(take(rpm, 10, minute + 59_000)).resolves.toEqual({ ok: true });
      await expect(take(rpm, 10, minute + 59_999)).resolves.toEqual({
        ok: false,
        scopeKind: 'key',
        scopeId: 'key_a',
        limit: 'rpm',
        limitValue: 2,
        used: 2,
        resetsAtMs: minute + 60_000,
      });
      await expect(take(rpm, 10, minute + 60_000)).resolves.toEqual({ ok: true });

      const tpm = [{ ...team, rpm: null, tpm: 100 }];
      // A fresh minute admits one request of any size; after that the sum must fit.
      await expect(take(tpm, 150, minute)).resolves.toEqual({ ok: true });
      await expect(take(tpm, 1, minute)).resolves.toMatchObject({ ok: false, limit: 'tpm', used: 150 });
      await expect(take(tpm, 60, minute + 60_000)).resolves.toEqual({ ok: true });
      await store.governance.addTokens([team], 30, minute + 60_000);
      await expect(take(tpm, 20, minute + 60_000)).resolves.toMatchObject({ ok: false, used: 90 });
      await expect(take(tpm, 10, minute + 60_000)).resolves.toEqual({ ok: true });
      // Refused takes count nothing, on any scope.
      const both = [
        { ...key, rpm: 100, tpm: null },
        { ...team, rpm: null, tpm: 100 },
      ];
      await expect(take(both, 5, minute + 60_000)).resolves.toMatchObject({ ok: false, scopeKind: 'team' });
      // Several requests at once (a gateway's lease of the minute): all fit or none is counted.
      const many = [{ ...team, rpm: 10, tpm: 1000 }];
      const later = minute + 120_000;
      const takeMany = (requests: number, tokens: number) =>
        store.governance.takeRateLimit({ checks: many, requests, tokens, nowMs: later });
      await expect(takeMany(8, 400)).resolves.toEqual({ ok: true });
      await expect(takeMany(3, 10)).resolves.toMatchObject({ ok: false, limit: 'rpm', used: 8 });
      await expect(takeMany(2, 700)).resolves.toMatchObject({ ok: false, limit: 'tpm', used: 400 });
      await expect(takeMany(2, 600)).resolves.toEqual({ ok: true });
      // The first-request exemption from TPM is for one request, not a batch.
      await expect(
        store.governance.takeRateLimit({ checks: many, requests: 2, tokens: 5000, nowMs: later + 60_000 }),
      ).resolves.toMatchObject({ ok: false, limit: 'tpm', used: 0 });
      const key2 = [{ ...key, rpm: 2, tpm: null }];
      await expect(take(key2, 0, minute + 60_000)).resolves.toEqual({ ok: true });
      await expect(take(key2, 0, minute + 60_000)).resolves.toMatchObject({ ok: false, used: 2 });
    });
  });
}
