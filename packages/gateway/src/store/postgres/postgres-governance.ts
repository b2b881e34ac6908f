/**
 * Governance on the PostgreSQL store: teams, key updates, budgets, rate counters and usage, on the
 * store's own pool, so every gateway instance on the database shares them at once. Budgets and
 * rate counters are in postgres-budgets.ts.
 */
import pg from 'pg';
import { minuteStartMs, windowStartMs } from '../budget-windows.js';
import {
  BUDGET_WINDOWS,
  type BudgetScope,
  type GovernanceStore,
  type KeyPatch,
  type RateRequest,
  type RateResult,
  type ReserveRequest,
  type ReserveResult,
  type SettleRequest,
  type SpendRow,
  type TeamPatch,
  type TeamRecord,
  type UsageQuery,
  type UsageRow,
} from '../governance-types.js';
import type { VirtualKeyRecord } from '../store.js';
import {
  addRate,
  type BudgetTables,
  release,
  reserve,
  settle,
  sweep,
  takeRateInTransaction,
} from './postgres-budgets.js';
import { sqlState } from './postgres-errors.js';
import {
  LIMIT_COLUMNS,
  type PostgresRow,
  readDataClass,
  readFloat,
  readInteger,
  readLimits,
  readText,
  SELECT_KEY_COLUMNS,
  toKeyRecord,
} from './postgres-rows.js';
import { inTransaction } from './postgres-transaction.js';

export interface PostgresGovernanceOptions {
  /** The store's pool: teams, keys, usage and settled spend. */
  readonly pool: pg.Pool;
  /** Where and how the store connects; the governance pool (reservations, rate counters) follows. */
  readonly budgetPool: {
    readonly url: string;
    readonly poolSize: number;
    readonly connectTimeoutMs: number;
    readonly statementTimeoutMs: number;
  };
  /** Qualifies a table name with the store's schema. */
  readonly table: (name: string) => string;
  /** Resolves once the store has migrated. */
  readonly ready: () => Promise<void>;
  readonly lockNamespace: string;
  readonly onConnectionLost: (error: Error) => void;
}

const TEAM_COLUMNS = [
  'id',
  'name',
  'created_at_ms',
  ...LIMIT_COLUMNS.map(([, column]) => column),
  'data_class',
];

/** Usage group expressions: fixed SQL chosen by the group name, never built from input. */
const GROUP_SQL: Readonly<Record<UsageQuery['groupBy'], string>> = {
  key: 'l.key_id',
  team: 'k.team_id',
  model: 'l.model_served',
  // json, not jsonb: jsonb refuses a \u0000 anywhere in the object, json only in the value read.
  task: "(l.metadata::json ->> 'task')",
  day: "to_char(to_timestamp(l.started_at_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
};

/** Reservations and counters past their time are swept every this many reserves or takes. */
const SWEEP_EVERY = 500;

export class PostgresGovernance implements GovernanceStore {
  private readonly pool: pg.Pool;
  private readonly budgetPool: pg.Pool;
  private readonly tables: BudgetTables;
  private calls = 0;

  constructor(private readonly options: PostgresGovernanceOptions) {
    this.pool = options.pool;
    // Reservations and rate counts: their own few connections, whose commits skip the WAL flush.
    const settings = options.budgetPool;
    this.budgetPool = new pg.Pool({
      connectionString: settings.url,
      max: Math.max(2, Math.ceil(settings.poolSize / 2)),
      connectionTimeoutMillis: settings.connectTimeoutMs,
      ...(settings.statementTimeoutMs > 0 ? { statement_timeout: settings.statementTimeoutMs } : {}),
      application_name: 'autocap-gateway-budgets',
      options: '-c synchronous_commit=off',
    });
    this.budgetPool.on('error', (error) => options.onConnectionLost(error));
    this.tables = {
      spend: options.table('budget_spend'),
      reservations: options.table('budget_reservations'),
      rates: options.table('rate_counters'),
      reserveFunction: options.table('autocap_reserve_budget'),
      lockNamespace: options.lockNamespace,
    };
  }

  async createTeam(team: TeamRecord): Promise<void> {
    await this.options.ready();
    try {
      await this.pool.query(
        `INSERT INTO ${this.options.table('teams')} (${TEAM_COLUMNS.join(', ')}) ` +
          `VALUES (${TEAM_COLUMNS.map((_, index) => `$${index + 1}`).join(', ')})`,
        [
          team.id,
          team.name,
          team.createdAtMs,
          ...LIMIT_COLUMNS.map(([field]) => team.limits[field]),
          team.dataClass,
        ],
      );
    } catch (error) {
      throw teamConflict(error, team);
    }
  }

