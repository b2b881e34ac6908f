/**
 * The ledger writer through a database outage, against a real SQLite store behind a wrapper that
 * fails (connection errors), stalls (appends that do not answer) or recovers on command. The
 * PostgreSQL version, with a real network outage, is ledger-outage-postgres.test.ts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toGatewayError } from '../http/gateway-error.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { GatewayStore, LedgerEntryInput, LedgerStore } from '../store/store.js';
import { sampleLedgerEntries, sampleLedgerEntry } from '../test-support/ledger-entries.js';
import { LedgerSpool, LedgerSpoolFullError } from './ledger-spool.js';
import { type LedgerWriteFailure, LedgerWriter, type LedgerWriterOptions } from './ledger-writer.js';

let directory: string;
let databasePath: string;
let store: GatewayStore;
const writers: LedgerWriter[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'autocap-outage-'));
  databasePath = join(directory, 'gateway.db');
  store = openSqliteStore(databasePath);
});

afterEach(async () => {
  for (const writer of writers.splice(0)) await writer.close();
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

const connectionRefused = (): Error =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

interface Hung {
  readonly run: () => Promise<unknown>;
  readonly resolve: (value: never) => void;
  readonly reject: (error: unknown) => void;
}

/** The real store, behind a switch: up, down (connection refused) or stalled (no answer). */
class Outage {
  mode: 'up' | 'down' | 'stalled' = 'up';
  appendCalls = 0;
  private hung: Hung[] = [];
  readonly store: LedgerStore = {
    appendLedger: (chainId, entries) => {
      this.appendCalls += 1;
      return this.gate(() => store.appendLedger(chainId, entries));
    },
    ledgerEntryIds: (ids) => this.gate(() => store.ledgerEntryIds(ids)),
    pageLedger: (options) => store.pageLedger(options),
    verifyLedger: (options) => store.verifyLedger(options),
    chainHeads: () => store.chainHeads(),
  };

  /** Ends a stall: the calls it held complete (`commit`) or fail with a dropped connection. */
  async endStall(outcome: 'commit' | 'fail', next: 'up' | 'down'): Promise<void> {
    this.mode = next;
    for (const call of this.hung.splice(0)) {
      if (outcome === 'fail') call.reject(new Error('Connection terminated unexpectedly'));
      else await call.run().then(call.resolve as (value: unknown) => void, call.reject);
    }
  }

  private gate<T>(run: () => Promise<T>): Promise<T> {
    if (this.mode === 'down') return Promise.reject(connectionRefused());
    if (this.mode === 'up') return run();
    return new Promise<T>((resolve, reject) => {
      this.hung.push({ run, resolve: resolve as (value: never) => void, reject });
    });
  }
}

function openWriter(
  target: LedgerStore,
  options: Partial<LedgerWriterOptions> & { failures?: LedgerWriteFailure[] } = {},
): LedgerWriter {
  const { failures, ...rest } = options;
  const writer = new LedgerWriter(target, {
    chainId: 'gw-1',
    onError: (_, failure) => failures?.push(failure),
    spool: {
      directory: join(directory, 'spool'),
      appendTimeoutMs: 100,
      replayDelayMs: { base: 10, max: 50 },
      closeTimeoutMs: 200,
    },
    ...rest,
  });
  writers.push(writer);
  return writer;
}

async function storedIds(): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  do {
    const page = await store.pageLedger({ after, limit: 1000 });
    ids.push(...page.entries.map((entry) => entry.id));
    after = page.nextCursor;
  } while (after !== null);
  return ids;
}

const idsOf = (entries: readonly LedgerEntryInput[]): string[] => entries.map((entry) => entry.id);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `entries` from `clients` concurrent writers; returns the entries in write() call order. */
async function writeConcurrently(
  writer: LedgerWriter,
  entries: readonly LedgerEntryInput[],
  clients: number,
  onResolved: (entry: LedgerEntryInput) => void = () => {},
): Promise<LedgerEntryInput[]> {
  const order: LedgerEntryInput[] = [];
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < entries.length) {
      const entry = entries[next++] as LedgerEntryInput;
      order.push(entry);
      await writer.write(entry);
      onResolved(entry);
      if (next % 7 === 0) await pause(1);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return order;
}

