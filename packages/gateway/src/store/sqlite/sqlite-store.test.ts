import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleLedgerEntries } from '../../test-support/ledger-entries.js';
import { hashEntry } from '../ledger-hash.js';
import type { GatewayStore, LedgerEntry } from '../store.js';
import { describeStoreContract } from '../store-contract.js';
import { LedgerConflictError, openSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

const directories: string[] = [];
const opened: GatewayStore[] = [];

/** A path in a fresh temporary directory, one level below it (the store creates the parent). */
function tempPath(): string {
  const directory = mkdtempSync(join(tmpdir(), 'autocap-sqlite-'));
  directories.push(directory);
  return join(directory, 'data', 'gateway.db');
}

function open(path: string, options: SqliteStoreOptions = {}): GatewayStore {
  const store = openSqliteStore(path, options);
  opened.push(store);
  return store;
}

async function removeTemp(): Promise<void> {
  for (const store of opened.splice(0)) await store.close();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
}

/** A second connection, as an attacker or a careless admin with the sqlite3 shell would have. */
function tamper(path: string, edit: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    edit(db);
  } finally {
    db.close();
  }
}

describeStoreContract('sqlite', async () => openSqliteStore(tempPath()), removeTemp);

describe('sqlite store', () => {
  afterEach(removeTemp);

  it('creates the parent directory, and continues the chain after a reopen', async () => {
    const path = tempPath();
    const first = open(path);
    expect(existsSync(path)).toBe(true);
    await first.appendLedger('chain-a', sampleLedgerEntries(3));
    await first.close();
    const second = open(path);
    await second.migrate();
    const more = await second.appendLedger('chain-a', sampleLedgerEntries(2, 3));
    expect(more.map((entry) => entry.seq)).toEqual([4, 5]);
    await expect(second.verifyLedger()).resolves.toEqual({ ok: true, entries: 5, chains: 1 });
    tamper(path, (db) => {
      expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([
        { version: 1, name: 'ledger-chain-heads-virtual-keys' },
        { version: 2, name: 'teams-key-governance-budgets-rate-counters' },
        { version: 3, name: 'ledger-time-index-only' },
      ]);
      const indexes = db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger' AND sql IS NOT NULL",
        )
        .all();
      expect(indexes).toEqual([{ name: 'ledger_time' }]);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    });
  });

  it('refuses a database migrated by a newer version', async () => {
    const path = tempPath();
    await open(path).close();
    tamper(path, (db) => {
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)').run(
        99,
        'x',
        0,
      );
    });
    expect(() => openSqliteStore(path)).toThrow(/newer version/);
  });

  it('works with power-loss durability', async () => {
    const store = open(tempPath(), { durability: 'power' });
    await store.appendLedger('chain-a', sampleLedgerEntries(3));
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 3, chains: 1 });
  });

  it('detects a second process writing the same chain, and leaves the chain intact', async () => {
    const path = tempPath();
    const gateway = open(path);
    const intruder = open(path);
    await gateway.appendLedger('chain-a', sampleLedgerEntries(2));
    await expect(intruder.appendLedger('chain-a', sampleLedgerEntries(1, 2))).rejects.toThrow(
      LedgerConflictError,
    );
    await expect(intruder.appendLedger('chain-a', sampleLedgerEntries(1, 2))).rejects.toThrow(
      /another process is writing the same chain/,
    );
    await gateway.appendLedger('chain-a', sampleLedgerEntries(1, 2));
    await intruder.appendLedger('chain-b', sampleLedgerEntries(1, 3));
    await expect(gateway.verifyLedger()).resolves.toEqual({ ok: true, entries: 4, chains: 2 });
  });

  it('verifies one snapshot while appends continue', async () => {
    const store = open(tempPath());
    for (let batch = 0; batch < 5; batch += 1) {
      await store.appendLedger('chain-a', sampleLedgerEntries(1000, batch * 1000));
    }
    const verifying = store.verifyLedger();
    await store.appendLedger('chain-a', sampleLedgerEntries(100, 5000));
    await expect(verifying).resolves.toEqual({ ok: true, entries: 5000, chains: 1 });
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 5100, chains: 1 });
  });
});

