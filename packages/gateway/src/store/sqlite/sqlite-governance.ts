/**
 * Governance on the SQLite store: teams, key updates, budgets with reservations, rate counters and
 * usage. Every read-check-write runs in one BEGIN IMMEDIATE transaction, which takes the file's
 * write lock first: two processes on one file (or two connections) never both see room for the
 * same last dollar.
 */
import Database from 'better-sqlite3';
import { minuteStartMs, windowStartMs } from '../budget-windows.js';
import { uniqueScopes } from '../governance-shared.js';
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
import { addRate, type Prepare, rateLocked, reserveLocked, settleLocked } from './sqlite-budgets.js';
import { GroupCommit } from './sqlite-group-commit.js';
import {
  KEY_COLUMNS,
  type KeyRow,
  LIMIT_COLUMNS,
  readDataClass,
  readLimits,
  type SqlValue,
  toKeyRecord,
} from './sqlite-rows.js';

type Row = Record<string, SqlValue>;

const TEAM_COLUMNS = [
  'id',
  'name',
  'created_at_ms',
  ...LIMIT_COLUMNS.map(([, column]) => column),
  'data_class',
] as const;
const SELECT_TEAMS = `SELECT ${TEAM_COLUMNS.join(', ')} FROM teams`;
const SELECT_KEYS = `SELECT ${KEY_COLUMNS.join(', ')} FROM virtual_keys`;

/** Usage group expressions: fixed SQL chosen by the group name, never built from input. */
const GROUP_SQL: Readonly<Record<UsageQuery['groupBy'], string>> = {
  key: 'l.key_id',
  team: 'k.team_id',
  model: 'l.model_served',
  task: "json_extract(l.metadata, '$.task')",
  day: "strftime('%Y-%m-%d', l.started_at_ms / 1000, 'unixepoch')",
};

export class SqliteGovernance implements GovernanceStore {
  /** Reservations, settlements and rate counters: one commit for all of an event-loop turn's. */
  private readonly commits: GroupCommit;

  constructor(private readonly db: Database.Database) {
    this.commits = new GroupCommit(db);
  }

  async createTeam(team: TeamRecord): Promise<void> {
    try {
      this.db
        .prepare(
          `INSERT INTO teams (${TEAM_COLUMNS.join(', ')}) VALUES (${TEAM_COLUMNS.map(() => '?').join(', ')})`,
        )
        .run(
          team.id,
          team.name,
          team.createdAtMs,
          ...LIMIT_COLUMNS.map(([field]) => team.limits[field]),
          team.dataClass,
        );
    } catch (error) {
      throw teamConflict(error, team);
    }
  }

  async getTeam(id: string): Promise<TeamRecord | null> {
    const row = this.db.prepare<[string], Row>(`${SELECT_TEAMS} WHERE id = ?`).get(id);
    return row ? toTeamRecord(row) : null;
  }

  async listTeams(): Promise<readonly TeamRecord[]> {
    return this.db.prepare<[], Row>(`${SELECT_TEAMS} ORDER BY created_at_ms, id`).all().map(toTeamRecord);
  }

  async updateTeam(id: string, patch: TeamPatch): Promise<TeamRecord | null> {
    const sets: [string, SqlValue][] = [];
    if (patch.name !== undefined) sets.push(['name', patch.name]);
    if (patch.dataClass !== undefined) sets.push(['data_class', patch.dataClass]);
    for (const [field, column] of LIMIT_COLUMNS) {
      const value = patch.limits?.[field];
      if (value !== undefined) sets.push([column, value]);
    }
    if (sets.length > 0) {
      try {
        this.update('teams', id, sets);
      } catch (error) {
        throw teamConflict(error, { id, name: patch.name ?? '' });
      }
    }
    return this.getTeam(id);
  }

  async getKey(id: string): Promise<VirtualKeyRecord | null> {
    const row = this.db.prepare<[string], KeyRow>(`${SELECT_KEYS} WHERE id = ?`).get(id);
    return row ? toKeyRecord(row) : null;
  }

  async listKeys(
    options: { readonly teamId?: string | undefined } = {},
  ): Promise<readonly VirtualKeyRecord[]> {
    const rows =
      options.teamId === undefined
        ? this.db.prepare<[], KeyRow>(`${SELECT_KEYS} ORDER BY created_at_ms, id`).all()
        : this.db
            .prepare<[string], KeyRow>(`${SELECT_KEYS} WHERE team_id = ? ORDER BY created_at_ms, id`)
            .all(options.teamId);
    return rows.map(toKeyRecord);
  }

