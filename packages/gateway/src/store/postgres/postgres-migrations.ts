/**
 * Numbered schema migrations for the PostgreSQL store. A migration, once released, is never edited:
 * a change is a new number. Each applied migration is recorded in `schema_migrations`.
 *
 * Several gateway instances may start together on one database: all of them run
 * `applyPostgresMigrations`, which takes a transaction-scoped advisory lock first, so one instance
 * migrates and the others wait for it and then find nothing to do. DDL is transactional in
 * PostgreSQL: a migration that fails leaves no half-created table behind.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';

export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'ledger-chain-heads-virtual-keys-dead-letter',
    // COLLATE "C" on the ordering keys: (chain_id, seq) pages and verifies in byte order, as
    // SQLite's BINARY collation does, whatever the database's locale is.
    // Integer fields are bigint: the hash format accepts any safe integer, and a value the column
    // could not hold would turn a valid entry into a failed append.
    // metadata and raw_usage are text, not jsonb: jsonb re-serializes (key order, spacing, \u0000)
    // and verify must recompute the hash from the exact stored text.
    sql: `
      CREATE TABLE ledger (
        chain_id            text COLLATE "C" NOT NULL,
        seq                 bigint           NOT NULL CHECK (seq >= 1),
        id                  text COLLATE "C" NOT NULL UNIQUE,
        request_id          text             NOT NULL,
        attempt             bigint           NOT NULL,
        started_at_ms       bigint           NOT NULL,
        key_id              text             NOT NULL,
        model_requested     text             NOT NULL,
        model_served        text             NOT NULL,
        provider            text             NOT NULL,
        owned               boolean          NOT NULL,
        input_tokens        bigint           NOT NULL,
        cached_input_tokens bigint           NOT NULL,
        output_tokens       bigint           NOT NULL,
        reasoning_tokens    bigint           NOT NULL,
        estimated           boolean          NOT NULL,
        cost_usd            double precision NOT NULL,
        latency_ms          double precision NOT NULL,
        ttft_ms             double precision,
        status              text             NOT NULL CHECK (status IN ('ok', 'error', 'client_disconnected')),
        error_class         text,
        upstream_status     bigint,
        streamed            boolean          NOT NULL,
        metadata            text             NOT NULL, -- JSON object of strings, as hashed
        raw_usage           text,                      -- the provider's usage object, JSON text
        prev_hash           text             NOT NULL,
        hash                text             NOT NULL,
        PRIMARY KEY (chain_id, seq)
      );
      CREATE INDEX ledger_key_time ON ledger (key_id, started_at_ms);
      CREATE INDEX ledger_model_time ON ledger (model_served, started_at_ms);
      CREATE INDEX ledger_time ON ledger (started_at_ms);

      -- Updated in the same transaction as the entries, and locked (FOR UPDATE) by every append:
      -- serializes appends to one chain, detects a second writer, and lets verify notice entries
      -- removed from the end by something that did not update it.
      CREATE TABLE chain_heads (
        chain_id text COLLATE "C" PRIMARY KEY,
        seq      bigint NOT NULL CHECK (seq >= 0),
        hash     text   NOT NULL
      );

      CREATE TABLE virtual_keys (
        id             text COLLATE "C" PRIMARY KEY,
        hash           text COLLATE "C" NOT NULL UNIQUE,
        name           text    NOT NULL,
        created_at_ms  bigint  NOT NULL,
        expires_at_ms  bigint,
        allowed_models text[], -- model names; NULL for all
        revoked        boolean NOT NULL DEFAULT false
      );

      -- Batches that PostgreSQL refused for a reason other than the connection (a constraint, bad
      -- data, a second writer on the chain): kept here, as given to appendLedger, instead of lost.
      -- A batch retried by the ledger writer is one row whose failures count goes up.
      CREATE TABLE ledger_dead_letter (
        id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        chain_id           text   NOT NULL,
        batch_hash         text   NOT NULL, -- SHA-256 of chain_id and entries: one row per batch
        entry_count        integer NOT NULL,
        entries            text   NOT NULL, -- JSON array of the entries (LedgerEntryInput)
        error_code         text   NOT NULL, -- SQLSTATE, or 'chain-conflict'
        error_message      text   NOT NULL,
        first_failed_at_ms bigint NOT NULL,
        last_failed_at_ms  bigint NOT NULL,
        failures           integer NOT NULL DEFAULT 1,
        UNIQUE (chain_id, batch_hash)
      );
    `,
  },
];

/** The subset of a pg client or pool the migrator needs. */
export interface PostgresQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** A connection taken from a pool, given back with `release`. */
export interface PostgresConnection extends PostgresQueryable {
  release(destroy?: boolean): void;
}

/**
 * Applies the migrations this database (or `schema`) lacks, in order, in one transaction under an
 * advisory lock keyed by the schema name. Creates the schema when it is given and missing. Returns
 * the versions applied (empty when the schema was current).
 */
export async function applyPostgresMigrations(
  connection: PostgresConnection,
  options: { schema: string | null; now: () => number; migrations?: readonly PostgresMigration[] },
): Promise<number[]> {
  const migrations = options.migrations ?? POSTGRES_MIGRATIONS;
  let destroy = false;
  try {
    const encoding = await connection.query('SHOW server_encoding');
    const serverEncoding = encoding.rows[0]?.['server_encoding'];
    if (serverEncoding !== 'UTF8') {
      throw new Error(
        `the PostgreSQL database uses encoding ${String(serverEncoding)}; autocap needs UTF8 to store ` +
          'every string exactly (CREATE DATABASE ... ENCODING UTF8)',
      );
    }
    await connection.query('BEGIN');
    try {
      await connection.query('SELECT pg_advisory_xact_lock($1)', [migrationLockKey(options.schema)]);
      if (options.schema !== null) {
        const schema = pg.escapeIdentifier(options.schema);
        await connection.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        // Unqualified names in the migrations below land in the store's schema.
        await connection.query(`SET LOCAL search_path TO ${schema}`);
      }
      const done = await migrateLocked(connection, migrations, options.now);
      await connection.query('COMMIT');
      return done;
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => {
        destroy = true;
      });
      throw error;
    }
  } finally {
    connection.release(destroy);
  }
}

async function migrateLocked(
  connection: PostgresQueryable,
  migrations: readonly PostgresMigration[],
  now: () => number,
): Promise<number[]> {
  await connection.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version       integer PRIMARY KEY,
    name          text    NOT NULL,
    applied_at_ms bigint  NOT NULL
  )`);
  const result = await connection.query('SELECT version, name FROM schema_migrations ORDER BY version');
  const applied = new Map(result.rows.map((row) => [Number(row['version']), String(row['name'])]));
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
    await connection.query(migration.sql);
    await connection.query(
      'INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)',
      [migration.version, migration.name, now()],
    );
    done.push(migration.version);
  }
  return done;
}

/** A 64-bit advisory lock key per schema: instances migrating different schemas do not wait. */
function migrationLockKey(schema: string | null): string {
  const digest = createHash('sha256')
    .update(`autocap-migrations:${schema ?? ''}`, 'utf8')
    .digest();
  return digest.readBigInt64BE(0).toString();
}
