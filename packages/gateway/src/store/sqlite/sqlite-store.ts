/**
 * The embedded store: one SQLite file through better-sqlite3, nothing to start.
 *
 * Writers: one writer process per file is the supported mode (several gateway instances use
 * PostgreSQL). Every append runs in a BEGIN IMMEDIATE transaction that re-reads the chain's head
 * from `chain_heads` and compares it with the head this process last wrote; if another process
 * appended to the chain meanwhile, the append fails with LedgerConflictError instead of forking the
 * chain, and keeps failing (it never silently adopts the other writer's head).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { chainEntry } from '../chain-entry.js';
import type { GovernanceStore } from '../governance-types.js';
import { hashEntry } from '../ledger-hash.js';
import { LedgerChainVerifier } from '../ledger-verifier.js';
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
import { LedgerConflictError } from '../store-errors.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { SqliteGovernance } from './sqlite-governance.js';
import { applySqliteMigrations } from './sqlite-migrations.js';
import {
  decodeCursor,
  encodeCursor,
  type HeadRow,
  KEY_COLUMNS,
  type KeyRow,
  LEDGER_COLUMNS,
  type LedgerRow,
  readForVerify,
  readNumber,
  readText,
  SELECT_HEADS,
  SELECT_LEDGER,
  type SqlValue,
  toChainHead,
  toKeyRecord,
  toKeyRow,
  toLedgerEntry,
  toLedgerValues,
} from './sqlite-rows.js';

export interface SqliteStoreOptions {
  /**
   * 'process' (default): `synchronous=NORMAL`. In WAL mode a commit has reached the operating
   * system when it returns, so a crash or kill -9 of the gateway loses nothing; a power loss or
   * kernel crash may roll back the last commits (never corrupt the file).
   * 'power': `synchronous=FULL`, an fsync of the WAL on every commit: survives power loss, at the
   * price of one disk flush per group commit.
   */
  readonly durability?: 'process' | 'power';
  /** How long a statement waits for another connection's lock before failing. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** Clock for `schema_migrations.applied_at_ms`. */
  readonly now?: () => number;
}

export { LedgerConflictError };

/** How many verified rows between yields to the event loop (verify runs on its own connection). */
const VERIFY_YIELD_EVERY = 2000;
const MAX_PAGE = 10_000;
/** Entries appended before checkpoints move to a worker thread (small stores keep SQLite's own). */
const CHECKPOINT_WORKER_AFTER = 1000;
const SELECT_KEYS = `SELECT ${KEY_COLUMNS.join(', ')} FROM virtual_keys`;

