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

/**
 * The reservation function's text. Migration 2 created it; migration 4 replaced it so that
 * reserving under a live reservation's id adds to it (a lease growing; an expired one restarts).
 */
function reserveFunction(create: 'CREATE' | 'CREATE OR REPLACE', conflict: string): string {
  return `
      -- One reservation in one call (postgres-budgets.ts): the scopes' advisory locks in the given
      -- (sorted) order, then, in a fresh snapshot that sees every reservation committed before
      -- the locks were granted, each check's spend and reservations, and the insert when every
      -- check has room. Returns the insert's row count, then one row per check. The locks are
      -- held only while this runs and commits: no client round trip happens under them.
      ${create} FUNCTION autocap_reserve_budget(
        p_lock_namespace integer, p_lock_keys integer[],
        p_kinds text[], p_ids text[], p_windows text[], p_starts bigint[], p_limits double precision[],
        p_now_ms bigint, p_amount_usd double precision, p_epsilon_usd double precision,
        p_reservation_id text, p_expires_at_ms bigint, p_scope_kinds text[], p_scope_ids text[]
      ) RETURNS TABLE (r_inserted bigint, r_ord bigint, r_spent_usd double precision, r_reserved_usd double precision)
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
      DECLARE
        lock_key integer;
      BEGIN
        FOREACH lock_key IN ARRAY p_lock_keys LOOP
          PERFORM pg_advisory_xact_lock(p_lock_namespace, lock_key);
        END LOOP;
        RETURN QUERY
          WITH c AS (
            SELECT * FROM unnest(p_kinds, p_ids, p_windows, p_starts, p_limits)
              WITH ORDINALITY AS c(kind, id, win, start, lim, n)
          ), state AS (
            SELECT c.n, c.lim, COALESCE(s.spent_usd, 0) AS spent,
              (SELECT COALESCE(SUM(r.amount_usd), 0) FROM budget_reservations r
                WHERE r.scope_kind = c.kind AND r.scope_id = c.id AND r.expires_at_ms > p_now_ms) AS reserved
            FROM c LEFT JOIN budget_spend s ON s.scope_kind = c.kind AND s.scope_id = c.id
              AND s.budget_window = c.win AND s.window_start_ms = c.start
          ), room AS (
            SELECT COALESCE(bool_and(state.spent + state.reserved + p_amount_usd <= state.lim + p_epsilon_usd), true) AS ok
            FROM state
          ), added AS (
            INSERT INTO budget_reservations (id, scope_kind, scope_id, amount_usd, expires_at_ms)
            SELECT p_reservation_id, t.kind, t.id, p_amount_usd, p_expires_at_ms
            FROM unnest(p_scope_kinds, p_scope_ids) AS t(kind, id)
            WHERE (SELECT room.ok FROM room)${conflict}
            RETURNING 1
          )
          SELECT i.count, state.n, state.spent, state.reserved
          FROM (SELECT count(*) AS count FROM added) i LEFT JOIN state ON true
          ORDER BY state.n;
      END
      $fn$;
`;
}

const ADD_TO_LIVE_RESERVATION = `
            ON CONFLICT (id, scope_kind, scope_id) DO UPDATE SET
              amount_usd = CASE WHEN budget_reservations.expires_at_ms > p_now_ms
                THEN budget_reservations.amount_usd + excluded.amount_usd ELSE excluded.amount_usd END,
              expires_at_ms = excluded.expires_at_ms`;

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
  {
    version: 2,
    name: 'teams-key-governance-budgets-rate-counters',
    sql: `
      CREATE TABLE teams (
        id                 text COLLATE "C" PRIMARY KEY,
        name               text    NOT NULL UNIQUE,
        created_at_ms      bigint  NOT NULL,
        budget_daily_usd   double precision,
        budget_monthly_usd double precision,
        budget_total_usd   double precision,
        rpm                bigint,
        tpm                bigint,
        max_concurrent     bigint,
        data_class         text CHECK (data_class IN ('private'))
      );

      ALTER TABLE virtual_keys
        ADD COLUMN team_id            text COLLATE "C" REFERENCES teams (id),
        ADD COLUMN role               text NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'team_admin', 'user')),
        ADD COLUMN metadata           text, -- JSON object of strings; NULL for none
        ADD COLUMN budget_daily_usd   double precision,
        ADD COLUMN budget_monthly_usd double precision,
        ADD COLUMN budget_total_usd   double precision,
        ADD COLUMN rpm                bigint,
        ADD COLUMN tpm                bigint,
        ADD COLUMN max_concurrent     bigint,
        ADD COLUMN data_class         text CHECK (data_class IN ('private')),
        ADD COLUMN created_by         text;
      CREATE INDEX virtual_keys_team ON virtual_keys (team_id);

      -- Settled spend per scope and window (window_start_ms 0 for 'total').
      CREATE TABLE budget_spend (
        scope_kind      text COLLATE "C" NOT NULL CHECK (scope_kind IN ('key', 'team')),
        scope_id        text COLLATE "C" NOT NULL,
        budget_window   text COLLATE "C" NOT NULL CHECK (budget_window IN ('day', 'month', 'total')),
        window_start_ms bigint           NOT NULL,
        spent_usd       double precision NOT NULL,
        PRIMARY KEY (scope_kind, scope_id, budget_window, window_start_ms)
      );

      -- Worst-case costs of requests in flight; a row past expires_at_ms no longer counts.
      CREATE TABLE budget_reservations (
        id            text COLLATE "C" NOT NULL,
        scope_kind    text COLLATE "C" NOT NULL,
        scope_id      text COLLATE "C" NOT NULL,
        amount_usd    double precision NOT NULL,
        expires_at_ms bigint           NOT NULL,
        PRIMARY KEY (id, scope_kind, scope_id)
      );
      CREATE INDEX budget_reservations_scope ON budget_reservations (scope_kind, scope_id, expires_at_ms);

      CREATE TABLE rate_counters (
        scope_kind      text COLLATE "C" NOT NULL,
        scope_id        text COLLATE "C" NOT NULL,
        minute_start_ms bigint NOT NULL,
        requests        bigint NOT NULL,
        tokens          bigint NOT NULL,
        PRIMARY KEY (scope_kind, scope_id, minute_start_ms)
      );

${reserveFunction('CREATE', '')}    `,
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
  {
    version: 4,
    name: 'reservations-grow',
    sql: reserveFunction('CREATE OR REPLACE', ADD_TO_LIVE_RESERVATION),
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
