/**
 * Group commit for the ledger: the request path awaits `write()`, which resolves once the entry is
 * durably committed, while the cost of a commit (a transaction, an fsync with 'power' durability)
 * is shared by every entry that arrived in the same tick or while the previous commit ran.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { canonicalizeEntry } from '../store/ledger-hash.js';
import type { ChainHead, LedgerEntryInput, LedgerStore } from '../store/store.js';

export interface LedgerWriterOptions {
  /** The chain this writer appends to (one per gateway instance). */
  readonly chainId: string;
  /** Most entries per appendLedger call. Default 256. */
  readonly maxBatch?: number;
  /**
   * Called on every failed append, retried or not: wire it to the log and an alert. A throw from
   * it is ignored, so that reporting cannot stop the writer.
   */
  readonly onError: (error: unknown, failure: LedgerWriteFailure) => void;
  /** Retries of a failed batch, with exponential backoff. Defaults: 5 retries, 50 ms doubling to 2 s. */
  readonly retry?: {
    readonly retries?: number;
    readonly baseDelayMs?: number;
    readonly maxDelayMs?: number;
  };
  /** Waits between retries; injectable so that tests need not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface LedgerWriteFailure {
  readonly chainId: string;
  /** Consecutive failures of this batch, from 1. */
  readonly attempt: number;
  /** Entries in the failed batch. */
  readonly entries: number;
  /** False when the retry budget is spent and the batch's write() promises are being rejected. */
  readonly willRetry: boolean;
}

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

  constructor(
    private readonly store: LedgerStore,
    options: LedgerWriterOptions,
  ) {
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
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.enqueued += 1;
      this.schedule();
    });
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

  /** Refuses further writes and flushes. Does not close the store, which the writer does not own. */
  close(): Promise<void> {
    this.closed = true;
    return this.flush();
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
      const outcome = await this.commitWithRetries(batch);
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
    for (let attempt = 1; ; attempt += 1) {
      try {
        const appended = await this.store.appendLedger(this.chainId, entries);
        const last = appended[appended.length - 1];
        if (last) this.committedHead = { chainId: last.chainId, seq: last.seq, hash: last.hash };
        return { ok: true };
      } catch (error) {
        const willRetry = attempt <= this.retries;
        this.report(error, { chainId: this.chainId, attempt, entries: entries.length, willRetry });
        if (!willRetry) return { ok: false, error };
        await this.sleep(Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  private report(error: unknown, failure: LedgerWriteFailure): void {
    try {
      this.onError(error, failure);
    } catch {
      // A broken reporter must not stop the ledger; the write() promises still carry the error.
    }
  }
}
