import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sampleLedgerEntries, sampleLedgerEntry } from '../../test-support/ledger-entries.js';
import { openStore } from '../open-store.js';
import { describeStoreContract } from '../store-contract.js';
import { applyPostgresMigrations, POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import { LedgerConflictError, LedgerDeadLetterError, openPostgresStore } from './postgres-store.js';
import {
  adminQuery,
  cleanupPostgres,
  endAdmin,
  freshSchema,
  openTestStore,
  requirePostgres,
  TEST_POSTGRES_URL,
  tableOf,
} from './postgres-test-support.js';

afterAll(endAdmin);

describeStoreContract('postgres', () => openTestStore(freshSchema()), cleanupPostgres);

describe('postgres store', () => {
  afterEach(cleanupPostgres);

  it('reaches the PostgreSQL server the store tests need', async () => {
    await expect(requirePostgres()).resolves.toBeUndefined();
  });

  it('lets two instances append concurrently to their own chains, 2,000 entries each', async () => {
    const schema = freshSchema();
    // Two stores, two pools: as two gateway processes behind a load balancer would have.
    const [first, second] = await Promise.all([openTestStore(schema), openTestStore(schema)]);
    async function appendAll(store: typeof first, chainId: string, offset: number): Promise<void> {
      // 40 batches of 50, two in flight at a time from each store, in call order.
      for (let batch = 0; batch < 40; batch += 2) {
        await Promise.all([
          store.appendLedger(chainId, sampleLedgerEntries(50, offset + batch * 50)),
          store.appendLedger(chainId, sampleLedgerEntries(50, offset + (batch + 1) * 50)),
        ]);
      }
    }
    await Promise.all([appendAll(first, 'gateway-1', 0), appendAll(second, 'gateway-2', 2000)]);
    const heads = await second.chainHeads();
    expect(heads.map((head) => [head.chainId, head.seq])).toEqual([
      ['gateway-1', 2000],
      ['gateway-2', 2000],
    ]);
    await expect(first.verifyLedger()).resolves.toEqual({ ok: true, entries: 4000, chains: 2 });
    const keys = await first.listKeys();
    expect(keys).toEqual([]);
  });

  it('shares keys between instances at once', async () => {
    const schema = freshSchema();
    const [first, second] = await Promise.all([openTestStore(schema), openTestStore(schema)]);
    const key = {
      id: 'key_shared',
      hash: 'a'.repeat(64),
      name: 'team',
      createdAtMs: 1,
      expiresAtMs: null,
      allowedModels: [],
      revoked: false,
    };
    await first.insertKey(key);
    await expect(second.findKeyByHash(key.hash)).resolves.toEqual(key);
    await expect(second.revokeKey(key.id)).resolves.toBe(true);
    await expect(first.findKeyByHash(key.hash)).resolves.toMatchObject({ revoked: true });
  });

  it('migrates a fresh schema exactly once when five instances start together', async () => {
    const schema = freshSchema();
    const stores = await Promise.all(Array.from({ length: 5 }, () => openTestStore(schema)));
    const applied = await adminQuery(
      `SELECT version, name FROM ${tableOf(schema, 'schema_migrations')} ORDER BY version`,
    );
    expect(applied.rows).toEqual(POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name })));
    await Promise.all(
      stores.map((store, index) => store.appendLedger(`chain-${index}`, [sampleLedgerEntry(index)])),
    );
    await expect(stores[0]?.verifyLedger()).resolves.toEqual({ ok: true, entries: 5, chains: 5 });

    // The migrator itself, raced from five pools: one applies, four find nothing to do.
    const racing = freshSchema();
    const pools = Array.from(
      { length: 5 },
      () => new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 1 }),
    );
    try {
      const done = await Promise.all(
        pools.map(async (pool) =>
          applyPostgresMigrations(await pool.connect(), { schema: racing, now: () => 0 }),
        ),
      );
      expect(done.flat()).toEqual(POSTGRES_MIGRATIONS.map((migration) => migration.version));
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('refuses a database migrated by a newer version', async () => {
    const schema = freshSchema();
    await openTestStore(schema);
    await adminQuery(
      `INSERT INTO ${tableOf(schema, 'schema_migrations')} (version, name, applied_at_ms) VALUES (99, 'x', 0)`,
    );
    const store = openPostgresStore(TEST_POSTGRES_URL, { schema });
    try {
      await expect(store.listKeys()).rejects.toThrow(/newer version/);
    } finally {
      await store.close();
    }
  });

  it('returns the stored entries when a batch whose COMMIT answer was lost is sent again', async () => {
    const schema = freshSchema();
    const gateway = await openTestStore(schema);
    // Opened before the append: its head for chain-a is still empty, as the gateway's own head is
    // after a COMMIT whose answer never arrived.
    const retrying = await openTestStore(schema);
    const batch = sampleLedgerEntries(5);
    const stored = await gateway.appendLedger('chain-a', batch);
    await expect(retrying.appendLedger('chain-a', batch)).resolves.toEqual(stored);
    // The retrying store now continues the chain from there.
    const more = await retrying.appendLedger('chain-a', sampleLedgerEntries(2, 5));
    expect(more.map((entry) => entry.seq)).toEqual([6, 7]);
    await expect(retrying.verifyLedger()).resolves.toEqual({ ok: true, entries: 7, chains: 1 });
    await expect(
      adminQuery(`SELECT count(*)::int AS n FROM ${tableOf(schema, 'ledger_dead_letter')}`),
    ).resolves.toMatchObject({
      rows: [{ n: 0 }],
    });
  });

  it('treats a different batch behind a stale head as a conflict, and sets it aside', async () => {
    const schema = freshSchema();
    const gateway = await openTestStore(schema);
    const intruder = await openTestStore(schema);
    await gateway.appendLedger('chain-a', sampleLedgerEntries(2));
    // Same first id, different content: not the batch that was committed.
    const forged = [sampleLedgerEntry(0, { outputTokens: 9999 }), sampleLedgerEntry(1)];
    const failure = await intruder.appendLedger('chain-a', forged).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LedgerDeadLetterError);
    expect((failure as LedgerDeadLetterError).cause).toBeInstanceOf(LedgerConflictError);
    expect((failure as Error).message).toMatch(/another gateway instance is appending to the same chain/);
    expect((failure as Error).message).toMatch(/set aside in ledger_dead_letter \(id \d+\)/);
    await expect(intruder.appendLedger('chain-a', sampleLedgerEntries(1, 2))).rejects.toThrow(
      /seq 2 in PostgreSQL/,
    );
    await gateway.appendLedger('chain-a', sampleLedgerEntries(1, 2));
    await expect(gateway.verifyLedger()).resolves.toEqual({ ok: true, entries: 3, chains: 1 });
    const dead = await adminQuery(
      `SELECT error_code, entry_count FROM ${tableOf(schema, 'ledger_dead_letter')} ORDER BY id`,
    );
    expect(dead.rows).toEqual([
      { error_code: 'chain-conflict', entry_count: 2 },
      { error_code: 'chain-conflict', entry_count: 1 },
    ]);
  });

  it('serializes appends to one chain from one store, in call order', async () => {
    const store = await openTestStore(freshSchema());
    const batches = Array.from({ length: 10 }, (_, index) => sampleLedgerEntries(3, index * 3));
    const results = await Promise.all(batches.map((batch) => store.appendLedger('chain-a', batch)));
    expect(results.flat().map((entry) => entry.seq)).toEqual(
      Array.from({ length: 30 }, (_, index) => index + 1),
    );
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 30, chains: 1 });
  });

  it('fails a call while the server cannot be reached, and works once it can', async () => {
    const store = openPostgresStore('postgres://postgres@127.0.0.1:1/test', { connectTimeoutMs: 2000 });
    try {
      await expect(store.listKeys()).rejects.toThrow(/ECONNREFUSED|connect/);
    } finally {
      await store.close();
    }
    await expect(store.listKeys()).rejects.toThrow(/closed/);
  });

  it('rejects bad options with the name of the option', () => {
    expect(() => openPostgresStore(TEST_POSTGRES_URL, { schema: 'Bad-Name' })).toThrow(/schema/);
    expect(() => openPostgresStore(TEST_POSTGRES_URL, { poolSize: 0 })).toThrow(/poolSize/);
    expect(() => openPostgresStore(TEST_POSTGRES_URL, { statementTimeoutMs: -1 })).toThrow(
      /statementTimeoutMs/,
    );
  });

  it('openStore picks PostgreSQL when a URL is given, SQLite otherwise', async () => {
    const schema = freshSchema();
    const store = openStore({ sqlite: ':memory:', postgresUrl: TEST_POSTGRES_URL }, { postgres: { schema } });
    try {
      await store.migrate();
      await store.appendLedger('chain-a', sampleLedgerEntries(1));
      const rows = await adminQuery(`SELECT count(*)::int AS n FROM ${tableOf(schema, 'ledger')}`);
      expect(rows.rows).toEqual([{ n: 1 }]);
    } finally {
      await store.close();
    }
    const embedded = openStore({ sqlite: ':memory:', postgresUrl: undefined });
    await embedded.appendLedger('chain-a', sampleLedgerEntries(1));
    await expect(embedded.verifyLedger()).resolves.toEqual({ ok: true, entries: 1, chains: 1 });
    await embedded.close();
    expect(() => openStore({})).toThrow(/store.sqlite .* or store.postgres_url/);
  });
});