  async getTeam(id: string): Promise<TeamRecord | null> {
    await this.options.ready();
    const result = await this.pool.query(
      `SELECT ${TEAM_COLUMNS.join(', ')} FROM ${this.options.table('teams')} WHERE id = $1`,
      [id],
    );
    const row = result.rows[0];
    return row ? toTeamRecord(row) : null;
  }

  async listTeams(): Promise<readonly TeamRecord[]> {
    await this.options.ready();
    const result = await this.pool.query(
      `SELECT ${TEAM_COLUMNS.join(', ')} FROM ${this.options.table('teams')} ORDER BY created_at_ms, id`,
    );
    return result.rows.map(toTeamRecord);
  }

  async updateTeam(id: string, patch: TeamPatch): Promise<TeamRecord | null> {
    const sets: [string, unknown][] = [];
    if (patch.name !== undefined) sets.push(['name', patch.name]);
    if (patch.dataClass !== undefined) sets.push(['data_class', patch.dataClass]);
    for (const [field, column] of LIMIT_COLUMNS) {
      const value = patch.limits?.[field];
      if (value !== undefined) sets.push([column, value]);
    }
    try {
      await this.update('teams', id, sets);
    } catch (error) {
      throw teamConflict(error, { id, name: patch.name ?? '' });
    }
    return this.getTeam(id);
  }

  async getKey(id: string): Promise<VirtualKeyRecord | null> {
    await this.options.ready();
    const result = await this.pool.query(
      `${SELECT_KEY_COLUMNS} FROM ${this.options.table('virtual_keys')} WHERE id = $1`,
      [id],
    );
    const row = result.rows[0];
    return row ? toKeyRecord(row) : null;
  }

  async listKeys(
    options: { readonly teamId?: string | undefined } = {},
  ): Promise<readonly VirtualKeyRecord[]> {
    await this.options.ready();
    const from = `${SELECT_KEY_COLUMNS} FROM ${this.options.table('virtual_keys')}`;
    const result =
      options.teamId === undefined
        ? await this.pool.query(`${from} ORDER BY created_at_ms, id`)
        : await this.pool.query(`${from} WHERE team_id = $1 ORDER BY created_at_ms, id`, [options.teamId]);
    return result.rows.map(toKeyRecord);
  }

  async updateKey(id: string, patch: KeyPatch): Promise<VirtualKeyRecord | null> {
    const sets: [string, unknown][] = [];
    if (patch.name !== undefined) sets.push(['name', patch.name]);
    if (patch.expiresAtMs !== undefined) sets.push(['expires_at_ms', patch.expiresAtMs]);
    if (patch.allowedModels !== undefined) sets.push(['allowed_models', patch.allowedModels]);
    if (patch.metadata !== undefined) {
      sets.push(['metadata', patch.metadata === null ? null : JSON.stringify(patch.metadata)]);
    }
    if (patch.dataClass !== undefined) sets.push(['data_class', patch.dataClass]);
    if (patch.role !== undefined) sets.push(['role', patch.role]);
    if (patch.teamId !== undefined) sets.push(['team_id', patch.teamId]);
    for (const [field, column] of LIMIT_COLUMNS) {
      const value = patch.limits?.[field];
      if (value !== undefined) sets.push([column, value]);
    }
    try {
      await this.update('virtual_keys', id, sets);
    } catch (error) {
      if (sqlState(error) === '23503') throw new Error(`team ${JSON.stringify(patch.teamId)} does not exist`);
      throw error;
    }
    return this.getKey(id);
  }

  /** `UPDATE table SET a = $1, b = $2 WHERE id = $3`; the column names come from this file only. */
  private async update(table: 'teams' | 'virtual_keys', id: string, sets: readonly [string, unknown][]) {
    await this.options.ready();
    if (sets.length === 0) return;
    const assignments = sets.map(([column], index) => `${column} = $${index + 1}`).join(', ');
    await this.pool.query(
      `UPDATE ${this.options.table(table)} SET ${assignments} WHERE id = $${sets.length + 1}`,
      [...sets.map(([, value]) => value), id],
    );
  }

  async reserveBudget(request: ReserveRequest): Promise<ReserveResult> {
    this.maybeSweep(request.nowMs);
    await this.options.ready();
    return reserve(this.budgetPool, this.tables, request);
  }

  async settleBudget(request: SettleRequest): Promise<void> {
    await this.options.ready();
    await settle(this.pool, this.tables, request);
  }

  async releaseBudget(reservationId: string): Promise<void> {
    await this.options.ready();
    await release(this.budgetPool, this.tables, reservationId);
  }

  async releaseReservations(idPrefix: string): Promise<number> {
    await this.options.ready();
    const result = await this.budgetPool.query(
      `DELETE FROM ${this.tables.reservations} WHERE left(id, length($1)) = $1`,
      [idPrefix],
    );
    return result.rowCount ?? 0;
  }

