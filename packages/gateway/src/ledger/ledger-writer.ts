/**
 * Group commit for the ledger: the request path awaits `write()`, which resolves once the entry is
 * durably committed, while the cost of a commit (a transaction, an fsync with 'power' durability)
 * is shared by every entry that arrived in the same tick or while the previous commit ran.
 *
 * Database outages (with the `spool` option): a batch whose append fails with a connection error
 * twice, or does not answer within `appendTimeoutMs`, is written to a local spool file instead
 * (ledger-spool.ts, fsynced) and its write() promises resolve. While the spool holds entries,
 * newer batches go to the spool too, behind them, so the chain keeps write order; a background
 * replayer (ledger-replayer.ts) moves them into the store once it answers, skipping entries it
 * already holds, and the writer returns to direct appends when the spool is empty. A spool left
 * by a previous process is replayed first.
 *
 * Journal mode (`spool.journal`, what the gateway uses): every batch goes to the spool, which is
 * then the durable point write() waits for, and the replayer fills the store from it in batches
 * gathered over `ingestDelayMs`. An outage then needs no switch: the spool just grows.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { canonicalizeEntry } from '../store/ledger-hash.js';
import type { ChainHead, LedgerEntry, LedgerEntryInput, LedgerStore } from '../store/store.js';
import { isConnectionError } from '../store/store-errors.js';
import {
  LedgerReplayer,
  LedgerStoreTimeoutError,
  type ReplayStats,
  StoreAppender,
} from './ledger-replayer.js';
import { LedgerSpool } from './ledger-spool.js';
import type { LedgerWriteFailure, LedgerWriterOptions } from './ledger-writer-options.js';

export type {
  LedgerSpoolSettings,
  LedgerWriteFailure,
  LedgerWriterOptions,
} from './ledger-writer-options.js';

const noop = (): void => {};

/** Entries per store append when filling it from the journal. */
const JOURNAL_BATCH = 2048;
/**
 * How long the journal gathers entries before a store append. Each append is a transaction whose
 * fixed cost (five round trips and a WAL flush on PostgreSQL) is shared by the batch: at 3,400
 * requests/s, 100 ms instead of 20 ms cut PostgreSQL's CPU per request from 30-42 to 18-25 us,
 * CPU that competes with the gateway's on a small machine.
 */
const INGEST_DELAY_MS = 100;

interface Pending {
  readonly entry: LedgerEntryInput;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Queues entries and commits them in order, in batches, with at most one appendLedger in flight.
 *
 * Failure: a failed batch stays at the head of the queue, in order, and is retried as it was after
 * a backoff (later entries wait behind it, so the chain keeps write order). After the retry budget
 * its write() promises reject with the store's error and the writer moves on to the next batch;
 * nothing is dropped without its writer hearing of it, and `onError` hears of every failure. An
 * entry that cannot be hashed is rejected by write() at once, so it never poisons a batch. Store
 * contract relied on: an appendLedger that rejects has stored nothing (retrying is then safe).
 */
export class LedgerWriter {
  private readonly chainId: string;
  private readonly maxBatch: number;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onError: LedgerWriterOptions['onError'];
  private readonly queue: Pending[] = [];
  private scheduled = false;
  private running: Promise<void> | null = null;
  private closed = false;
  private enqueued = 0;
  private settled = 0;
  private drainWaiters: { readonly target: number; readonly resolve: () => void }[] = [];
  private committedHead: ChainHead | null = null;
  private readonly isConnectionError: (error: unknown) => boolean;
  private readonly appender: StoreAppender;
  private readonly spool: LedgerSpool | null = null;
  private readonly replayer: LedgerReplayer | null = null;
  private readonly spoolAttempts: number;
  private readonly closeTimeoutMs: number;
  private readonly appendTimeoutMs: number | null;
  private readonly journal: boolean;
  /** An entry was appended synchronously in this event-loop turn (journal mode). */
  private wroteThisTurn = false;

