/**
 * Budgets and rate counters on PostgreSQL, shared by every gateway instance on the database.
 *
 * A reservation is one call of `autocap_reserve_budget` (postgres-migrations.ts), one statement
 * in its own transaction: it takes a transaction-scoped advisory lock per scope, in a fixed
 * (sorted) order so two requests never wait on each other in a cycle; then, in a snapshot taken
 * after the locks, it reads each checked window's settled spend and the scope's unexpired
 * reservations and inserts the reservation only when every check has room. Two instances
 * reserving against one budget therefore run one at a time for that budget, and each sees what the
 * other reserved; the locks are held for the server-side work and the commit only, never across a
 * client round trip. A settle is one statement (delete the reservation, add the spend), so a
 * reserve never sees the reservation gone without the spend, or the other way round.
 *
 * Reservations and rate counters go through the governance pool, whose sessions run with
 * synchronous_commit off: a commit does not wait for the WAL flush (about 2.5 ms a commit on a
 * local disk, under the lock). What a server crash can lose is the last fraction of a second of
 * reservations and counts, of requests that were in flight; settled spend goes through the main
 * pool, with the server's normal durability.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
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
import { type PostgresRow, readFloat, readInteger } from './postgres-rows.js';

export interface BudgetTables {
  readonly spend: string;
  readonly reservations: string;
  readonly rates: string;
  /** `autocap_reserve_budget`, qualified with the store's schema. */
  readonly reserveFunction: string;
  /** Keeps instances on different schemas of one server from sharing locks. */
  readonly lockNamespace: string;
}

/** BEGIN, then the advisory locks of `scopes` (sorted), in one round trip (integers only). */
async function beginLocked(
  client: pg.PoolClient,
  tables: BudgetTables,
  scopes: readonly BudgetScope[],
): Promise<void> {
  const locks = lockKeys(tables, scopes).map((key) => `pg_advisory_xact_lock(${key.namespace}, ${key.key})`);
  await client.query(`BEGIN;${locks.length > 0 ? ` SELECT ${locks.join(', ')};` : ''}`);
}

function lockKeys(
  tables: BudgetTables,
  scopes: readonly BudgetScope[],
): { namespace: number; key: number }[] {
  const namespace = int32(`autocap-governance:${tables.lockNamespace}`);
  return uniqueScopes(scopes).map((scope) => ({
    namespace,
    key: int32(`${scope.scopeKind}:${scope.scopeId}`),
  }));
}

/** A named statement: planned once per connection. */
function prepared(
  database: pg.Pool | pg.PoolClient,
  text: string,
  values: unknown[],
): Promise<pg.QueryResult> {
  const name = `autocap_${createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 24)}`;
  return database.query({ name, text, values });
}

/** A 32-bit signed integer from the SHA-256 of `text`: an advisory lock key. */
function int32(text: string): number {
  return createHash('sha256').update(text, 'utf8').digest().readInt32BE(0);
}

export async function reserve(
  database: pg.Pool,
  tables: BudgetTables,
  request: ReserveRequest,
): Promise<ReserveResult> {
  const scopes = uniqueScopes([...request.scopes, ...request.checks]);
  const { checks } = request;
  const locks = lockKeys(tables, scopes);
  const parameters = Array.from({ length: 14 }, (_, index) => `$${index + 1}`).join(', ');
  const state = await prepared(database, `SELECT * FROM ${tables.reserveFunction}(${parameters})`, [
    locks[0]?.namespace ?? 0,
    locks.map((lock) => lock.key),
    checks.map((check) => check.scopeKind),
    checks.map((check) => check.scopeId),
    checks.map((check) => check.window),
    checks.map((check) => windowStartMs(check.window, request.nowMs)),
    checks.map((check) => check.limitUsd),
    request.nowMs,
    request.amountUsd,
    EPSILON_USD,
    request.reservationId,
    request.expiresAtMs,
    scopes.map((scope) => scope.scopeKind),
    scopes.map((scope) => scope.scopeId),
  ]);
  if (readInteger(state.rows[0] ?? {}, 'r_inserted') > 0) return { ok: true };
  // Refused: name the first check without room (the database decided; this only finds which).
  const rows = state.rows.map((row: PostgresRow) => ({
    spentUsd: readFloat(row, 'r_spent_usd'),
    reservedUsd: readFloat(row, 'r_reserved_usd'),
  }));
  const full = checks.findIndex((check, index) => {
    const row = rows[index];
    return (
      row !== undefined && row.spentUsd + row.reservedUsd + request.amountUsd > check.limitUsd + EPSILON_USD
    );
  });
  const index = full === -1 ? 0 : full;
  const check = checks[index] as (typeof checks)[number];
  const row = rows[index] ?? { spentUsd: 0, reservedUsd: 0 };
  return {
    ok: false,
    scopeKind: check.scopeKind,
    scopeId: check.scopeId,
    window: check.window,
    limitUsd: check.limitUsd,
    spentUsd: row.spentUsd,
    reservedUsd: row.reservedUsd,
    resetsAtMs: windowResetMs(check.window, request.nowMs),
  };
}

