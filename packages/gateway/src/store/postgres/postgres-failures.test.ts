/**
 * Failure paths of the PostgreSQL store, each produced for real on the server: a lock-order
 * deadlock, constraint and data refusals set aside in the dead-letter table, and tampering.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sampleLedgerEntries, sampleLedgerEntry } from '../../test-support/ledger-entries.js';
import { hashEntry } from '../ledger-hash.js';
import type { GatewayStore, LedgerEntry } from '../store.js';
import { LedgerDeadLetterError } from './postgres-store.js';
import {
  adminQuery,
  cleanupPostgres,
  endAdmin,
  freshSchema,
  openTestStore,
  TEST_POSTGRES_URL,
  tableOf,
} from './postgres-test-support.js';

afterAll(endAdmin);
afterEach(cleanupPostgres);

async function deadLetters(schema: string): Promise<Record<string, unknown>[]> {
  const result = await adminQuery(
    `SELECT chain_id, entry_count, entries, error_code, error_message, failures FROM ${tableOf(schema, 'ledger_dead_letter')} ORDER BY id`,
  );
  return result.rows;
}

async function ledgerCount(schema: string): Promise<number> {
  const result = await adminQuery(`SELECT count(*)::int AS n FROM ${tableOf(schema, 'ledger')}`);
  return Number(result.rows[0]?.n);
}

describe('postgres store: deadlocks are retried', () => {
  it('retries an append that PostgreSQL chose as a deadlock victim', async () => {
    const schema = freshSchema();
    const retried: unknown[] = [];
    const store = await openTestStore(schema, {
      onError: (error, event) => {
        if (event === 'append-retry') retried.push(error);
      },
    });
    await store.appendLedger('chain-a', sampleLedgerEntries(2));
    // Another session holds the id of the batch's second entry (an uncommitted row in chain-z)...
    const other = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await other.connect();
    try {
      await other.query('BEGIN');
      // ...and gives the store's session the first turn to detect the deadlock (default 1 s).
      await other.query("SET LOCAL deadlock_timeout = '20s'");
      await other.query(
        `INSERT INTO ${tableOf(schema, 'ledger')} (chain_id, seq, id, request_id, attempt, started_at_ms, key_id, ` +
          'model_requested, model_served, provider, owned, input_tokens, cached_input_tokens, output_tokens, ' +
          'reasoning_tokens, estimated, cost_usd, latency_ms, status, streamed, metadata, prev_hash, hash) ' +
          `VALUES ('chain-z', 1, $1, 'r', 1, 0, 'k', 'm', 'm', 'p', false, 0, 0, 0, 0, false, 0, 0, 'ok', false, '{}', '', 'x')`,
        [sampleLedgerEntry(3).id],
      );
      // The store locks chain-a's head, then waits on that id...
      const appending = store.appendLedger('chain-a', sampleLedgerEntries(2, 2));
      await waitUntilBlocked(schema);
      // ...while this session waits on chain-a's head: a lock-order deadlock.
      const locking = other.query(
        `SELECT seq FROM ${tableOf(schema, 'chain_heads')} WHERE chain_id = 'chain-a' FOR UPDATE`,
      );
      await locking;
      await other.query('ROLLBACK');
      const appended = await appending;
      expect(appended.map((entry) => entry.seq)).toEqual([3, 4]);
    } finally {
      await other.end();
    }
    expect(retried).toHaveLength(1);
    expect(retried[0]).toMatchObject({ code: '40P01' });
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 4, chains: 1 });
    await expect(deadLetters(schema)).resolves.toEqual([]);
  });
});

/** Waits until a session of the store waits on a lock, running a statement that starts with `statement`. */
async function waitUntilBlocked(schema: string, statement = 'COPY'): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    const result = await adminQuery(
      'SELECT count(*)::int AS n FROM pg_stat_activity ' +
        "WHERE wait_event_type = 'Lock' AND application_name = 'autocap-gateway' AND query LIKE $1",
      [`${statement}%${schema}%`],
    );
    if (Number(result.rows[0]?.n) > 0) return;
    await sleep(10);
  }
  throw new Error('the append never blocked');
}

