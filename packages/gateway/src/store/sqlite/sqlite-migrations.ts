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
