/**
 * The two halves of the ledger writer's outage handling (see ledger-writer.ts):
 *
 * - StoreAppender: one appendLedger at a time, ever. An append that does not answer within the
 *   timeout (a stalled database) is not abandoned: the caller stops waiting, and no other append
 *   starts until that one settles, so a late commit can never race a replay of the same entries.
 * - LedgerReplayer: moves spooled entries back into the store, in spool order, one batch at a
 *   time, with capped exponential backoff while the store is still unreachable. Before appending
 *   a batch it asks the store which of its ids are already stored (`ledgerEntryIds`) and skips
 *   them: exactly once after a crash between "appended" and "spool consumed", or after a stalled
 *   append that committed late. A batch whose append failed with a connection error is resent
 *   exactly as it was, unfiltered, because its COMMIT may have gone through with the answer lost
 *   (PostgreSQL recognizes such a repeat; see postgres-store.ts). A batch the store refuses for
 *   good three times is moved to the spool's dead-letter file so that it cannot block the ledger.
 */
import type { LedgerEntry, LedgerEntryInput, LedgerStore } from '../store/store.js';
import type { LedgerSpool, SpoolBatch } from './ledger-spool.js';

export type AppendOutcome =
  | { readonly ok: true; readonly appended: readonly LedgerEntry[] }
  | { readonly ok: false; readonly error: unknown };

/** An append (or an id lookup) did not answer in time; it is left to finish on its own. */
export class LedgerStoreTimeoutError extends Error {
  override readonly name = 'LedgerStoreTimeoutError';
}

const TIMED_OUT = Symbol('timed out');

/** `promise`'s value, or TIMED_OUT after `ms` (the promise goes on). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class StoreAppender {
  private unsettled: {
    readonly batch: readonly LedgerEntryInput[];
    readonly outcome: Promise<AppendOutcome>;
  } | null = null;

  constructor(
    private readonly store: LedgerStore,
    private readonly chainId: string,
    /** Null: wait as long as the store takes (the writer without a spool). */
    private readonly timeoutMs: number | null,
    private readonly onAppended: (appended: readonly LedgerEntry[]) => void,
  ) {}

  /** True while an append that timed out has not settled. */
  get stalled(): boolean {
    return this.unsettled !== null;
  }

  /** The outcome, or 'stalled' after the timeout. Never called while `stalled`. */
  async append(batch: readonly LedgerEntryInput[]): Promise<AppendOutcome | 'stalled'> {
    if (this.unsettled !== null) throw new Error('a stalled ledger append has not settled yet');
    const outcome = this.store.appendLedger(this.chainId, batch).then(
      (appended): AppendOutcome => {
        this.onAppended(appended);
        return { ok: true, appended };
      },
      (error: unknown): AppendOutcome => ({ ok: false, error }),
    );
    if (this.timeoutMs === null) return outcome;
    const result = await within(outcome, this.timeoutMs);
    if (result !== TIMED_OUT) return result;
    this.unsettled = { batch, outcome };
    return 'stalled';
  }

  /** Waits for the append that timed out; null when there is none. */
  async settle(): Promise<{ batch: readonly LedgerEntryInput[]; outcome: AppendOutcome } | null> {
    const unsettled = this.unsettled;
    if (unsettled === null) return null;
    const outcome = await unsettled.outcome;
    this.unsettled = null;
    return { batch: unsettled.batch, outcome };
  }
}

export interface ReplayStats {
  /** Entries written to the spool. */
  readonly spooled: number;
  /** Entries appended to the store from the spool. */
  readonly replayed: number;
  /** Spooled entries found already stored on replay, and skipped. */
  readonly alreadyStored: number;
  /** Spooled entries the store refused for good, moved to the spool's dead-letter file. */
  readonly setAside: number;
}

export interface ReplayerOptions {
  readonly store: LedgerStore;
  readonly spool: LedgerSpool;
  readonly appender: StoreAppender;
  readonly maxBatch: number;
  /** Bound on each id lookup, in ms. */
  readonly timeoutMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly isConnectionError: (error: unknown) => boolean;
  /**
   * Journal mode: wait this long for entries to gather before appending fewer than `maxBatch`
   * (default 0). A commit's fixed cost is then shared by many entries.
   */
  readonly ingestDelayMs?: number;
  /** A failed replay step (`attempt`: consecutive failures; `willRetry`: false when set aside). */
  readonly report: (error: unknown, attempt: number, entries: number, willRetry: boolean) => void;
}

/** Refusals (non-connection errors) of one batch before it is set aside. */
const REFUSALS_BEFORE_SET_ASIDE = 3;

interface PendingReplay {
  readonly batch: SpoolBatch;
  /** The batch's entries not yet stored, in order: sent as they are until the store answers. */
  readonly toAppend: readonly LedgerEntryInput[];
}

export class LedgerReplayer {
  private loop: Promise<void> | null = null;
  private stopping = false;
  private wake: () => void = () => {};
  /** A batch whose append failed after it may have committed: resend it exactly, first. */
  private uncertain: readonly LedgerEntryInput[] | null = null;
  private counts = { spooled: 0, replayed: 0, alreadyStored: 0, setAside: 0 };
  /** The batch being replayed; kept, and sent as it is, until the store answers. */
  private pending: PendingReplay | null = null;
  /** Consecutive connection failures, for the backoff. */
  private failures = 0;
  /** Consecutive refusals of the pending batch. */
  private refusals = 0;
  /** Callers of idle() waiting: no ingest delay while there are any. */
  private hurrying = 0;

  constructor(private readonly options: ReplayerOptions) {}

  get stats(): ReplayStats {
    return { ...this.counts };
  }

