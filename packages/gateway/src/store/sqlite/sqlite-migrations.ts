/**
 * Numbered schema migrations for the SQLite store. A migration, once released, is never edited:
 * a change is a new number. Each applied migration is recorded in `schema_migrations`.
 */
import type Database from 'better-sqlite3';

export interface SqliteMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'ledger-chain-heads-virtual-keys',
    sql: `
      CREATE TABLE ledger (
        chain_id            TEXT    NOT NULL,
        seq                 INTEGER NOT NULL CHECK (seq >= 1),
        id                  TEXT    NOT NULL UNIQUE,
        request_id          TEXT    NOT NULL,
        attempt             INTEGER NOT NULL,
        started_at_ms       INTEGER NOT NULL,
        key_id              TEXT    NOT NULL,
        model_requested     TEXT    NOT NULL,
        model_served        TEXT    NOT NULL,
        provider            TEXT    NOT NULL,
        owned               INTEGER NOT NULL CHECK (owned IN (0, 1)),
        input_tokens        INTEGER NOT NULL,
        cached_input_tokens INTEGER NOT NULL,
        output_tokens       INTEGER NOT NULL,
        reasoning_tokens    INTEGER NOT NULL,
        estimated           INTEGER NOT NULL CHECK (estimated IN (0, 1)),
        cost_usd            REAL    NOT NULL,
        latency_ms          REAL    NOT NULL,
        ttft_ms             REAL,
        status              TEXT    NOT NULL CHECK (status IN ('ok', 'error', 'client_disconnected')),
        error_class         TEXT,
        upstream_status     INTEGER,
        streamed            INTEGER NOT NULL CHECK (streamed IN (0, 1)),
        metadata            TEXT    NOT NULL, -- JSON object of strings
        raw_usage           TEXT,             -- the provider's usage object, JSON text
        prev_hash           TEXT    NOT NULL,
        hash                TEXT    NOT NULL,
        PRIMARY KEY (chain_id, seq)
      );
      CREATE INDEX ledger_key_time ON ledger (key_id, started_at_ms);
      CREATE INDEX ledger_model_time ON ledger (model_served, started_at_ms);
      CREATE INDEX ledger_time ON ledger (started_at_ms);

      -- Written in the same transaction as the entries: lets the writer detect a second writer,
      -- and lets verify notice entries removed from the end by something that did not update it.
      CREATE TABLE chain_heads (
        chain_id TEXT    PRIMARY KEY,
        seq      INTEGER NOT NULL,
        hash     TEXT    NOT NULL
      );

      CREATE TABLE virtual_keys (
        id             TEXT    PRIMARY KEY,
        hash           TEXT    NOT NULL UNIQUE,
        name           TEXT    NOT NULL,
        created_at_ms  INTEGER NOT NULL,
        expires_at_ms  INTEGER,
        allowed_models TEXT, -- JSON array of model names; NULL for all
        revoked        INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
      );
    `,
  },
  {
    version: 2,
    name: 'teams-key-governance-budgets-rate-counters',
    sql: `
      CREATE TABLE teams (
        id                 TEXT    PRIMARY KEY,
        name               TEXT    NOT NULL UNIQUE,
        created_at_ms      INTEGER NOT NULL,
        budget_daily_usd   REAL,
        budget_monthly_usd REAL,
        budget_total_usd   REAL,
        rpm                INTEGER,
        tpm                INTEGER,
        max_concurrent     INTEGER,
        data_class         TEXT CHECK (data_class IN ('private'))
      );

      ALTER TABLE virtual_keys ADD COLUMN team_id TEXT REFERENCES teams (id);
      ALTER TABLE virtual_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'user'
        CHECK (role IN ('admin', 'team_admin', 'user'));
      ALTER TABLE virtual_keys ADD COLUMN metadata TEXT; -- JSON object of strings; NULL for none
      ALTER TABLE virtual_keys ADD COLUMN budget_daily_usd REAL;
      ALTER TABLE virtual_keys ADD COLUMN budget_monthly_usd REAL;
      ALTER TABLE virtual_keys ADD COLUMN budget_total_usd REAL;
      ALTER TABLE virtual_keys ADD COLUMN rpm INTEGER;
      ALTER TABLE virtual_keys ADD COLUMN tpm INTEGER;
      ALTER TABLE virtual_keys ADD COLUMN max_concurrent INTEGER;
      ALTER TABLE virtual_keys ADD COLUMN data_class TEXT CHECK (data_class IN ('private'));
      ALTER TABLE virtual_keys ADD COLUMN created_by TEXT;
      CREATE INDEX virtual_keys_team ON virtual_keys (team_id);

      -- Settled spend per scope and window (window_start_ms 0 for 'total').
      CREATE TABLE budget_spend (
        scope_kind      TEXT    NOT NULL CHECK (scope_kind IN ('key', 'team')),
        scope_id        TEXT    NOT NULL,
        budget_window   TEXT    NOT NULL CHECK (budget_window IN ('day', 'month', 'total')),
        window_start_ms INTEGER NOT NULL,
        spent_usd       REAL    NOT NULL,
        PRIMARY KEY (scope_kind, scope_id, budget_window, window_start_ms)
      );

      -- Worst-case costs of requests in flight; a row past expires_at_ms no longer counts.
      CREATE TABLE budget_reservations (
        id            TEXT    NOT NULL,
        scope_kind    TEXT    NOT NULL,
        scope_id      TEXT    NOT NULL,
        amount_usd    REAL    NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        PRIMARY KEY (id, scope_kind, scope_id)
      );
      CREATE INDEX budget_reservations_scope ON budget_reservations (scope_kind, scope_id, expires_at_ms);

      CREATE TABLE rate_counters (
        scope_kind      TEXT    NOT NULL,
        scope_id        TEXT    NOT NULL,
        minute_start_ms INTEGER NOT NULL,
        requests        INTEGER NOT NULL,
        tokens          INTEGER NOT NULL,
        PRIMARY KEY (scope_kind, scope_id, minute_start_ms)
      );
    `,
  },
  {
    // Every ledger index costs each append a B-tree insert. Usage queries filter on time, so that
    // one stays; by-key and by-model lookups scan the time range instead.
    version: 3,
    name: 'ledger-time-index-only',
    sql: `
      DROP INDEX IF EXISTS ledger_key_time;
      DROP INDEX IF EXISTS ledger_model_time;
    `,
  },
];

