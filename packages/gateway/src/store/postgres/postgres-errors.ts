/**
 * How the PostgreSQL store sorts a failed append, and where a refused batch goes.
 *
 * - retry here: a deadlock (40P01) or serialization failure (40001) rolled the transaction back;
 *   running it again is expected to succeed, so appendLedger does, a few times.
 * - transient: the connection, the server or a timeout failed (no SQLSTATE, or classes 08, 53, 57,
 *   58, XX, other 40s). Nothing was stored, or the COMMIT went through and its answer was lost: the
 *   error goes to the caller, whose retry (the ledger writer's) is safe either way, because a
 *   repeated batch that is already stored is recognized and returned (see postgres-store.ts).
 * - permanent: PostgreSQL refused this batch (a constraint, bad data, a second writer on the chain):
 *   running it again gives the same answer. The batch is set aside in `ledger_dead_letter` in its
 *   own transaction, and the error says so; nothing of it is in `ledger`.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { LedgerEntryInput } from '../store.js';
import { LedgerConflictError } from '../store-errors.js';
import type { PostgresQueryable } from './postgres-migrations.js';

export { LedgerConflictError };

/** PostgreSQL refused a batch for good; it was set aside in `ledger_dead_letter` (unless that failed too). */
export class LedgerDeadLetterError extends Error {
  override readonly name = 'LedgerDeadLetterError';
  constructor(
    message: string,
    /** The row in ledger_dead_letter holding the batch; null when setting it aside failed too. */
    readonly deadLetterId: number | null,
    /** The SQLSTATE of the refusal, or 'chain-conflict'. */
    readonly errorCode: string,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

export type AppendFailureKind = 'retry-here' | 'transient' | 'permanent';

const TRANSIENT_CLASSES = new Set(['08', '40', '53', '57', '58', 'XX']);
const TRANSIENT_CODES = new Set([
  '55P03', // lock_not_available (lock_timeout)
  '25P03', // idle_in_transaction_session_timeout: the server closed the session
]);

export function classifyAppendFailure(error: unknown): AppendFailureKind {
  if (error instanceof LedgerConflictError) return 'permanent';
  const code = sqlState(error);
  if (code === null) return 'transient';
  if (code === '40P01' || code === '40001') return 'retry-here';
  if (TRANSIENT_CLASSES.has(code.slice(0, 2)) || TRANSIENT_CODES.has(code)) return 'transient';
  return 'permanent';
}

/** The SQLSTATE of an error PostgreSQL reported, or null (a network error, a bug, a pool error). */
export function sqlState(error: unknown): string | null {
  return error instanceof pg.DatabaseError && typeof error.code === 'string' ? error.code : null;
}

/** A sentence for a permanent failure, naming the entry or the constraint where it can. */
export function describeRefusal(
  error: unknown,
  chainId: string,
  entries: readonly LedgerEntryInput[],
): string {
  if (error instanceof LedgerConflictError) return error.message;
  if (!(error instanceof pg.DatabaseError)) return String(error);
  const nul = error.code === '22021' ? findNulCharacter(entries) : null;
  if (nul) {
    return (
      `ledger entry ${JSON.stringify(nul.entryId)}: ${nul.field} holds the character U+0000, which ` +
      'PostgreSQL text cannot store'
    );
  }
  if (error.code === '23505' && error.constraint === 'ledger_id_key') {
    const duplicate = /^Key \(id\)=\((.*)\) already exists\.$/s.exec(error.detail ?? '')?.[1];
    const entry =
      duplicate === undefined ? 'an entry id of the batch' : `ledger entry id ${JSON.stringify(duplicate)}`;
    return `${entry} is already in the ledger (or twice in the batch)`;
  }
  if (error.code === '23505' && error.constraint === 'ledger_pkey') {
    return (
      `ledger chain ${JSON.stringify(chainId)} already has entries beyond its recorded head: ` +
      'run `autocap ledger verify`'
    );
  }
  const where = error.constraint ? ` (constraint ${error.constraint})` : '';
  return `PostgreSQL refused the batch: ${error.message}${where} [SQLSTATE ${error.code}]`;
}

/**
 * Records the batch in `ledger_dead_letter` (one row per distinct batch: a retried batch counts up
 * `failures`) and returns the error to throw. Never throws itself.
 */
export async function setAsideBatch(
  database: PostgresQueryable,
  options: {
    readonly table: string;
    readonly chainId: string;
    readonly entries: readonly LedgerEntryInput[];
    readonly error: unknown;
    readonly now: () => number;
  },
): Promise<LedgerDeadLetterError> {
  const { table, chainId, entries, error } = options;
  const reason = describeRefusal(error, chainId, entries);
  const errorCode = error instanceof LedgerConflictError ? 'chain-conflict' : (sqlState(error) ?? 'unknown');
  const json = JSON.stringify(entries);
  const batchHash = createHash('sha256')
    .update(JSON.stringify([chainId, json]), 'utf8')
    .digest('hex');
  const batch = `the batch of ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}`;
  try {
    const now = options.now();
    const result = await database.query(
      `INSERT INTO ${table} AS dead (chain_id, batch_hash, entry_count, entries, error_code, error_message, ` +
        'first_failed_at_ms, last_failed_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ' +
        'ON CONFLICT (chain_id, batch_hash) DO UPDATE SET failures = dead.failures + 1, ' +
        'error_code = excluded.error_code, error_message = excluded.error_message, ' +
        'last_failed_at_ms = excluded.last_failed_at_ms RETURNING id',
      [chainId, batchHash, entries.length, json, errorCode, reason, now],
    );
    const id = Number(result.rows[0]?.['id']);
    return new LedgerDeadLetterError(
      `${reason}; ${batch} was set aside in ledger_dead_letter (id ${id}), and none of it is in the ledger`,
      id,
      errorCode,
      { cause: error },
    );
  } catch (setAsideError) {
    const detail = setAsideError instanceof Error ? setAsideError.message : String(setAsideError);
    return new LedgerDeadLetterError(
      `${reason}; setting ${batch} aside in ledger_dead_letter failed too (${detail}): none of it is stored`,
      null,
      errorCode,
      { cause: error },
    );
  }
}

/** The first string field holding U+0000 (metadata is stored as JSON text, which escapes it). */
function findNulCharacter(entries: readonly LedgerEntryInput[]): { entryId: string; field: string } | null {
  for (const entry of entries) {
    for (const [field, value] of Object.entries(entry)) {
      if (typeof value === 'string' && value.includes('\u0000')) return { entryId: entry.id, field };
    }
  }
  return null;
}