/** One statement: the reservation goes and the spend arrives in the same commit. */
export async function settle(database: pg.Pool, tables: BudgetTables, request: SettleRequest): Promise<void> {
  const { keep } = request;
  const kept = keep !== undefined && keep.amountUsd > 0;
  if (request.actualUsd === 0 && !kept) {
    await release(database, tables, request.reservationId);
    return;
  }
  const rows = uniqueScopes(request.scopes).flatMap((scope) =>
    BUDGET_WINDOWS.map((window) => ({ ...scope, window, start: windowStartMs(window, request.nowMs) })),
  );
  const reservation = kept
    ? `UPDATE ${tables.reservations} SET amount_usd = $7, expires_at_ms = $8 WHERE id = $1`
    : `DELETE FROM ${tables.reservations} WHERE id = $1`;
  await database.query(
    `WITH reservation AS (${reservation}) ` +
      `INSERT INTO ${tables.spend} AS spend (scope_kind, scope_id, budget_window, window_start_ms, spent_usd) ` +
      'SELECT t.kind, t.id, t.win, t.start, $6 ' +
      'FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS t(kind, id, win, start) ' +
      'ON CONFLICT (scope_kind, scope_id, budget_window, window_start_ms) ' +
      'DO UPDATE SET spent_usd = spend.spent_usd + excluded.spent_usd',
    [
      request.reservationId,
      rows.map((row) => row.scopeKind),
      rows.map((row) => row.scopeId),
      rows.map((row) => row.window),
      rows.map((row) => row.start),
      request.actualUsd,
      ...(kept ? [keep.amountUsd, keep.expiresAtMs] : []),
    ],
  );
}

export async function release(database: pg.Pool, tables: BudgetTables, reservationId: string): Promise<void> {
  await database.query(`DELETE FROM ${tables.reservations} WHERE id = $1`, [reservationId]);
}

/** Begins a transaction (the caller ends it): lock the scopes, read this minute's counters, refuse or count. */
export async function takeRateInTransaction(
  client: pg.PoolClient,
  tables: BudgetTables,
  request: RateRequest,
): Promise<{ readonly result: RateResult; readonly cleanup: boolean }> {
  const checks = [...request.checks].sort((a, b) =>
    `${a.scopeKind}:${a.scopeId}` < `${b.scopeKind}:${b.scopeId}` ? -1 : 1,
  );
  await beginLocked(client, tables, uniqueScopes(checks));
  const minute = minuteStartMs(request.nowMs);
  const requests = request.requests ?? 1;
  const state = await prepared(
    client,
    'SELECT c.ord, COALESCE(r.requests, 0) AS requests, COALESCE(r.tokens, 0) AS tokens ' +
      'FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(kind, id, ord) ' +
      `LEFT JOIN ${tables.rates} r ON r.scope_kind = c.kind AND r.scope_id = c.id AND r.minute_start_ms = $3 ` +
      'ORDER BY c.ord',
    [checks.map((check) => check.scopeKind), checks.map((check) => check.scopeId), minute],
  );
  for (const [index, check] of checks.entries()) {
    const row: PostgresRow = state.rows[index] ?? {};
    const used = { requests: readInteger(row, 'requests'), tokens: readInteger(row, 'tokens') };
    const refused = rateRefusal(check, used, { requests, tokens: request.tokens });
    if (refused) return { result: { ok: false, ...refused, resetsAtMs: minute + 60_000 }, cleanup: false };
  }
  await addRate(client, tables, { scopes: checks, requests, tokens: request.tokens, minute });
  return { result: { ok: true }, cleanup: true };
}

/** Adds to this minute's counters of each scope (tokens may be a negative correction; floor 0). */
export async function addRate(
  database: pg.Pool | pg.PoolClient,
  tables: BudgetTables,
  change: {
    readonly scopes: readonly BudgetScope[];
    readonly requests: number;
    readonly tokens: number;
    readonly minute: number;
  },
): Promise<void> {
  const scopes = uniqueScopes(change.scopes);
  await database.query(
    `INSERT INTO ${tables.rates} AS c (scope_kind, scope_id, minute_start_ms, requests, tokens) ` +
      'SELECT t.kind, t.id, $3, $4, GREATEST(0, $5::bigint) FROM unnest($1::text[], $2::text[]) AS t(kind, id) ' +
      'ON CONFLICT (scope_kind, scope_id, minute_start_ms) ' +
      'DO UPDATE SET requests = c.requests + excluded.requests, tokens = GREATEST(0, c.tokens + $5::bigint)',
    [
      scopes.map((scope) => scope.scopeKind),
      scopes.map((scope) => scope.scopeId),
      change.minute,
      change.requests,
      Math.round(change.tokens),
    ],
  );
}

/** Drops counters older than the previous minute and reservations past their expiry. */
export async function sweep(database: pg.Pool, tables: BudgetTables, nowMs: number): Promise<void> {
  await database.query(`DELETE FROM ${tables.rates} WHERE minute_start_ms < $1`, [
    minuteStartMs(nowMs) - 60_000,
  ]);
  await database.query(`DELETE FROM ${tables.reservations} WHERE expires_at_ms <= $1`, [nowMs]);
}
