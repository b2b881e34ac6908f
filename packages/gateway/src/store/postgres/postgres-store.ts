/**
 * The store for several gateway instances: PostgreSQL through a node-postgres pool. Keys (and so
 * revocations) are shared at once by every instance on the database.
 *
 * Ledger chains: one hash chain per gateway instance. Each instance appends to its own chainId
 * (given by the caller: the ledger writer's `chainId`), so instances never wait on each other's
 * chain head, and verify checks every chain. Every append runs in one transaction that locks the
 * chain's `chain_heads` row (SELECT ... FOR UPDATE) and compares it with the head this store last
 * wrote (or found when it opened). If another process appended to the same chain meanwhile (two
 * instances given one chain id), the append fails with LedgerConflictError instead of forking the
 * chain; the batch is set aside in `ledger_dead_letter`, never lost.
 *
 * A lost COMMIT (the connection dropped after COMMIT was sent) leaves the caller unsure; its retry
 * sends the same batch, which is recognized (every entry stored at the expected seq with the same
 * hash) and returned as appended instead of failing on the duplicate ids. Deadlocks and
 * serialization failures are retried here; other refusals are set aside (see postgres-errors.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { LedgerChainVerifier } from '../ledger-verifier.js';
import { decodeCursor, encodeCursor } from '../sqlite/sqlite-rows.js';
import type {
  ChainHead,
  GatewayStore,
  LedgerEntry,
  LedgerEntryInput,
  LedgerPage,
  VerifyOptions,
  VerifyResult,
  VirtualKeyRecord,
} from '../store.js';
import { appendChainedBatch, type ChainPosition, EMPTY_CHAIN, prepareBatch } from './postgres-append.js';
import { classifyAppendFailure, setAsideBatch, sqlState } from './postgres-errors.js';
import { PostgresGovernance } from './postgres-governance.js';
import { applyPostgresMigrations } from './postgres-migrations.js';
import {
  KEY_COLUMNS,
  keyValues,
  type PostgresRow,
  readForVerify,
  SELECT_KEY_COLUMNS,
  SELECT_LEDGER_COLUMNS,
  toChainHead,
  toKeyRecord,
  toLedgerEntry,
} from './postgres-rows.js';
import { checkout, inTransaction } from './postgres-transaction.js';

export { LedgerConflictError, LedgerDeadLetterError } from './postgres-errors.js';

export interface PostgresStoreOptions {
  /**
   * A schema of its own (created when missing); every table name is qualified with it. Default:
   * none, so the tables live in the connection's search_path (usually `public`).
   */
  readonly schema?: string;
  /** Most connections this store opens. Default 10. */
  readonly poolSize?: number;
  /** PostgreSQL's statement_timeout for every statement, in ms; 0 for none. Default 30000. */
  readonly statementTimeoutMs?: number;
  /** How long to wait for a new connection before failing, in ms. Default 10000. */
  readonly connectTimeoutMs?: number;
  /** Clock for `schema_migrations` and `ledger_dead_letter` times. */
  readonly now?: () => number;
  /**
   * Hears what the store recovered from: a pooled connection that failed between queries (the
   * pool replaces it; a query in flight on it fails on its own), an append retried after a
   * deadlock or serialization failure. Wire it to the log. A throw from it is ignored.
   */
  readonly onError?: (error: unknown, event: 'connection-lost' | 'append-retry') => void;
}