describe('postgres store: a dropped connection', () => {
  it('fails the append without setting it aside, stores nothing, and the retry succeeds', async () => {
    const schema = freshSchema();
    const lost: unknown[] = [];
    const store = await openTestStore(schema, {
      onError: (error, event) => {
        if (event === 'connection-lost') lost.push(error);
      },
    });
    await store.appendLedger('chain-a', sampleLedgerEntries(2));
    const other = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await other.connect();
    const batch = sampleLedgerEntries(3, 2);
    try {
      await other.query('BEGIN');
      await other.query(
        `SELECT seq FROM ${tableOf(schema, 'chain_heads')} WHERE chain_id = 'chain-a' FOR UPDATE`,
      );
      const appending = store.appendLedger('chain-a', batch).catch((error: unknown) => error);
      await waitUntilBlocked(schema, 'SELECT chain_id, seq, hash FROM');
      // The server ends the store's session in the middle of its transaction.
      await adminQuery(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity ' +
          "WHERE application_name = 'autocap-gateway' AND wait_event_type = 'Lock' AND query LIKE $1",
        [`%${schema}%`],
      );
      const failure = await appending;
      expect(failure).toBeInstanceOf(Error);
      expect(failure).not.toBeInstanceOf(LedgerDeadLetterError);
      expect(failure).toMatchObject({ code: '57P01' }); // admin_shutdown: transient, not refused
      // The dropped socket also raised an 'error' event on the checked-out connection: heard, not fatal.
      for (const error of lost) expect(String(error)).toMatch(/Connection terminated/);
      await other.query('ROLLBACK');
    } finally {
      await other.end();
    }
    expect(await ledgerCount(schema)).toBe(2);
    const appended = await store.appendLedger('chain-a', batch);
    expect(appended.map((entry) => entry.seq)).toEqual([3, 4, 5]);
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 5, chains: 1 });
    await expect(deadLetters(schema)).resolves.toEqual([]);
  });
});

describe('postgres store: refused batches go to the dead-letter table', () => {
  it('sets aside a batch with an id already used in another chain', async () => {
    const schema = freshSchema();
    const store = await openTestStore(schema);
    await store.appendLedger('chain-b', [sampleLedgerEntry(1)]);
    await store.appendLedger('chain-a', [sampleLedgerEntry(0)]);
    const batch = [sampleLedgerEntry(2), sampleLedgerEntry(1)];
    const failure = await store.appendLedger('chain-a', batch).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LedgerDeadLetterError);
    expect((failure as Error).message).toMatch(
      /ledger entry id "att_000001" is already in the ledger .*set aside in ledger_dead_letter \(id \d+\)/,
    );
    expect(failure).toMatchObject({ errorCode: '23505' });
    // The ledger writer retries a failed batch: one dead-letter row, counting the failures.
    await expect(store.appendLedger('chain-a', batch)).rejects.toThrow(LedgerDeadLetterError);
    const [dead, ...others] = await deadLetters(schema);
    expect(others).toEqual([]);
    expect(dead).toMatchObject({ chain_id: 'chain-a', entry_count: 2, error_code: '23505', failures: 2 });
    expect(JSON.parse(String(dead?.['entries']))).toEqual(batch);
    expect(await ledgerCount(schema)).toBe(2);
    const [next] = await store.appendLedger('chain-a', [sampleLedgerEntry(2)]);
    expect(next?.seq).toBe(2);
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 3, chains: 2 });
  });

  it('sets aside a batch that violates a check constraint an administrator added', async () => {
    const schema = freshSchema();
    const store = await openTestStore(schema);
    await adminQuery(
      `ALTER TABLE ${tableOf(schema, 'ledger')} ADD CONSTRAINT sane_tokens CHECK (input_tokens < 1000000)`,
    );
    const batch = [sampleLedgerEntry(0), sampleLedgerEntry(1, { inputTokens: 5_000_000 })];
    await expect(store.appendLedger('chain-a', batch)).rejects.toThrow(
      /constraint sane_tokens.*23514.*set aside in ledger_dead_letter/,
    );
    await expect(deadLetters(schema)).resolves.toMatchObject([{ error_code: '23514', entry_count: 2 }]);
    expect(await ledgerCount(schema)).toBe(0);
    await expect(store.chainHeads()).resolves.toEqual([]);
  });

  it('sets aside a batch holding U+0000, which PostgreSQL text cannot store, and names the field', async () => {
    const schema = freshSchema();
    const store = await openTestStore(schema);
    const batch = [sampleLedgerEntry(0, { modelServed: 'nul\u0000model' })];
    await expect(store.appendLedger('chain-a', batch)).rejects.toThrow(
      /"att_000000": modelServed holds the character U\+0000.*set aside/,
    );
    const [dead] = await deadLetters(schema);
    expect(JSON.parse(String(dead?.['entries']))).toEqual(batch);
    // U+0000 inside metadata is fine: metadata is stored as JSON text, which escapes it.
    await store.appendLedger('chain-a', [sampleLedgerEntry(0, { metadata: { note: 'a\u0000b' } })]);
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 1, chains: 1 });
  });
});