describe('ledger writer: database outages', () => {
  it('spools while the store refuses connections, resolves every write, and replays each entry once, in order', async () => {
    const outage = new Outage();
    const failures: LedgerWriteFailure[] = [];
    const writer = openWriter(outage.store, { failures });
    const before = await writeConcurrently(writer, sampleLedgerEntries(50), 8);

    outage.mode = 'down';
    let resolvedWhileDown = 0;
    const during = await writeConcurrently(writer, sampleLedgerEntries(500, 50), 8, () => {
      if (outage.mode === 'down') resolvedWhileDown += 1;
    });
    expect(resolvedWhileDown).toBe(500);
    expect(writer.spoolDepth).toBe(500);
    await pause(150); // the replayer keeps probing, with backoff
    expect(failures.some((failure) => failure.spool === 'to-spool')).toBe(true);
    expect(failures.filter((failure) => failure.spool === 'replay').length).toBeGreaterThan(2);

    outage.mode = 'up';
    // Written while the replay runs: they queue behind the spooled entries.
    const after = await writeConcurrently(writer, sampleLedgerEntries(100, 550), 8);
    await writer.replayed();
    await writer.flush();
    const last = await writeConcurrently(writer, sampleLedgerEntries(10, 650), 2);

    const written = idsOf([...before, ...during, ...after, ...last]);
    expect(await storedIds()).toEqual(written);
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 660, chains: 1 });
    expect(writer.spoolDepth).toBe(0);
    expect(writer.spoolStats.spooled).toBeGreaterThanOrEqual(500);
    expect(writer.spoolStats).toMatchObject({ alreadyStored: 0, setAside: 0 });
    expect(writer.spoolStats.replayed).toBe(writer.spoolStats.spooled);
    expect(writer.head?.seq).toBe(660);
  });

  it('spools behind an append that stalls, and skips its entries on replay when it commits late', async () => {
    const outage = new Outage();
    const writer = openWriter(outage.store);
    await writer.write(sampleLedgerEntry(0));
    outage.mode = 'stalled';
    const stalled = sampleLedgerEntries(20, 1);
    const started = Date.now();
    await Promise.all(stalled.map((entry) => writer.write(entry)));
    expect(Date.now() - started).toBeLessThan(1000); // held for the 100 ms append timeout only
    const during = await writeConcurrently(writer, sampleLedgerEntries(200, 21), 4);
    expect(outage.appendCalls).toBe(2); // nothing else was sent while the first append was unsettled
    await outage.endStall('commit', 'up');
    await writer.replayed();
    expect(await storedIds()).toEqual(idsOf([sampleLedgerEntry(0), ...stalled, ...during]));
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 221, chains: 1 });
    expect(writer.spoolStats).toMatchObject({ spooled: 220, alreadyStored: 20, replayed: 200 });
  });

  it('resends a stalled batch that then failed, once the store is back', async () => {
    const outage = new Outage();
    const writer = openWriter(outage.store);
    outage.mode = 'stalled';
    const entries = sampleLedgerEntries(30);
    await Promise.all(entries.map((entry) => writer.write(entry)));
    await outage.endStall('fail', 'down');
    await pause(100);
    outage.mode = 'up';
    await writer.replayed();
    expect(await storedIds()).toEqual(idsOf(entries));
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 30, chains: 1 });
  });

  it('spools on a real SQLITE_BUSY, and replays once the other connection lets go', async () => {
    await store.close();
    store = openSqliteStore(databasePath, { busyTimeoutMs: 20 });
    const writer = openWriter(store);
    await writer.write(sampleLedgerEntry(0));
    const other = new Database(databasePath);
    other.exec('BEGIN IMMEDIATE');
    const locked = sampleLedgerEntries(40, 1);
    await Promise.all(locked.map((entry) => writer.write(entry)));
    expect(writer.spoolDepth).toBe(40);
    other.exec('ROLLBACK');
    other.close();
    await writer.replayed();
    expect(await storedIds()).toEqual(idsOf([sampleLedgerEntry(0), ...locked]));
  });

  it('replays a spool left by a crash first, skipping what was appended before the crash', async () => {
    const left = sampleLedgerEntries(10);
    const spool = new LedgerSpool({ directory: join(directory, 'spool'), chainId: 'gw-1' });
    spool.append(left);
    spool.close();
    // The crashed process had appended the first five, and died before recording it in the spool.
    await store.appendLedger('gw-1', left.slice(0, 5));
    const writer = openWriter(store);
    expect(writer.spoolDepth).toBe(10);
    const fresh = sampleLedgerEntries(5, 10);
    await Promise.all(fresh.map((entry) => writer.write(entry)));
    await writer.replayed();
    expect(await storedIds()).toEqual(idsOf([...left, ...fresh]));
    // The five left over, plus any fresh entry that arrived while they were being replayed.
    expect(writer.spoolStats.alreadyStored).toBe(5);
    expect(writer.spoolStats.replayed).toBe(5 + writer.spoolStats.spooled);
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 15, chains: 1 });
  });

  it('leaves the spool for the next start when closed during an outage', async () => {
    const outage = new Outage();
    const writer = openWriter(outage.store);
    outage.mode = 'down';
    const entries = sampleLedgerEntries(25);
    await Promise.all(entries.map((entry) => writer.write(entry)));
    const closing = Date.now();
    await writer.close();
    expect(Date.now() - closing).toBeLessThan(1000);
    expect(await storedIds()).toEqual([]);
    const next = openWriter(store);
    await next.replayed();
    expect(await storedIds()).toEqual(idsOf(entries));
  });

  it('rejects writes with a 503 when the spool is full, and accepts them again once it drains', async () => {
    const outage = new Outage();
    const line = Buffer.byteLength(`${JSON.stringify(sampleLedgerEntry(0))}\n`);
    const writer = openWriter(outage.store, {
      spool: {
        directory: join(directory, 'spool'),
        maxBytes: line * 12,
        replayDelayMs: { base: 10, max: 20 },
      },
    });
    outage.mode = 'down';
    const fits = sampleLedgerEntries(10);
    await Promise.all(fits.map((entry) => writer.write(entry)));
    const refused = await writer
      .write(sampleLedgerEntry(10, { rawUsage: 'x'.repeat(4 * line) }))
      .catch((e) => e);
    expect(refused).toBeInstanceOf(LedgerSpoolFullError);
    const response = toGatewayError(refused);
    expect([response.status, response.code, response.retryAfterSeconds]).toEqual([503, 'overloaded', 5]);
    expect(response.message).not.toContain(directory);
    outage.mode = 'up';
    await writer.replayed();
    await writer.write(sampleLedgerEntry(11));
    expect(await storedIds()).toEqual(idsOf([...fits, sampleLedgerEntry(11)]));
  });

  it('does not spool a refusal that is not a connection error: it is retried, then rejected', async () => {
    const refusing: LedgerStore = {
      ...store,
      appendLedger: async () => {
        throw new Database.SqliteError('CHECK constraint failed: sane_tokens', 'SQLITE_CONSTRAINT_CHECK');
      },
      ledgerEntryIds: (ids) => store.ledgerEntryIds(ids),
    };
    const failures: LedgerWriteFailure[] = [];
    const writer = openWriter(refusing, { failures, retry: { retries: 2, baseDelayMs: 1 } });
    await expect(writer.write(sampleLedgerEntry(0))).rejects.toThrow(/CHECK constraint failed/);
    expect(failures.map((failure) => [failure.willRetry, failure.spool])).toEqual([
      [true, undefined],
      [true, undefined],
      [false, undefined],
    ]);
    expect(writer.spoolDepth).toBe(0);
    expect(existsSync(join(directory, 'spool'))).toBe(false);
  });
});