describe('sqlite store: tamper evidence', () => {
  afterEach(removeTemp);

  async function ledgerOfTen(): Promise<{
    path: string;
    store: GatewayStore;
    entries: readonly LedgerEntry[];
  }> {
    const path = tempPath();
    const store = open(path);
    await store.appendLedger('chain-b', sampleLedgerEntries(3, 100));
    const entries = await store.appendLedger('chain-a', sampleLedgerEntries(10));
    await expect(store.verifyLedger()).resolves.toMatchObject({ ok: true, entries: 13 });
    return { path, store, entries };
  }

  function entryAt(entries: readonly LedgerEntry[], seq: number): LedgerEntry {
    const entry = entries.find((candidate) => candidate.seq === seq);
    if (!entry) throw new Error(`no entry at seq ${seq}`);
    return entry;
  }

  it('reports an altered token count at its seq', async () => {
    const { path, store, entries } = await ledgerOfTen();
    tamper(path, (db) => {
      db.prepare('UPDATE ledger SET output_tokens = output_tokens + 1 WHERE chain_id = ? AND seq = ?').run(
        'chain-a',
        4,
      );
    });
    await expect(store.verifyLedger()).resolves.toMatchObject({
      ok: false,
      chainId: 'chain-a',
      seq: 4,
      entryId: entryAt(entries, 4).id,
      problem: 'altered',
    });
  });

  it('reports a column holding the wrong type as altered', async () => {
    const { path, store } = await ledgerOfTen();
    tamper(path, (db) => {
      db.prepare("UPDATE ledger SET output_tokens = 'lots' WHERE chain_id = ? AND seq = ?").run('chain-a', 6);
    });
    await expect(store.verifyLedger()).resolves.toMatchObject({ ok: false, seq: 6, problem: 'altered' });
  });

  it('reports a deleted middle entry as missing', async () => {
    const { path, store } = await ledgerOfTen();
    tamper(path, (db) => {
      db.prepare('DELETE FROM ledger WHERE chain_id = ? AND seq = ?').run('chain-a', 5);
    });
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
    const { path, store, entries } = await ledgerOfTen();
    const target = entryAt(entries, 4);
    const forged = { ...target, outputTokens: target.outputTokens + 1000 };
    const forgedHash = hashEntry(target.prevHash, 'chain-a', 4, forged);
    tamper(path, (db) => {
      db.prepare('UPDATE ledger SET output_tokens = ?, hash = ? WHERE chain_id = ? AND seq = ?').run(
        forged.outputTokens,
        forgedHash,
        'chain-a',
        4,
      );
    });
    const result = await store.verifyLedger();
    expect(result).toMatchObject({
      ok: false,
      chainId: 'chain-a',
      seq: 5,
      entryId: entryAt(entries, 5).id,
      problem: 'missing',
    });
    expect(result.ok ? '' : result.message).toMatch(/prevHash is not the hash of seq 4/);
  });

  it('catches a re-hashed rewrite of the whole tail only against an anchor kept outside', async () => {
    const { path, store, entries } = await ledgerOfTen();
    const anchor = await store.chainHeads();
    // The attacker rewrites seq 4..10 and the recorded head: the file is consistent by itself.
    tamper(path, (db) => {
      const update = db.prepare(
        'UPDATE ledger SET output_tokens = ?, prev_hash = ?, hash = ? WHERE chain_id = ? AND seq = ?',
      );
      let prevHash = entryAt(entries, 3).hash;
      for (let seq = 4; seq <= 10; seq += 1) {
        const forged = { ...entryAt(entries, seq), outputTokens: 1 };
        const hash = hashEntry(prevHash, 'chain-a', seq, forged);
        update.run(1, prevHash, hash, 'chain-a', seq);
        prevHash = hash;
      }
      db.prepare('UPDATE chain_heads SET hash = ? WHERE chain_id = ?').run(prevHash, 'chain-a');
    });
    await expect(store.verifyLedger()).resolves.toMatchObject({ ok: true });
    await expect(store.verifyLedger({ expectedHeads: anchor })).resolves.toMatchObject({
      ok: false,
      chainId: 'chain-a',
      seq: 10,
      problem: 'altered',
    });
  });

  it('catches a truncated tail against the recorded head, and against an anchor when that is edited too', async () => {
    const { path, store } = await ledgerOfTen();
    const anchor = await store.chainHeads();
    tamper(path, (db) => {
      db.prepare('DELETE FROM ledger WHERE chain_id = ? AND seq > ?').run('chain-a', 8);
    });
    // A careless truncation leaves chain_heads behind.
    await expect(store.verifyLedger()).resolves.toMatchObject({
      ok: false,
      chainId: 'chain-a',
      seq: 9,
      entryId: null,
      problem: 'missing',
    });
    // A careful one moves the recorded head back: the chain is then consistent by itself, and only
    // a head kept outside the database (an exported anchor, the /metrics chain head) shows the loss.
    tamper(path, (db) => {
      const last = db
        .prepare<[string], { seq: number; hash: string }>(
          'SELECT seq, hash FROM ledger WHERE chain_id = ? ORDER BY seq DESC LIMIT 1',
        )
        .get('chain-a');
      db.prepare('UPDATE chain_heads SET seq = ?, hash = ? WHERE chain_id = ?').run(
        last?.seq,
        last?.hash,
        'chain-a',
      );
    });
    await expect(store.verifyLedger()).resolves.toMatchObject({ ok: true, entries: 11 });
    const result = await store.verifyLedger({ expectedHeads: anchor });
    expect(result).toMatchObject({ ok: false, chainId: 'chain-a', seq: 9, problem: 'missing' });
    expect(result.ok ? '' : result.message).toMatch(/the expected head is seq 10/);
  });
});