  constructor(store: LedgerStore, options: LedgerWriterOptions) {
    this.chainId = options.chainId;
    this.maxBatch = options.maxBatch ?? 256;
    this.retries = options.retry?.retries ?? 5;
    this.baseDelayMs = options.retry?.baseDelayMs ?? 50;
    this.maxDelayMs = options.retry?.maxDelayMs ?? 2000;
    this.sleep = options.sleep ?? ((ms) => sleepFor(ms));
    this.onError = options.onError;
    if (!Number.isSafeInteger(this.maxBatch) || this.maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${this.maxBatch}`);
    }
    if (!Number.isSafeInteger(this.retries) || this.retries < 0) {
      throw new RangeError(`retry.retries must be a non-negative integer, got ${this.retries}`);
    }
    this.isConnectionError = options.isConnectionError ?? isConnectionError;
    const settings = options.spool;
    const timeoutMs = settings ? (settings.appendTimeoutMs ?? 1000) : null;
    this.appendTimeoutMs = timeoutMs;
    this.appender = new StoreAppender(store, this.chainId, timeoutMs, (appended) => this.noteHead(appended));
    this.spoolAttempts = settings?.attempts ?? 2;
    this.closeTimeoutMs = settings?.closeTimeoutMs ?? 5000;
    this.journal = settings?.journal === true;
    if (settings && timeoutMs !== null) {
      const { directory, maxBytes } = settings;
      const spool = new LedgerSpool({
        directory,
        chainId: this.chainId,
        fsync: settings.fsync ?? true,
        ...(maxBytes ? { maxBytes } : {}),
      });
      this.spool = spool;
      this.replayer = new LedgerReplayer({
        store,
        spool,
        appender: this.appender,
        maxBatch: this.journal ? Math.max(JOURNAL_BATCH, this.maxBatch) : this.maxBatch,
        ...(this.journal ? { ingestDelayMs: settings.ingestDelayMs ?? INGEST_DELAY_MS } : {}),
        timeoutMs,
        baseDelayMs: settings.replayDelayMs?.base ?? 250,
        maxDelayMs: settings.replayDelayMs?.max ?? 5000,
        sleep: this.sleep,
        isConnectionError: this.isConnectionError,
        report: (error, attempt, entries, willRetry) =>
          this.report(error, { chainId: this.chainId, attempt, entries, willRetry, spool: 'replay' }),
      });
      // A spool left by a previous process goes first: new writes queue behind it.
      if (spool.entries > 0) this.replayer.start();
    }
  }

  /** Entries in the local spool, waiting for the store (for metrics). */
  get spoolDepth(): number {
    return this.spool?.entries ?? 0;
  }

  /** What the spool has seen since this writer started. */
  get spoolStats(): ReplayStats {
    return this.replayer?.stats ?? { spooled: 0, replayed: 0, alreadyStored: 0, setAside: 0 };
  }

  /** Resolves once the spool is empty again (at once without a spool, or once closed). */
  replayed(): Promise<void> {
    return this.replayer?.idle() ?? Promise.resolve();
  }

  /**
   * Read-your-writes for ledger readers (`/admin/ledger`, usage): waits until every entry written
   * so far is in the store, or `maxWaitMs` passed (the store is down: readers then see it lag).
   */
  async caughtUp(maxWaitMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
    });
    try {
      await Promise.race([this.flush().then(() => this.replayed()), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Entries waiting or being committed (for metrics). */
  get depth(): number {
    return this.queue.length;
  }

  /** The newest entry this writer committed, or null before its first commit (for `/metrics`). */
  get head(): ChainHead | null {
    return this.committedHead;
  }

  /**
   * Resolves once the entry is durably committed; rejects when it cannot be hashed (at once), when
   * the writer is closed, or when its batch failed through the whole retry budget.
   */
  write(entry: LedgerEntryInput): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the ledger writer is closed'));
    try {
      canonicalizeEntry(entry);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.journalNow()) {
      // The first entry of an event-loop turn on an idle journal is written at once: at low load
      // that saves the response a loop turn; later entries of the turn still share one write.
      this.enqueued += 1;
      const outcome = this.toSpool([{ entry, resolve: noop, reject: noop }], null);
      this.settled += 1;
      return outcome.ok ? Promise.resolve() : Promise.reject(outcome.error);
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.enqueued += 1;
      this.schedule();
    });
  }

  /** Whether write() may append to the journal synchronously (see write). */
  private journalNow(): boolean {
    if (!this.journal || this.queue.length > 0 || this.running !== null || this.scheduled) return false;
    if (this.wroteThisTurn) return false;
    this.wroteThisTurn = true;
    setImmediate(() => {
      this.wroteThisTurn = false;
    });
    return true;
  }

  /**
   * Resolves once every entry written before the call is settled (committed, or rejected after the
   * retry budget). Entries written later do not hold it up. Call it on SIGTERM, after the server
   * has stopped accepting requests.
   */
  flush(): Promise<void> {
    if (this.settled === this.enqueued) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.drainWaiters.push({ target: this.enqueued, resolve }));
    this.start();
    return done;
  }

  /**
   * Refuses further writes and flushes; with a spool, waits up to `closeTimeoutMs` for it to drain
   * into the store, then stops replaying (the next start replays the rest). Does not close the
   * store, which the writer does not own.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    const replayer = this.replayer;
    if (replayer === null) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.closeTimeoutMs);
    });
    try {
      await Promise.race([replayer.idle(), deadline]);
    } finally {
      clearTimeout(timer);
      replayer.stop();
      this.spool?.release();
    }
  }

  private schedule(): void {
    if (this.running !== null || this.scheduled) return;
    this.scheduled = true;
    // setImmediate runs after the current tick's I/O callbacks: every write of this tick joins.
    setImmediate(() => {
      this.scheduled = false;
      this.start();
    });
  }

  private start(): void {
    if (this.running !== null) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      // A write() between drain's last look at the queue and this callback found `running` set.
      if (this.queue.length > 0) this.schedule();
    });
  }

  /** Commits batches until the queue is empty. Never rejects. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.maxBatch);
      // Behind spooled entries (or a stalled append), a batch goes to the spool: write order holds.
      const behind = this.spool !== null && (this.journal || this.spool.entries > 0 || this.appender.stalled);
      const outcome = behind ? this.toSpool(batch, null) : await this.commitWithRetries(batch);
      this.queue.splice(0, batch.length);
      for (const pending of batch) {
        if (outcome.ok) pending.resolve();
        else pending.reject(outcome.error);
      }
      this.settled += batch.length;
      const waiting = this.drainWaiters;
      this.drainWaiters = waiting.filter((waiter) => waiter.target > this.settled);
      for (const waiter of waiting) if (waiter.target <= this.settled) waiter.resolve();
    }
  }

  private async commitWithRetries(
    batch: readonly Pending[],
  ): Promise<{ ok: true } | { ok: false; error: unknown }> {
    const entries = batch.map((pending) => pending.entry);
    const failure = { chainId: this.chainId, entries: entries.length };
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.appender.append(entries);
      if (outcome === 'stalled') {
        const error = new LedgerStoreTimeoutError(
          `the ledger store did not answer an append of ${entries.length} entries within ${this.appendTimeoutMs} ms`,
        );
        this.report(error, { ...failure, attempt, willRetry: true, spool: 'to-spool' });
        return this.toSpool(batch, null, false); // it may still commit: replay looks before appending
      }
      if (outcome.ok) return { ok: true };
      const { error } = outcome;
      if (this.spool !== null && this.isConnectionError(error) && attempt >= this.spoolAttempts) {
        this.report(error, { ...failure, attempt, willRetry: true, spool: 'to-spool' });
        // Its COMMIT may have gone through with the answer lost: replay resends it as it is.
        return this.toSpool(batch, entries);
      }
      const willRetry = attempt <= this.retries || (this.spool !== null && this.isConnectionError(error));
      this.report(error, { ...failure, attempt, willRetry });
      if (!willRetry) return { ok: false, error };
      await this.sleep(Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1)));
    }
  }

  /**
   * Writes the batch to the spool (one write, one fsync) and starts the replayer. `uncertain`: the
   * batch failed after it may have committed, to be resent as it is; `fresh`: it was never sent.
   */
  private toSpool(
    batch: readonly Pending[],
    uncertain: readonly LedgerEntryInput[] | null,
    fresh = uncertain === null,
  ): { ok: true } | { ok: false; error: unknown } {
    const { spool, replayer } = this;
    if (spool === null || replayer === null) return { ok: false, error: new Error('no ledger spool') };
    const entries = uncertain ?? batch.map((pending) => pending.entry);
    try {
      spool.append(entries, fresh);
    } catch (error) {
      const failure = { chainId: this.chainId, attempt: 1, entries: entries.length, willRetry: false };
      this.report(error, { ...failure, spool: 'to-spool' });
      replayer.start(); // settles a stalled append, if there is one
      return { ok: false, error };
    }
    replayer.countSpooled(entries.length);
    if (uncertain !== null) replayer.markUncertain(uncertain);
    replayer.start();
    return { ok: true };
  }

  private noteHead(appended: readonly LedgerEntry[]): void {
    const last = appended[appended.length - 1];
    if (last) this.committedHead = { chainId: last.chainId, seq: last.seq, hash: last.hash };
  }

  private report(error: unknown, failure: LedgerWriteFailure): void {
    try {
      this.onError(error, failure);
    } catch {
      // A broken reporter must not stop the ledger; the write() promises still carry the error.
    }
  }
}