  async updateKey(id: string, patch: KeyPatch): Promise<VirtualKeyRecord | null> {
    const sets: [string, SqlValue][] = [];
    if (patch.name !== undefined) sets.push(['name', patch.name]);
    if (patch.expiresAtMs !== undefined) sets.push(['expires_at_ms', patch.expiresAtMs]);
    if (patch.allowedModels !== undefined) {
      sets.push([
        'allowed_models',
        patch.allowedModels === null ? null : JSON.stringify(patch.allowedModels),
      ]);
    }
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
    if (sets.length > 0) {
      try {
        this.update('virtual_keys', id, sets);
      } catch (error) {
        if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
          throw new Error(`team ${JSON.stringify(patch.teamId)} does not exist`);
        }
        throw error;
      }
    }
    return this.getKey(id);
  }

  /** `UPDATE table SET a = ?, b = ? WHERE id = ?`; the column names come from this file only. */
  private readonly statements = new Map<string, Database.Statement>();

  /**
   * The prepared statement for `sql`, compiled once: preparing costs more than running these
   * small statements, and budgets and limits run several per request.
   */
  private readonly prepare: Prepare = (sql) => this.statement(sql);

  private statement<P extends unknown[] = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement as unknown as Database.Statement<P, R>;
  }

  private update(table: 'teams' | 'virtual_keys', id: string, sets: readonly [string, SqlValue][]): void {
    const assignments = sets.map(([column]) => `${column} = ?`).join(', ');
    this.db
      .prepare(`UPDATE ${table} SET ${assignments} WHERE id = ?`)
      .run(...sets.map(([, value]) => value), id);
  }

  async reserveBudget(request: ReserveRequest): Promise<ReserveResult> {
    return this.commits.run(() => reserveLocked(this.prepare, request));
  }

  async settleBudget(request: SettleRequest): Promise<void> {
    await this.commits.run(() => settleLocked(this.prepare, request));
  }

  async releaseBudget(reservationId: string): Promise<void> {
    await this.commits.run(() =>
      this.statement('DELETE FROM budget_reservations WHERE id = ?').run(reservationId),
    );
  }

  async releaseReservations(idPrefix: string): Promise<number> {
    return this.commits.run(() => {
      const { changes } = this.statement<[string, string]>(
        'DELETE FROM budget_reservations WHERE substr(id, 1, length(?)) = ?',
      ).run(idPrefix, idPrefix);
      return changes;
    });
  }

  async budgetSpend(scope: BudgetScope, nowMs: number): Promise<readonly SpendRow[]> {
    const select = this.statement<[string, string, string, number], Row>(
      'SELECT spent_usd FROM budget_spend WHERE scope_kind = ? AND scope_id = ? AND budget_window = ? ' +
        'AND window_start_ms = ?',
    );
    return BUDGET_WINDOWS.map((window) => {
      const windowStart = windowStartMs(window, nowMs);
      const row = select.get(scope.scopeKind, scope.scopeId, window, windowStart);
      return {
        ...scope,
        window,
        windowStartMs: windowStart,
        spentUsd: row ? numberAt(row, 'spent_usd') : 0,
      };
    });
  }

  async takeRateLimit(request: RateRequest): Promise<RateResult> {
    return this.commits.run(() => rateLocked(this.prepare, request));
  }

  async addTokens(scopes: readonly BudgetScope[], tokens: number, nowMs: number): Promise<void> {
    const minute = minuteStartMs(nowMs);
    await this.commits.run(() => {
      for (const scope of uniqueScopes(scopes)) addRate(this.prepare, scope, 0, tokens, minute);
    });
  }

  async usage(query: UsageQuery): Promise<readonly UsageRow[]> {
    const group = GROUP_SQL[query.groupBy];
    const rows = this.db
      .prepare<(string | number | null)[], Row>(
        `SELECT ${group} AS grp, COUNT(DISTINCT l.request_id) AS requests, COUNT(*) AS attempts, ` +
          'COALESCE(SUM(l.input_tokens), 0) AS input_tokens, ' +
          'COALESCE(SUM(l.output_tokens), 0) AS output_tokens, COALESCE(SUM(l.cost_usd), 0) AS cost_usd ' +
          'FROM ledger l LEFT JOIN virtual_keys k ON k.id = l.key_id ' +
          'WHERE (? IS NULL OR l.started_at_ms >= ?) AND (? IS NULL OR l.started_at_ms < ?) ' +
          'AND (? IS NULL OR k.team_id = ?) AND (? IS NULL OR l.key_id = ?) ' +
          'GROUP BY grp ORDER BY cost_usd DESC, grp',
      )
      .all(
        ...twice(query.fromMs ?? null),
        ...twice(query.toMs ?? null),
        ...twice(query.teamId ?? null),
        ...twice(query.keyId ?? null),
      );
    return rows.map((row) => ({
      group: row['grp'] === null || row['grp'] === undefined ? null : String(row['grp']),
      requests: numberAt(row, 'requests'),
      attempts: numberAt(row, 'attempts'),
      inputTokens: numberAt(row, 'input_tokens'),
      outputTokens: numberAt(row, 'output_tokens'),
      costUsd: numberAt(row, 'cost_usd'),
    }));
  }
}

function numberAt(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== 'number') throw new Error(`column ${column} holds ${typeof value}, expected a number`);
  return value;
}

function textAt(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`column ${column} holds ${typeof value}, expected text`);
  return value;
}

function twice<T>(value: T): [T, T] {
  return [value, value];
}

function toTeamRecord(row: Row): TeamRecord {
  return {
    id: textAt(row, 'id'),
    name: textAt(row, 'name'),
    createdAtMs: numberAt(row, 'created_at_ms'),
    limits: readLimits(row),
    dataClass: row['data_class'] === null ? null : readDataClass(row),
  };
}

function teamConflict(error: unknown, team: { readonly id: string; readonly name: string }): unknown {
  if (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT')) {
    if (error.message.includes('teams.name')) {
      return new Error(`a team named ${JSON.stringify(team.name)} already exists`);
    }
    if (error.message.includes('teams.id'))
      return new Error(`team id ${JSON.stringify(team.id)} already exists`);
  }
  return error;
}
