/**
 * Budgets and rate counters on SQLite: the read-check-write steps that sqlite-governance.ts runs,
 * each inside the shared BEGIN IMMEDIATE transaction of its event-loop turn (sqlite-group-commit.ts)
 * and its own savepoint. The PostgreSQL counterpart is postgres-budgets.ts.
 */
import type Database from 'better-sqlite3';
import { minuteStartMs, windowResetMs, windowStartMs } from '../budget-windows.js';
import { EPSILON_USD, rateRefusal, uniqueScopes } from '../governance-shared.js';
import {
  BUDGET_WINDOWS,
  type BudgetScope,
  type RateRequest,
  type RateResult,
  type ReserveRequest,
  type ReserveResult,
  type SettleRequest,
} from '../governance-types.js';
import { readNumber, type SqlValue } from './sqlite-rows.js';

/** The store's prepared statement for `sql`, compiled once. */
export type Prepare = <P extends unknown[] = unknown[], R = unknown>(sql: string) => Database.Statement<P, R>;

export function reserveLocked(statement: Prepare, request: ReserveRequest): ReserveResult {
  const spentOf = statement<[string, string, string, number], Record<'spent_usd', SqlValue>>(
    'SELECT spent_usd FROM budget_spend WHERE scope_kind = ? AND scope_id = ? AND budget_window = ? ' +
      'AND window_start_ms = ?',
  );
  const reservedOf = statement<[string, string, number], Record<'reserved', SqlValue>>(
    'SELECT COALESCE(SUM(amount_usd), 0) AS reserved FROM budget_reservations ' +
      'WHERE scope_kind = ? AND scope_id = ? AND expires_at_ms > ?',
  );
  for (const check of request.checks) {
    const start = windowStartMs(check.window, request.nowMs);
    const spentRow = spentOf.get(check.scopeKind, check.scopeId, check.window, start);
    const spentUsd = spentRow ? readNumber(spentRow, 'spent_usd') : 0;
    const reservedRow = reservedOf.get(check.scopeKind, check.scopeId, request.nowMs);
    const reservedUsd = reservedRow ? readNumber(reservedRow, 'reserved') : 0;
    if (spentUsd + reservedUsd + request.amountUsd > check.limitUsd + EPSILON_USD) {
      return {
        ok: false,
        scopeKind: check.scopeKind,
        scopeId: check.scopeId,
        window: check.window,
        limitUsd: check.limitUsd,
        spentUsd,
        reservedUsd,
        resetsAtMs: windowResetMs(check.window, request.nowMs),
      };
    }
  }
  const sweep = statement(
    'DELETE FROM budget_reservations WHERE scope_kind = ? AND scope_id = ? AND expires_at_ms <= ?',
  );
  // The sweep above drops this id's row too when it expired, so an addition never revives it.
  const insert = statement(
    'INSERT INTO budget_reservations (id, scope_kind, scope_id, amount_usd, expires_at_ms) ' +
      'VALUES (?, ?, ?, ?, ?) ON CONFLICT (id, scope_kind, scope_id) DO UPDATE SET ' +
      'amount_usd = amount_usd + excluded.amount_usd, expires_at_ms = excluded.expires_at_ms',
  );
  for (const scope of uniqueScopes([...request.scopes, ...request.checks])) {
    sweep.run(scope.scopeKind, scope.scopeId, request.nowMs);
    insert.run(request.reservationId, scope.scopeKind, scope.scopeId, request.amountUsd, request.expiresAtMs);
  }
  return { ok: true };
}

export function settleLocked(statement: Prepare, request: SettleRequest): void {
  const { keep } = request;
  if (keep && keep.amountUsd > 0) {
    statement('UPDATE budget_reservations SET amount_usd = ?, expires_at_ms = ? WHERE id = ?').run(
      keep.amountUsd,
      keep.expiresAtMs,
      request.reservationId,
    );
  } else {
    statement('DELETE FROM budget_reservations WHERE id = ?').run(request.reservationId);
  }
  if (request.actualUsd === 0) return;
  const add = statement(
    'INSERT INTO budget_spend (scope_kind, scope_id, budget_window, window_start_ms, spent_usd) ' +
      'VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope_kind, scope_id, budget_window, window_start_ms) ' +
      'DO UPDATE SET spent_usd = spent_usd + excluded.spent_usd',
  );
  for (const scope of uniqueScopes(request.scopes)) {
    for (const window of BUDGET_WINDOWS) {
      add.run(
        scope.scopeKind,
        scope.scopeId,
        window,
        windowStartMs(window, request.nowMs),
        request.actualUsd,
      );
    }
  }
}

export function rateLocked(statement: Prepare, request: RateRequest): RateResult {
  const minute = minuteStartMs(request.nowMs);
  const count = request.requests ?? 1;
  const select = statement<[string, string, number], Record<'requests' | 'tokens', SqlValue>>(
    'SELECT requests, tokens FROM rate_counters WHERE scope_kind = ? AND scope_id = ? AND minute_start_ms = ?',
  );
  for (const check of request.checks) {
    const row = select.get(check.scopeKind, check.scopeId, minute);
    const requests = row ? readNumber(row, 'requests') : 0;
    const tokens = row ? readNumber(row, 'tokens') : 0;
    const refused = rateRefusal(check, { requests, tokens }, { requests: count, tokens: request.tokens });
    if (refused) return { ok: false, ...refused, resetsAtMs: minute + 60_000 };
  }
  for (const check of request.checks) addRate(statement, check, count, request.tokens, minute);
  return { ok: true };
}

export function addRate(
  statement: Prepare,
  scope: BudgetScope,
  requests: number,
  tokens: number,
  minute: number,
): void {
  statement(
    'INSERT INTO rate_counters (scope_kind, scope_id, minute_start_ms, requests, tokens) ' +
      'VALUES (?, ?, ?, ?, MAX(0, ?)) ON CONFLICT (scope_kind, scope_id, minute_start_ms) ' +
      'DO UPDATE SET requests = requests + excluded.requests, tokens = MAX(0, tokens + ?)',
  ).run(scope.scopeKind, scope.scopeId, minute, requests, tokens, tokens);
  // Counters older than the previous minute are never read again.
  statement('DELETE FROM rate_counters WHERE scope_kind = ? AND scope_id = ? AND minute_start_ms < ?').run(
    scope.scopeKind,
    scope.scopeId,
    minute - 60_000,
  );
}
