import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { GatewayStore, LedgerEntry, LedgerStore } from '../store/store.js';
import { sampleLedgerEntries, sampleLedgerEntry } from '../test-support/ledger-entries.js';
import { type LedgerWriteFailure, LedgerWriter } from './ledger-writer.js';

let directory: string;
let store: GatewayStore;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'autocap-writer-'));
  store = openSqliteStore(join(directory, 'gateway.db'));
});

afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

/** The real store, with appendLedger replaced. */
function withAppend(append: LedgerStore['appendLedger']): LedgerStore {
  return {
    appendLedger: append,
    pageLedger: (options) => store.pageLedger(options),
    verifyLedger: (options) => store.verifyLedger(options),
    chainHeads: () => store.chainHeads(),
    ledgerEntryIds: (ids) => store.ledgerEntryIds(ids),
  };
}

/** Records the size of every appendLedger call. */
function counting(): { store: LedgerStore; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    store: withAppend((chainId, entries) => {
      calls.push(entries.length);
      return store.appendLedger(chainId, entries);
    }),
  };
}

async function allEntries(): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let after: string | null = null;
  do {
    const page = await store.pageLedger({ after, limit: 500 });
    entries.push(...page.entries);
    after = page.nextCursor;
  } while (after !== null);
  return entries;
}

const noWait = async (): Promise<void> => {};
const ignore = (): void => {};

describe('LedgerWriter', () => {
  it('commits 1,000 concurrent writes in a few appends, in write order', async () => {
    const { store: counted, calls } = counting();
    const writer = new LedgerWriter(counted, { chainId: 'gw-1', onError: ignore });
    const inputs = sampleLedgerEntries(1000);
    await Promise.all(inputs.map((entry) => writer.write(entry)));
    expect(calls.length).toBeLessThanOrEqual(4);
    expect(calls.reduce((sum, size) => sum + size, 0)).toBe(1000);
    const stored = await allEntries();
    expect(stored.map((entry) => entry.id)).toEqual(inputs.map((entry) => entry.id));
    expect(writer.depth).toBe(0);
    expect(writer.head?.seq).toBe(1000);
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 1000, chains: 1 });
  });

  it('batches the writes that arrive while a commit runs', async () => {
    const calls: number[] = [];
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gated = withAppend(async (chainId, entries) => {
      calls.push(entries.length);
      await gate;
      return store.appendLedger(chainId, entries);
    });
    const writer = new LedgerWriter(gated, { chainId: 'gw-1', onError: ignore });
    const first = writer.write(sampleLedgerEntry(0));
    await new Promise((resolve) => setImmediate(resolve));
    const later = sampleLedgerEntries(50, 1).map((entry) => writer.write(entry));
    expect(writer.depth).toBe(51);
    release();
    await Promise.all([first, ...later]);
    expect(calls).toEqual([1, 50]);
  });

  it('retries a failed append and loses nothing, duplicates nothing', async () => {
    let failuresLeft = 2;
    const flaky = withAppend(async (chainId, entries) => {
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('SQLITE_BUSY: database is locked');
      }
      return store.appendLedger(chainId, entries);
    });
    const failures: LedgerWriteFailure[] = [];
    const writer = new LedgerWriter(flaky, {
      chainId: 'gw-1',
      onError: (_, failure) => failures.push(failure),
      sleep: noWait,
    });
    const inputs = sampleLedgerEntries(10);
    await Promise.all(inputs.map((entry) => writer.write(entry)));
    expect(failures.map((failure) => [failure.attempt, failure.willRetry])).toEqual([
      [1, true],
      [2, true],
    ]);
    const stored = await allEntries();
    expect(stored.map((entry) => entry.id)).toEqual(inputs.map((entry) => entry.id));
    expect(stored.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 10, chains: 1 });
  });

  it('rejects a batch after the retry budget, reports it, and carries on with the next', async () => {
    let failuresLeft = 3;
    const broken = withAppend(async (chainId, entries) => {
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('disk I/O error');
      }
      return store.appendLedger(chainId, entries);
    });
    const failures: LedgerWriteFailure[] = [];
    const delays: number[] = [];
    const writer = new LedgerWriter(broken, {
      chainId: 'gw-1',
      retry: { retries: 2, baseDelayMs: 10 },
      onError: (_, failure) => failures.push(failure),
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    const doomed = sampleLedgerEntries(3).map((entry) => writer.write(entry));
    for (const promise of doomed) await expect(promise).rejects.toThrow('disk I/O error');
    expect(failures.map((failure) => failure.willRetry)).toEqual([true, true, false]);
    expect(delays).toEqual([10, 20]);
    await writer.write(sampleLedgerEntry(3));
    expect((await allEntries()).map((entry) => entry.id)).toEqual([sampleLedgerEntry(3).id]);
  });

  it('rejects an entry that cannot be hashed at once, without failing its neighbours', async () => {
    const writer = new LedgerWriter(store, { chainId: 'gw-1', onError: ignore });
    const good = writer.write(sampleLedgerEntry(0));
    const bad = writer.write(sampleLedgerEntry(1, { outputTokens: Number.NaN }));
    const alsoGood = writer.write(sampleLedgerEntry(2));
    await expect(bad).rejects.toThrow(/outputTokens must be a finite number/);
    await Promise.all([good, alsoGood]);
    expect(await allEntries()).toHaveLength(2);
  });

  it('keeps working when onError throws', async () => {
    let failuresLeft = 1;
    const flaky = withAppend(async (chainId, entries) => {
      if (failuresLeft-- > 0) throw new Error('busy');
      return store.appendLedger(chainId, entries);
    });
    const writer = new LedgerWriter(flaky, {
      chainId: 'gw-1',
      onError: () => {
        throw new Error('reporter is broken');
      },
      sleep: noWait,
    });
    await writer.write(sampleLedgerEntry(0));
    expect(await allEntries()).toHaveLength(1);
  });

  it('flush drains everything written before it', async () => {
    const { store: counted, calls } = counting();
    const writer = new LedgerWriter(counted, { chainId: 'gw-1', maxBatch: 100, onError: ignore });
    await writer.flush();
    const settled: string[] = [];
    for (const entry of sampleLedgerEntries(600)) {
      void writer.write(entry).then(() => settled.push(entry.id));
    }
    expect(writer.depth).toBe(600);
    await writer.flush();
    expect(writer.depth).toBe(0);
    expect(calls).toEqual([100, 100, 100, 100, 100, 100]);
    expect(await allEntries()).toHaveLength(600);
    // Each write() resolved before flush() did.
    expect(settled).toHaveLength(600);
  });

  it('close flushes, then refuses writes', async () => {
    const writer = new LedgerWriter(store, { chainId: 'gw-1', onError: ignore });
    const pending = sampleLedgerEntries(5).map((entry) => writer.write(entry));
    await writer.close();
    await Promise.all(pending);
    expect(await allEntries()).toHaveLength(5);
    await expect(writer.write(sampleLedgerEntry(5))).rejects.toThrow(/closed/);
  });
});