  /** Entries written to the spool by the writer. */
  countSpooled(entries: number): void {
    this.counts.spooled += entries;
  }

  /** The batch at the head of the spool failed with a connection error: it may be stored. */
  markUncertain(batch: readonly LedgerEntryInput[]): void {
    this.uncertain = batch;
  }

  /** Starts replaying, unless it runs already or is stopped. */
  start(): void {
    if (this.loop !== null || this.stopping) return;
    this.loop = this.run()
      .catch((error: unknown) => this.options.report(error, 1, 0, true))
      .finally(() => {
        this.loop = null;
        if (this.stopping) this.options.spool.close();
        // Entries spooled between the loop's last look and now found it still running.
        else if (this.options.spool.entries > 0 || this.options.appender.stalled) this.start();
      });
  }

  /** Resolves once the spool is empty and no stalled append is left (or replay was stopped). */
  async idle(): Promise<void> {
    this.hurrying += 1;
    this.wake(); // cuts an ingest delay short
    try {
      while (!this.stopping && (this.options.spool.entries > 0 || this.options.appender.stalled)) {
        this.start();
        await this.loop;
      }
    } finally {
      this.hurrying -= 1;
    }
  }

  /** Stops after the current step; what is left in the spool is replayed at the next start. */
  stop(): void {
    this.stopping = true;
    this.wake();
    if (this.loop === null) this.options.spool.close();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if (await this.step()) return;
      } catch (error) {
        // The spool itself failed (a read or an fsync): report it and try again later.
        this.failures = await this.failed(error, this.failures);
      }
    }
  }

  /** One replay step; true once the spool is empty. */
  private async step(): Promise<boolean> {
    const { spool, appender } = this.options;
    if (appender.stalled) {
      const late = await appender.settle();
      const pending = this.pending;
      if (late && pending !== null && late.batch === pending.toAppend) {
        // The replay's own append, which had timed out: consume it, or resend it as it is.
        if (late.outcome.ok) this.consume(pending);
        else this.failures = await this.failed(late.outcome.error, this.failures);
      } else if (late && !late.outcome.ok) {
        this.uncertain = late.batch;
      }
      return false;
    }
    if (this.pending === null) {
      if (spool.entries === 0) return true;
      const delay = this.options.ingestDelayMs ?? 0;
      if (delay > 0 && this.hurrying === 0 && spool.entries < this.options.maxBatch) {
        await this.pause(delay);
        if (this.stopping) return false;
      }
      try {
        this.pending = await this.prepare();
      } catch (error) {
        this.failures = await this.failed(error, this.failures);
        return false;
      }
    }
    const pending = this.pending;
    if (pending.toAppend.length === 0) {
      this.consume(pending);
      return false;
    }
    const result = await appender.append(pending.toAppend);
    if (result === 'stalled') return false;
    if (result.ok) {
      this.consume(pending);
    } else if (this.options.isConnectionError(result.error)) {
      this.failures = await this.failed(result.error, this.failures);
    } else {
      this.refusals += 1;
      const willRetry = this.refusals < REFUSALS_BEFORE_SET_ASIDE;
      this.options.report(result.error, this.refusals, pending.toAppend.length, willRetry);
      if (willRetry) {
        await this.pause(this.options.baseDelayMs * 2 ** (this.refusals - 1));
        return false;
      }
      spool.setAside(pending.batch, pending.toAppend, String(result.error));
      this.counts.setAside += pending.toAppend.length;
      this.pending = null;
      this.refusals = 0;
    }
    return false;
  }

  /** The next batch from the spool, with what is already stored left out. */
  private async prepare(): Promise<PendingReplay> {
    const { spool, store, maxBatch, timeoutMs } = this.options;
    const uncertain = this.uncertain;
    this.uncertain = null;
    if (uncertain !== null) {
      const head = spool.read(uncertain.length);
      if (
        head.entries.length === uncertain.length &&
        head.entries.every((e, i) => e.id === uncertain[i]?.id)
      ) {
        return { batch: head, toAppend: head.entries };
      }
    }
    const batch = spool.read(maxBatch);
    // Spooled by this process and never sent: none of it can be stored yet.
    if (batch.fresh) return { batch, toAppend: batch.entries };
    let stored: ReadonlySet<string>;
    try {
      const found = await within(store.ledgerEntryIds(batch.entries.map((entry) => entry.id)), timeoutMs);
      if (found === TIMED_OUT) {
        throw new LedgerStoreTimeoutError(
          `the ledger store did not answer an id lookup within ${timeoutMs} ms`,
        );
      }
      stored = found;
    } catch (error) {
      this.uncertain = uncertain;
      throw error;
    }
    const toAppend = batch.entries.filter((entry) => !stored.has(entry.id));
    this.counts.alreadyStored += batch.entries.length - toAppend.length;
    return { batch, toAppend };
  }

  private consume(pending: PendingReplay): void {
    this.options.spool.consume(pending.batch);
    this.counts.replayed += pending.toAppend.length;
    this.pending = null;
    this.failures = 0;
    this.refusals = 0;
  }

  /** Reports a failure that the store may recover from, and waits before the next try. */
  private async failed(error: unknown, failures: number): Promise<number> {
    const attempt = failures + 1;
    this.options.spool.dropCache();
    this.options.report(error, attempt, this.pending?.toAppend.length ?? 0, true);
    const { baseDelayMs, maxDelayMs } = this.options;
    await this.pause(Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
    return attempt;
  }

  private async pause(ms: number): Promise<void> {
    if (this.stopping) return;
    const stopped = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    await Promise.race([this.options.sleep(ms), stopped]);
    this.wake = () => {};
  }
}
