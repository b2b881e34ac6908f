/**
 * Journal mode: write() resolves once the entry is in the local journal, the store is filled from
 * it in batches, readers can wait for it to catch up, and a journal left by a killed process is
 * moved into the store by the ledger tools unless a live process still owns it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { GatewayStore, LedgerEntryInput } from '../store/store.js';
import { sampleLedgerEntries } from '../test-support/ledger-entries.js';
import { ingestLeftovers } from './ledger-leftovers.js';
import { LedgerSpool } from './ledger-spool.js';
import { LedgerWriter } from './ledger-writer.js';

let directory: string;
let store: GatewayStore;
const spoolDirectory = (): string => join(directory, 'journal');

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'autocap-journal-'));
  store = openSqliteStore(join(directory, 'ledger.db'));
});
afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Counts appendLedger calls and the entries in each. */
function countingStore(): { store: GatewayStore; batches: number[] } {
  const batches: number[] = [];
  const original = store.appendLedger.bind(store);
  store.appendLedger = (chainId: string, entries: readonly LedgerEntryInput[]) => {
    batches.push(entries.length);
    return original(chainId, entries);
  };
  return { store, batches };
}

const journalWriter = (target: GatewayStore, ingestDelayMs = 20): LedgerWriter =>
  new LedgerWriter(target, {
    chainId: 'main',
    spool: { directory: spoolDirectory(), journal: true, fsync: false, ingestDelayMs },
    onError: (error) => {
      throw error;
    },
  });

const storedIds = async (): Promise<string[]> =>
  (await store.pageLedger({ limit: 1000 })).entries.map((entry) => entry.id);

describe('ledger journal', () => {
  it('acknowledges from the journal and fills the store in gathered batches', async () => {
    const { batches } = countingStore();
    const writer = journalWriter(store, 50);
    const entries = sampleLedgerEntries(300);
    // Three waves a few ms apart, each acknowledged before any reaches the store.
    for (let wave = 0; wave < 3; wave++) {
      await Promise.all(entries.slice(wave * 100, wave * 100 + 100).map((entry) => writer.write(entry)));
      expect(batches).toEqual([]);
      expect(readFileSync(join(spoolDirectory(), 'main.jsonl'), 'utf8').split('\n')).toHaveLength(
        wave * 100 + 101,
      );
    }
    await writer.caughtUp();
    // One append for all 300 (fewer than the batch size arrived within the delay), not 300 commits.
    expect(batches).toEqual([300]);
    expect(await storedIds()).toEqual(entries.map((entry) => entry.id));
    expect(readFileSync(join(spoolDirectory(), 'main.jsonl'), 'utf8')).toBe(''); // truncated once stored
    expect(writer.spoolStats).toMatchObject({ spooled: 300, replayed: 300, alreadyStored: 0 });
    await writer.close();
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 300, chains: 1 });
  });

  it('moves a journal left by a killed process into the store exactly once', async () => {
    const entries = sampleLedgerEntries(50);
    // A first process stored 20 of them, journaled all 50, and died before removing the journal.
    await store.appendLedger('main', entries.slice(0, 20));
    const spool = new LedgerSpool({ directory: spoolDirectory(), chainId: 'main', fsync: false });
    spool.append(entries);
    spool.close();
    writeFileSync(join(spoolDirectory(), 'main.owner'), '999999999\n'); // no such process

    const report = await ingestLeftovers(store, spoolDirectory());
    expect(report).toEqual({ ingested: 50, owned: [] });
    expect(await storedIds()).toEqual(entries.map((entry) => entry.id));
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 50, chains: 1 });
    expect(await ingestLeftovers(store, spoolDirectory())).toEqual({ ingested: 0, owned: [] });
  });

  it('leaves alone a journal that a running process owns', async () => {
    const spool = new LedgerSpool({ directory: spoolDirectory(), chainId: 'main', fsync: false });
    spool.append(sampleLedgerEntries(3));
    spool.close();
    const owner = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)']);
    try {
      writeFileSync(join(spoolDirectory(), 'main.owner'), `${owner.pid}\n`);
      const report = await ingestLeftovers(store, spoolDirectory());
      expect(report).toEqual({ ingested: 0, owned: [{ chainId: 'main', pid: owner.pid, entries: 3 }] });
      expect(await storedIds()).toEqual([]);
    } finally {
      owner.kill();
    }
  });
});