/** Appends tried at most this many times when PostgreSQL reports a deadlock or serialization failure. */
const APPEND_ATTEMPTS = 4;
const RETRY_BASE_DELAY_MS = 20;
/** Rows per keyset page while verifying: constant memory, few round trips. */
const VERIFY_BATCH = 2000;
const MAX_PAGE = 10_000;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens a PostgreSQL store at `url` (postgres://user@host:port/database). Returns at once; the
 * first call (or `migrate()`) waits for the schema to be brought up to date and the chain heads to
 * be read. A failed start (the server is down) is retried by the next call.
 */
export function openPostgresStore(url: string, options: PostgresStoreOptions = {}): GatewayStore {
  return new PostgresStore(url, options);
}

class PostgresStore implements GatewayStore {
  private readonly pool: pg.Pool;
  private readonly schema: string | null;
  private readonly now: () => number;
  private readonly onError: NonNullable<PostgresStoreOptions['onError']>;
  private readonly onConnectionLost = (error: Error): void => this.onError(error, 'connection-lost');
  private readonly table: (name: string) => string;
  private readonly tables: { readonly ledger: string; readonly heads: string };
  /** The head this store last committed (or found at open), per chain. */
  private readonly heads = new Map<string, ChainPosition>();
  /** Appends to one chain from this store run one at a time, in call order. */
  private readonly appendQueues = new Map<string, Promise<void>>();
  private starting: Promise<void> | null = null;
  private closed = false;
  readonly governance: PostgresGovernance;

  constructor(url: string, options: PostgresStoreOptions) {
    const poolSize = options.poolSize ?? 10;
    const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    for (const [name, value, minimum] of [
      ['poolSize', poolSize, 1],
      ['statementTimeoutMs', statementTimeoutMs, 0],
      ['connectTimeoutMs', connectTimeoutMs, 0],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < minimum) {
        throw new RangeError(`${name} must be an integer >= ${minimum}, got ${value}`);
      }
    }
    if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
      throw new RangeError(
        `schema must be a lowercase SQL name (letters, digits, _; at most 63), got ${JSON.stringify(options.schema)}`,
      );
    }
    this.schema = options.schema ?? null;
    const prefix = this.schema === null ? '' : `${pg.escapeIdentifier(this.schema)}.`;
    this.table = (name) => `${prefix}${name}`;
    this.tables = { ledger: this.table('ledger'), heads: this.table('chain_heads') };
    this.now = options.now ?? Date.now;
    const onError = options.onError;
    this.onError = (error, event) => {
      try {
        onError?.(error, event);
      } catch {
        // Reporting must not break the store.
      }
    };
    this.pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: connectTimeoutMs,
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
      application_name: 'autocap-gateway',
    });
    // Without a listener, an idle connection dropped by the server would crash the process.
    this.pool.on('error', this.onConnectionLost);
    this.governance = new PostgresGovernance({
      pool: this.pool,
      budgetPool: { url, poolSize, connectTimeoutMs, statementTimeoutMs },
      table: this.table,
      ready: () => this.ready(),
      lockNamespace: this.schema ?? '',
      onConnectionLost: this.onConnectionLost,
    });
    // Start now, so the heads are the ones found at open; a failure is reported to the next caller.
    this.ready().catch(() => undefined);
  }

  async migrate(): Promise<void> {
    await this.ready();
    await this.applyMigrations();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.starting?.catch(() => undefined);
    await this.governance.close();
    await this.pool.end();
  }

  async appendLedger(chainId: string, entries: readonly LedgerEntryInput[]): Promise<readonly LedgerEntry[]> {
    if (entries.length === 0) return [];
    const previous = this.appendQueues.get(chainId) ?? Promise.resolve();
    const appending = previous.then(() => this.appendInOrder(chainId, entries));
    const settled = appending.then(
      () => undefined,
      () => undefined,
    );
    this.appendQueues.set(chainId, settled);
    void settled.then(() => {
      if (this.appendQueues.get(chainId) === settled) this.appendQueues.delete(chainId);
    });
    return appending;
  }

  private async appendInOrder(chainId: string, entries: readonly LedgerEntryInput[]): Promise<LedgerEntry[]> {
    await this.ready();
    const head = this.heads.get(chainId) ?? EMPTY_CHAIN;
    // Hashed before taking the row lock (an invalid entry throws here, before any SQL). The
    // transaction stores these only when the head it reads under the lock is this same head.
    const prepared = await prepareBatch(chainId, head, entries);
    for (let attempt = 1; ; attempt += 1) {
      try {
        const appended = await inTransaction(this.pool, this.onConnectionLost, 'BEGIN', (client) =>
          appendChainedBatch(client, this.tables, { chainId, expected: head, prepared }),
        );
        const last = appended[appended.length - 1];
        if (last) this.heads.set(chainId, { seq: last.seq, hash: last.hash });
        return appended;
      } catch (error) {
        const kind = classifyAppendFailure(error);
        if (kind === 'retry-here' && attempt < APPEND_ATTEMPTS) {
          this.onError(error, 'append-retry');
          await sleep(RETRY_BASE_DELAY_MS * 2 ** (attempt - 1));
          continue;
        }
        if (kind === 'transient' || kind === 'retry-here') throw error;
        throw await setAsideBatch(this.pool, {
          table: this.table('ledger_dead_letter'),
          chainId,
          entries,
          error,
          now: this.now,
        });
      }
    }
  }

  async pageLedger(options: { after?: string | null; limit: number }): Promise<LedgerPage> {
    const { limit } = options;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE}, got ${limit}`);
    }
    const after = options.after ? decodeCursor(options.after) : null;
    await this.ready();
    const rows = await this.ledgerRows(this.pool, after, limit);
    const entries = rows.map(toLedgerEntry);
    const last = entries[entries.length - 1];
    return { entries, nextCursor: last && entries.length === limit ? encodeCursor(last) : null };
  }

  private async ledgerRows(
    database: pg.Pool | pg.PoolClient,
    after: { chainId: string; seq: number | string } | null,
    limit: number,
  ): Promise<PostgresRow[]> {
    const from = `${SELECT_LEDGER_COLUMNS} FROM ${this.table('ledger')}`;
    const result = after
      ? await database.query(`${from} WHERE (chain_id, seq) > ($1, $2) ORDER BY chain_id, seq LIMIT $3`, [
          after.chainId,
          after.seq,
          limit,
        ])
      : await database.query(`${from} ORDER BY chain_id, seq LIMIT $1`, [limit]);
    return result.rows;
  }

  async chainHeads(): Promise<readonly ChainHead[]> {
    await this.ready();
    return this.readHeads(this.pool);
  }

  async ledgerEntryIds(ids: readonly string[]): Promise<ReadonlySet<string>> {
    if (ids.length === 0) return new Set();
    await this.ready();
    const result = await this.pool.query(
      `SELECT id FROM ${this.table('ledger')} WHERE id = ANY($1::text[])`,
      [ids],
    );
    return new Set(result.rows.map((row) => String(row['id'])));
  }

  private async readHeads(database: pg.Pool | pg.PoolClient): Promise<ChainHead[]> {
    const result = await database.query(
      `SELECT chain_id, seq, hash FROM ${this.table('chain_heads')} ORDER BY chain_id`,
    );
    return result.rows.map(toChainHead);
  }

  /**
   * Streams every row in (chain_id, seq) order through LedgerChainVerifier in keyset pages of
   * 2,000, in constant memory, inside one REPEATABLE READ READ ONLY transaction: the heads and all
   * the pages see one snapshot while appends continue on other connections.
   */
  async verifyLedger(options: VerifyOptions = {}): Promise<VerifyResult> {
    await this.ready();
    const readOnly = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
    return inTransaction(this.pool, this.onConnectionLost, readOnly, async (client) => {
      const verifier = new LedgerChainVerifier({
        expectedHeads: options.expectedHeads ?? [],
        recordedHeads: await this.readHeads(client),
      });
      let after: { chainId: string; seq: string } | null = null;
      for (;;) {
        const rows = await this.ledgerRows(client, after, VERIFY_BATCH);
        for (const row of rows) {
          const entry = readForVerify(row);
          const failure = 'ok' in entry ? entry : verifier.push(entry);
          if (failure) return failure;
        }
        const last = rows[rows.length - 1];
        if (!last || rows.length < VERIFY_BATCH) return verifier.finish();
        after = { chainId: String(last['chain_id']), seq: String(last['seq']) };
      }
    });
  }

  async insertKey(key: VirtualKeyRecord): Promise<void> {
    await this.ready();
    try {
      await this.pool.query(
        `INSERT INTO ${this.table('virtual_keys')} (${KEY_COLUMNS.join(', ')}) ` +
          `VALUES (${KEY_COLUMNS.map((_, index) => `$${index + 1}`).join(', ')})`,
        keyValues(key),
      );
    } catch (error) {
      if (sqlState(error) === '23505' && error instanceof pg.DatabaseError) {
        if (error.constraint === 'virtual_keys_pkey') {
          throw new Error(`virtual key id ${JSON.stringify(key.id)} already exists`);
        }
        if (error.constraint === 'virtual_keys_hash_key') {
          throw new Error('a virtual key with this hash already exists');
        }
      }
      throw error;
    }
  }

  async findKeyByHash(hash: string): Promise<VirtualKeyRecord | null> {
    await this.ready();
    // `=` on text with the "C" collation: an exact, case-sensitive byte match.
    const result = await this.pool.query(
      `${SELECT_KEY_COLUMNS} FROM ${this.table('virtual_keys')} WHERE hash = $1`,
      [hash],
    );
    const row = result.rows[0];
    return row ? toKeyRecord(row) : null;
  }

  async listKeys(): Promise<readonly VirtualKeyRecord[]> {
    await this.ready();
    const result = await this.pool.query(
      `${SELECT_KEY_COLUMNS} FROM ${this.table('virtual_keys')} ORDER BY created_at_ms, id`,
    );
    return result.rows.map(toKeyRecord);
  }

  async revokeKey(id: string): Promise<boolean> {
    await this.ready();
    const result = await this.pool.query(
      `UPDATE ${this.table('virtual_keys')} SET revoked = true WHERE id = $1`,
      [id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Migrates and reads the chain heads once; after a failure, the next call starts over. */
  private ready(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    if (this.starting === null) {
      const starting = this.start();
      this.starting = starting;
      starting.catch(() => {
        if (this.starting === starting) this.starting = null;
      });
    }
    return this.starting;
  }

  private async start(): Promise<void> {
    await this.applyMigrations();
    for (const head of await this.readHeads(this.pool)) {
      this.heads.set(head.chainId, { seq: head.seq, hash: head.hash });
    }
  }

  private async applyMigrations(): Promise<void> {
    const { client, release } = await checkout(this.pool, this.onConnectionLost);
    await applyPostgresMigrations(
      { query: (text, values) => client.query(text, values), release },
      { schema: this.schema, now: this.now },
    );
  }
}