  async budgetSpend(scope: BudgetScope, nowMs: number): Promise<readonly SpendRow[]> {
    await this.options.ready();
    const result = await this.pool.query(
      `SELECT budget_window, spent_usd FROM ${this.tables.spend} ` +
        'WHERE scope_kind = $1 AND scope_id = $2 AND (budget_window, window_start_ms) IN (($3, $4), ($5, $6), ($7, $8))',
      [
        scope.scopeKind,
        scope.scopeId,
        ...BUDGET_WINDOWS.flatMap((window) => [window, windowStartMs(window, nowMs)]),
      ],
    );
    const spent = new Map(
      result.rows.map((row) => [String(row['budget_window']), readFloat(row, 'spent_usd')]),
    );
    return BUDGET_WINDOWS.map((window) => ({
      ...scope,
      window,
      windowStartMs: windowStartMs(window, nowMs),
      spentUsd: spent.get(window) ?? 0,
    }));
  }

  async takeRateLimit(request: RateRequest): Promise<RateResult> {
    this.maybeSweep(request.nowMs);
    const outcome = await this.transaction((client) => takeRateInTransaction(client, this.tables, request));
    return outcome.result;
  }

  async addTokens(scopes: readonly BudgetScope[], tokens: number, nowMs: number): Promise<void> {
    await this.options.ready();
    await addRate(this.budgetPool, this.tables, {
      scopes,
      requests: 0,
      tokens,
      minute: minuteStartMs(nowMs),
    });
  }

  async usage(query: UsageQuery): Promise<readonly UsageRow[]> {
    await this.options.ready();
    const group = GROUP_SQL[query.groupBy];
    const result = await this.pool.query(
      'SELECT * FROM (' +
        `SELECT ${group} AS grp, COUNT(DISTINCT l.request_id) AS requests, COUNT(*) AS attempts, ` +
        'COALESCE(SUM(l.input_tokens), 0) AS input_tokens, COALESCE(SUM(l.output_tokens), 0) AS output_tokens, ' +
        'COALESCE(SUM(l.cost_usd), 0) AS cost_usd ' +
        `FROM ${this.options.table('ledger')} l LEFT JOIN ${this.options.table('virtual_keys')} k ON k.id = l.key_id ` +
        'WHERE ($1::bigint IS NULL OR l.started_at_ms >= $1) AND ($2::bigint IS NULL OR l.started_at_ms < $2) ' +
        'AND ($3::text IS NULL OR k.team_id = $3) AND ($4::text IS NULL OR l.key_id = $4) ' +
        'GROUP BY 1) u ORDER BY cost_usd DESC, grp COLLATE "C"',
      [query.fromMs ?? null, query.toMs ?? null, query.teamId ?? null, query.keyId ?? null],
    );
    return result.rows.map((row) => ({
      group: row['grp'] === null ? null : String(row['grp']),
      requests: readInteger(row, 'requests'),
      attempts: readInteger(row, 'attempts'),
      inputTokens: readInteger(row, 'input_tokens'),
      outputTokens: readInteger(row, 'output_tokens'),
      costUsd: readFloat(row, 'cost_usd'),
    }));
  }

  async close(): Promise<void> {
    await this.budgetPool.end();
  }

  /** Every SWEEP_EVERY calls, in the background: a failure here only delays the cleanup. */
  private maybeSweep(nowMs: number): void {
    this.calls += 1;
    if (this.calls % SWEEP_EVERY !== 0) return;
    sweep(this.budgetPool, this.tables, nowMs).catch(() => undefined);
  }

  /**
   * `work` (which begins the transaction), then COMMIT, on one pooled connection; ROLLBACK when it
   * throws. A connection that cannot roll back is destroyed; a connection lost while checked out
   * is reported, not thrown.
   */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.options.ready();
    return inTransaction(this.budgetPool, this.options.onConnectionLost, null, work);
  }
}

function toTeamRecord(row: PostgresRow): TeamRecord {
  return {
    id: readText(row, 'id'),
    name: readText(row, 'name'),
    createdAtMs: readInteger(row, 'created_at_ms'),
    limits: readLimits(row),
    dataClass: row['data_class'] === null ? null : readDataClass(row),
  };
}

function teamConflict(error: unknown, team: { readonly id: string; readonly name: string }): unknown {
  if (sqlState(error) === '23505' && error instanceof pg.DatabaseError) {
    if (error.constraint === 'teams_name_key') {
      return new Error(`a team named ${JSON.stringify(team.name)} already exists`);
    }
    if (error.constraint === 'teams_pkey')
      return new Error(`team id ${JSON.stringify(team.id)} already exists`);
  }
  return error;
}