/**
 * Applies the migrations this database lacks, in order, in one IMMEDIATE transaction: a second
 * process migrating the same file waits for the first and then finds nothing to do. Returns the
 * versions applied (empty when the schema was current).
 */
export function applySqliteMigrations(
  db: Database.Database,
  options: { migrations?: readonly SqliteMigration[]; now: () => number },
): number[] {
  const migrations = options.migrations ?? SQLITE_MIGRATIONS;
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version       INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    applied_at_ms INTEGER NOT NULL
  )`);
  const selectApplied = db.prepare<[], { version: number; name: string }>(
    'SELECT version, name FROM schema_migrations ORDER BY version',
  );
  const recordApplied = db.prepare<[number, string, number]>(
    'INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)',
  );
  const migrate = db.transaction((): number[] => {
    const applied = new Map(selectApplied.all().map((row) => [row.version, row.name]));
    const known = new Set(migrations.map((migration) => migration.version));
    for (const [version, name] of applied) {
      if (!known.has(version)) {
        throw new Error(
          `database schema has migration ${version} (${name}), which this autocap does not know: ` +
            'it was written by a newer version; upgrade autocap to open it',
        );
      }
    }
    const done: number[] = [];
    for (const migration of migrations) {
      const appliedName = applied.get(migration.version);
      if (appliedName !== undefined) {
        if (appliedName !== migration.name) {
          throw new Error(
            `database records migration ${migration.version} as '${appliedName}' but this autocap ` +
              `calls it '${migration.name}': the database was written by a different build`,
          );
        }
        continue;
      }
      db.exec(migration.sql);
      recordApplied.run(migration.version, migration.name, options.now());
      done.push(migration.version);
    }
    return done;
  });
  return migrate.immediate();
}
