/**
 * Which store failures mean "the database cannot be reached right now" rather than "the database
 * refused this batch". The ledger writer spools the first kind to local disk and replays it later
 * (ledger/ledger-spool.ts); the second kind is retried a few times and then rejected (PostgreSQL
 * has already set the batch aside in `ledger_dead_letter`).
 *
 * - PostgreSQL: what postgres-errors.ts calls transient or retry-here (SQLSTATE classes 08, 40,
 *   53, 57, 58, XX, lock and idle-session timeouts), plus node-postgres's own errors for a
 *   connection that dropped or could not be opened in time.
 * - SQLite: SQLITE_BUSY and SQLITE_LOCKED (another process held the lock past busy_timeout) and
 *   SQLITE_IOERR (the disk failed an operation; the transaction was rolled back).
 * - Any driver: a network error from Node (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...).
 *
 * Anything else (a constraint, a chain conflict, a bug) is not a connection error: spooling it
 * would only replay the same refusal later.
 *
 * Errors are recognized by their shape, without importing either driver: the ledger writer loads
 * this module, and a bundled writer (test-support/ledger-child.ts) must not pull in node-postgres.
 * store-errors.test.ts checks that the SQLSTATE rule agrees with postgres-errors.ts.
 */

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** node-postgres and pg-pool raise plain Errors with these messages when a connection fails. */
const PG_CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect$/,
  /^timeout expired$/,
  /^Query read timeout$/,
  /^Client has encountered a connection error and is not queryable$/,
];

const SQLITE_CONNECTION_CODES = /^SQLITE_(BUSY|LOCKED|IOERR)(_|$)/;

/** postgres-errors.ts's transient and retry-here SQLSTATEs. */
const PG_TRANSIENT_CLASSES = new Set(['08', '40', '53', '57', '58', 'XX']);
const PG_TRANSIENT_CODES = new Set(['55P03', '25P03']);
const SQLSTATE = /^[0-9A-Z]{5}$/;

/** True when `error` says the database is unreachable or busy, not that it refused the data. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  // better-sqlite3's SqliteError
  if (error.name === 'SqliteError' && typeof code === 'string') return SQLITE_CONNECTION_CODES.test(code);
  // node-postgres's DatabaseError: a server-reported SQLSTATE
  if (typeof code === 'string' && typeof severity === 'string' && SQLSTATE.test(code)) {
    return PG_TRANSIENT_CLASSES.has(code.slice(0, 2)) || PG_TRANSIENT_CODES.has(code);
  }
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  if (error instanceof AggregateError && error.errors.some(isConnectionError)) return true;
  return PG_CONNECTION_MESSAGES.some((pattern) => pattern.test(error.message));
}

/**
 * Another writer appended to this chain: two gateway instances were given one chain id
 * (PostgreSQL), or one SQLite file has a second writer process. Both stores throw it.
 */
export class LedgerConflictError extends Error {
  override readonly name = 'LedgerConflictError';
}
