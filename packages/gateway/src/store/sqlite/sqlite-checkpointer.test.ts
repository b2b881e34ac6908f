/**
 * Once a store is busy, WAL checkpoints run in a worker thread rather than inside a commit. With
 * SQLite's own autocheckpoint (every 1,000 WAL pages, about 4 MB) the ~1 MB written here would
 * still sit in the WAL; the worker copies it into the database file within a second or so.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleLedgerEntries } from '../../test-support/ledger-entries.js';
import { openSqliteStore } from './sqlite-store.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('SQLite checkpoints', () => {
  it('move to a worker thread after 1,000 entries, which copies the WAL into the file', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'autocap-checkpoint-'));
    folders.push(folder);
    const path = join(folder, 'ledger.db');
    const store = openSqliteStore(path);
    const empty = statSync(path).size;
    try {
      const entries = sampleLedgerEntries(1500);
      for (let start = 0; start < entries.length; start += 100) {
        await store.appendLedger('main', entries.slice(start, start + 100));
      }
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(500_000);
      const deadline = Date.now() + 5000;
      while (statSync(path).size < empty + 500_000 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(statSync(path).size).toBeGreaterThan(empty + 500_000);
      await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 1500, chains: 1 });
    } finally {
      await store.close();
    }
  });
});