describe('postgres store: tamper evidence', () => {
  async function ledgerOfTen(): Promise<{
    schema: string;
    store: GatewayStore;
    entries: readonly LedgerEntry[];
  }> {
    const schema = freshSchema();
    const store = await openTestStore(schema);
    await store.appendLedger('chain-b', sampleLedgerEntries(3, 100));
    const entries = await store.appendLedger('chain-a', sampleLedgerEntries(10));
    await expect(store.verifyLedger()).resolves.toMatchObject({ ok: true, entries: 13 });
    return { schema, store, entries };
  }

  function entryAt(entries: readonly LedgerEntry[], seq: number): LedgerEntry {
    const entry = entries.find((candidate) => candidate.seq === seq);
    if (!entry) throw new Error(`no entry at seq ${seq}`);
    return entry;
  }

  it('reports an altered token count at its seq', async () => {
    const { schema, store, entries } = await ledgerOfTen();
    await adminQuery(
      `UPDATE ${tableOf(schema, 'ledger')} SET output_tokens = output_tokens + 1 WHERE chain_id = 'chain-a' AND seq = 4`,
    );
    await expect(store.verifyLedger()).resolves.toMatchObject({
      ok: false,
      chainId: 'chain-a',
      seq: 4,
      entryId: entryAt(entries, 4).id,
      problem: 'altered',
    });
  });

  it('reports metadata that is no longer JSON as altered', async () => {
    const { schema, store } = await ledgerOfTen();
    await adminQuery(
      `UPDATE ${tableOf(schema, 'ledger')} SET metadata = 'lots' WHERE chain_id = 'chain-a' AND seq = 6`,
    );
    await expect(store.verifyLedger()).resolves.toMatchObject({ ok: false, seq: 6, problem: 'altered' });
  });

  it('reports a deleted middle entry as missing', async () => {
    const { schema, store } = await ledgerOfTen();
    await adminQuery(`DELETE FROM ${tableOf(schema, 'ledger')} WHERE chain_id = 'chain-a' AND seq = 5`);
    const result = await store.verifyLedger();
    expect(result).toMatchObject({
      ok: false,
      chainId: 'chain-a',
      seq: 5,
      entryId: null,
      problem: 'missing',
    });
    expect(result.ok ? '' : result.message).toMatch(/entry 5 is missing/);
  });

  it('catches an entry altered and re-hashed by someone who knows the format, at the next entry', async () => {
    const { schema, store, entries } = await ledgerOfTen();
    const target = entryAt(entries, 4);
    const forged = { ...target, outputTokens: target.outputTokens + 1000 };
    await adminQuery(
      `UPDATE ${tableOf(schema, 'ledger')} SET output_tokens = $1, hash = $2 WHERE chain_id = 'chain-a' AND seq = 4`,
      [forged.outputTokens, hashEntry(target.prevHash, 'chain-a', 4, forged)],
    );
    const result = await store.verifyLedger();
    expect(result).toMatchObject({ ok: false, seq: 5, entryId: entryAt(entries, 5).id, problem: 'missing' });
  });

  it('catches a truncated tail against the recorded head', async () => {
    const { schema, store } = await ledgerOfTen();
    await adminQuery(`DELETE FROM ${tableOf(schema, 'ledger')} WHERE chain_id = 'chain-a' AND seq > 8`);
    await expect(store.verifyLedger()).resolves.toMatchObject({
      ok: false,
      chainId: 'chain-a',
      seq: 9,
      problem: 'missing',
    });
  });

  it('verifies more than one keyset page, and one snapshot while appends continue', async () => {
    const schema = freshSchema();
    const store = await openTestStore(schema);
    for (let batch = 0; batch < 5; batch += 1) {
      await store.appendLedger('chain-a', sampleLedgerEntries(1000, batch * 1000));
    }
    await store.appendLedger('chain-b', sampleLedgerEntries(10, 9000));
    const verifying = store.verifyLedger();
    await store.appendLedger('chain-a', sampleLedgerEntries(100, 5000));
    const result = await verifying;
    expect([5010, 5110]).toContain(result.ok ? result.entries : -1);
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 5110, chains: 2 });
    await adminQuery(`DELETE FROM ${tableOf(schema, 'ledger')} WHERE chain_id = 'chain-a' AND seq = 4500`);
    await expect(store.verifyLedger()).resolves.toMatchObject({ ok: false, seq: 4500, problem: 'missing' });
  });
});
