import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  classifyAppendFailure,
  LedgerConflictError,
  LedgerDeadLetterError,
} from './postgres/postgres-errors.js';
import { isConnectionError } from './store-errors.js';

function databaseError(code: string): pg.DatabaseError {
  const error = new pg.DatabaseError(`server said ${code}`, 0, 'error');
  error.code = code;
  error.severity = 'ERROR';
  return error;
}

describe('isConnectionError', () => {
  it('agrees with the PostgreSQL store on which SQLSTATEs are transient', () => {
    const codes = ['08006', '08001', '40P01', '40001', '40003', '53300', '53100', '57P01', '57P03', '57014'];
    const refusals = ['23505', '23514', '22021', '22P02', '42P01', '55P02', '25P02'];
    for (const code of [...codes, '58030', 'XX000', '55P03', '25P03', ...refusals]) {
      const error = databaseError(code);
      expect([code, isConnectionError(error)]).toEqual([code, classifyAppendFailure(error) !== 'permanent']);
    }
    for (const code of codes) expect(isConnectionError(databaseError(code))).toBe(true);
    for (const code of refusals) expect(isConnectionError(databaseError(code))).toBe(false);
  });

  it("recognizes node-postgres's and Node's own connection failures", () => {
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Client has encountered a connection error and is not queryable',
    ]) {
      expect([message, isConnectionError(new Error(message))]).toEqual([message, true]);
    }
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(isConnectionError(refused)).toBe(true);
    expect(isConnectionError(new AggregateError([refused], 'every address failed'))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
  });

  it('counts SQLite BUSY, LOCKED and IOERR, not constraints', () => {
    const sqlite = (code: string) => new Database.SqliteError('sqlite said so', code);
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_IOERR_FSYNC']) {
      expect([code, isConnectionError(sqlite(code))]).toEqual([code, true]);
    }
    for (const code of [
      'SQLITE_CONSTRAINT_CHECK',
      'SQLITE_CONSTRAINT_UNIQUE',
      'SQLITE_FULL',
      'SQLITE_CORRUPT',
    ]) {
      expect([code, isConnectionError(sqlite(code))]).toEqual([code, false]);
    }
  });

  it('does not count refusals, bugs or non-errors', () => {
    const conflict = new LedgerConflictError('another gateway appends to this chain');
    expect(isConnectionError(conflict)).toBe(false);
    const deadLetter = new LedgerDeadLetterError('set aside', 7, '23514', { cause: databaseError('23514') });
    expect(isConnectionError(deadLetter)).toBe(false);
    expect(isConnectionError(new TypeError("Cannot read properties of undefined (reading 'seq')"))).toBe(
      false,
    );
    expect(isConnectionError(new Error('SQLITE_BUSY: database is locked'))).toBe(false);
    expect(isConnectionError('ECONNREFUSED')).toBe(false);
    expect(isConnectionError(null)).toBe(false);
  });
});