/**
 * Opens (creating the file and its parent directory if missing) and migrates a SQLite store. The
 * schema is brought up to date here, so a fresh path works at once; `migrate()` is then a no-op.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): GatewayStore {
  return new SqliteStore(path, options);
}

class SqliteStore implements GatewayStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly busyTimeoutMs: number;
  /** The head this process last committed (or found at open), per chain. */
  private readonly heads = new Map<string, { seq: number; hash: string }>();
  private readonly statements;
  private readonly appendTransaction;
  private selectStoredIds: Database.Statement<[string], { id: string }> | null = null;
  private checkpointer: SqliteCheckpointer | null = null;
  /** Ledger entries appended since open; a busy store checkpoints from a worker thread. */
  private appended = 0;
  readonly governance: GovernanceStore;

  constructor(
    private readonly path: string,
    options: SqliteStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    if (!Number.isSafeInteger(this.busyTimeoutMs) || this.busyTimeoutMs < 0) {
      throw new RangeError(`busyTimeoutMs must be a non-negative integer, got ${this.busyTimeoutMs}`);
    }
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    this.db = db;
    try {
      db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.durability === 'power' ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      applySqliteMigrations(db, { now: this.now });
    } catch (error) {
      db.close();
      throw error;
    }
    const ledgerParams = LEDGER_COLUMNS.map(() => '?').join(', ');
    this.statements = {
      insertEntry: db.prepare<SqlValue[]>(
        `INSERT INTO ledger (${LEDGER_COLUMNS.join(', ')}) VALUES (${ledgerParams})`,
      ),
      selectHead: db.prepare<[string], HeadRow>(
        'SELECT chain_id, seq, hash FROM chain_heads WHERE chain_id = ?',
      ),
      upsertHead: db.prepare<[string, number, string]>(
        'INSERT INTO chain_heads (chain_id, seq, hash) VALUES (?, ?, ?) ' +
          'ON CONFLICT (chain_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash',
      ),
      selectHeads: db.prepare<[], HeadRow>(SELECT_HEADS),
      pageFirst: db.prepare<[number], LedgerRow>(`${SELECT_LEDGER} ORDER BY chain_id, seq LIMIT ?`),
      pageAfter: db.prepare<[string, number, number], LedgerRow>(
        `${SELECT_LEDGER} WHERE (chain_id, seq) > (?, ?) ORDER BY chain_id, seq LIMIT ?`,
      ),
      insertKey: db.prepare<[KeyRow]>(
        `INSERT INTO virtual_keys (${KEY_COLUMNS.join(', ')}) ` +
          `VALUES (${KEY_COLUMNS.map((column) => `@${column}`).join(', ')})`,
      ),
      selectKeyByHash: db.prepare<[string], KeyRow>(`${SELECT_KEYS} WHERE hash = ?`),
      selectKeys: db.prepare<[], KeyRow>(`${SELECT_KEYS} ORDER BY created_at_ms, id`),
      revokeKey: db.prepare<[string]>('UPDATE virtual_keys SET revoked = 1 WHERE id = ?'),
    };
    for (const row of this.statements.selectHeads.all()) {
      this.heads.set(readText(row, 'chain_id'), { seq: readNumber(row, 'seq'), hash: readText(row, 'hash') });
    }
    this.appendTransaction = db.transaction(this.appendRows.bind(this));
    this.governance = new SqliteGovernance(db);
  }

  async migrate(): Promise<void> {
    applySqliteMigrations(this.db, { now: this.now });
  }

  async close(): Promise<void> {
    await this.checkpointer?.close();
    if (this.db.open) this.db.close();
  }

  async appendLedger(chainId: string, entries: readonly LedgerEntryInput[]): Promise<readonly LedgerEntry[]> {
    if (entries.length === 0) return [];
    const head = this.heads.get(chainId) ?? { seq: 0, hash: '' };
    // Hash before taking the write lock; the transaction only checks the head and inserts.
    const appended: LedgerEntry[] = [];
    let prevHash = head.hash;
    let seq = head.seq;
    for (const entry of entries) {
      seq += 1;
      const hash = hashEntry(prevHash, chainId, seq, entry);
      appended.push(chainEntry(entry, chainId, seq, prevHash, hash));
      prevHash = hash;
    }
    this.appendTransaction.immediate(chainId, head, appended);
    this.heads.set(chainId, { seq, hash: prevHash });
    const before = this.appended;
    this.appended += appended.length;
    if (
      before < CHECKPOINT_WORKER_AFTER &&
      this.appended >= CHECKPOINT_WORKER_AFTER &&
      this.path !== ':memory:'
    ) {
      this.checkpointer = SqliteCheckpointer.start(this.path);
      if (this.checkpointer !== null) this.db.pragma('wal_autocheckpoint = 0');
    }
    return appended;
  }

  private appendRows(
    chainId: string,
    expected: { seq: number; hash: string },
    entries: readonly LedgerEntry[],
  ): void {
    const found = this.statements.selectHead.get(chainId);
    const foundSeq = found ? readNumber(found, 'seq') : 0;
    const foundHash = found ? readText(found, 'hash') : '';
    if (foundSeq !== expected.seq || foundHash !== expected.hash) {
      throw new LedgerConflictError(
        `ledger chain ${JSON.stringify(chainId)} is at seq ${foundSeq} in ${this.path}, but this process ` +
          `last wrote seq ${expected.seq}: another process is writing the same chain. Run one gateway ` +
          'per SQLite file (use PostgreSQL for several instances); restart this one to continue.',
      );
    }
    for (const entry of entries) {
      try {
        this.statements.insertEntry.run(...toLedgerValues(entry));
      } catch (error) {
        if (isConstraint(error, 'ledger.id')) {
          throw new Error(`ledger entry id ${JSON.stringify(entry.id)} is already in the ledger`);
        }
        if (isConstraint(error, 'ledger.chain_id')) {
          // chain_heads is behind the entries: the file was edited, or written by something else.
          throw new LedgerConflictError(
            `ledger chain ${JSON.stringify(chainId)} already has seq ${entry.seq} in ${this.path} although ` +
              'its recorded head is older: run `autocap ledger verify` on this file',
          );
        }
        throw error;
      }
    }
    const last = entries[entries.length - 1];
    if (last) this.statements.upsertHead.run(chainId, last.seq, last.hash);
  }

  async pageLedger(options: { after?: string | null; limit: number }): Promise<LedgerPage> {
    const { limit } = options;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE}, got ${limit}`);
    }
    const after = options.after ? decodeCursor(options.after) : null;
    const rows = after
      ? this.statements.pageAfter.all(after.chainId, after.seq, limit)
      : this.statements.pageFirst.all(limit);
    const entries = rows.map(toLedgerEntry);
    const last = entries[entries.length - 1];
    return { entries, nextCursor: last && entries.length === limit ? encodeCursor(last) : null };
  }

  async chainHeads(): Promise<readonly ChainHead[]> {
    return this.statements.selectHeads.all().map(toChainHead);
  }

  async ledgerEntryIds(ids: readonly string[]): Promise<ReadonlySet<string>> {
    if (ids.length === 0) return new Set();
    // One bound parameter (a JSON array), whatever the number of ids.
    this.selectStoredIds ??= this.db.prepare<[string], { id: string }>(
      'SELECT id FROM ledger WHERE id IN (SELECT value FROM json_each(?))',
    );
    return new Set(this.selectStoredIds.all(JSON.stringify(ids)).map((row) => row.id));
  }

  /**
   * Streams every row in (chain_id, seq) order through LedgerChainVerifier, in constant memory. It
   * reads on a separate read-only connection inside one read transaction (one WAL snapshot for the
   * heads and the rows), so it can yield to the event loop while appends continue on this one.
   */
  async verifyLedger(options: VerifyOptions = {}): Promise<VerifyResult> {
    if (!this.db.open) throw new Error('the store is closed');
    const reader =
      this.path === ':memory:' ? null : new Database(this.path, { readonly: true, fileMustExist: true });
    const db = reader ?? this.db;
    try {
      db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      db.exec('BEGIN');
      try {
        const recordedHeads = db.prepare<[], HeadRow>(SELECT_HEADS).all().map(toChainHead);
        const verifier = new LedgerChainVerifier({
          expectedHeads: options.expectedHeads ?? [],
          recordedHeads,
        });
        let count = 0;
        for (const row of db.prepare<[], LedgerRow>(`${SELECT_LEDGER} ORDER BY chain_id, seq`).iterate()) {
          const entry = readForVerify(row);
          const failure = 'ok' in entry ? entry : verifier.push(entry);
          if (failure) return failure;
          count += 1;
          if (reader && count % VERIFY_YIELD_EVERY === 0) await nextTurn();
        }
        return verifier.finish();
      } finally {
        db.exec('COMMIT');
      }
    } finally {
      reader?.close();
    }
  }

  async insertKey(key: VirtualKeyRecord): Promise<void> {
    try {
      this.statements.insertKey.run(toKeyRow(key));
    } catch (error) {
      if (isConstraint(error, 'virtual_keys.id')) {
        throw new Error(`virtual key id ${JSON.stringify(key.id)} already exists`);
      }
      if (isConstraint(error, 'virtual_keys.hash')) {
        throw new Error('a virtual key with this hash already exists');
      }
      throw error;
    }
  }

  async findKeyByHash(hash: string): Promise<VirtualKeyRecord | null> {
    // `=` on TEXT uses the BINARY collation: an exact, case-sensitive match.
    const row = this.statements.selectKeyByHash.get(hash);
    return row ? toKeyRecord(row) : null;
  }

  async listKeys(): Promise<readonly VirtualKeyRecord[]> {
    return this.statements.selectKeys.all().map(toKeyRecord);
  }

  async revokeKey(id: string): Promise<boolean> {
    return this.statements.revokeKey.run(id).changes > 0;
  }
}

function isConstraint(error: unknown, column: string): boolean {
  return (
    error instanceof Database.SqliteError &&
    error.code.startsWith('SQLITE_CONSTRAINT') &&
    error.message.includes(column)
  );
}
