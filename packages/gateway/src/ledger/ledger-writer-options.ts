/** What a LedgerWriter is configured with, and what it reports on a failed append. */
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
  /** Spool to local disk while the store cannot be reached. Without it, such batches are rejected. */
  readonly spool?: LedgerSpoolSettings;
  /** Which append failures mean the store is unreachable. Default: `isConnectionError`. */
  readonly isConnectionError?: (error: unknown) => boolean;
}

export interface LedgerSpoolSettings {
  /** Directory of the spool files (one per chain), created on first use. */
  readonly directory: string;
  /** Largest spool file, in bytes; beyond it write() rejects with LedgerSpoolFullError. Default 1 GiB. */
  readonly maxBytes?: number;
  /** Attempts of a batch failing with a connection error before it is spooled. Default 2. */
  readonly attempts?: number;
  /**
   * An append (or replay id lookup) with no answer after this long counts as a stalled store: the
   * batch is spooled while the append is left to finish. Default 1000 ms.
   */
  readonly appendTimeoutMs?: number;
  /** Replay backoff while the store is still unreachable. Defaults: 250 ms doubling to 5 s. */
  readonly replayDelayMs?: { readonly base?: number; readonly max?: number };
  /** How long close() waits for the spool to drain; the rest is replayed at the next start. Default 5 s. */
  readonly closeTimeoutMs?: number;
  /**
   * Journal mode: every entry is appended to the spool first, which is the durable point write()
   * waits for, and the store is filled from it in the background, in batches gathered over
   * `ingestDelayMs` (default 100 ms). A commit to the store then costs the request path nothing.
   */
  readonly journal?: boolean;
  readonly ingestDelayMs?: number;
  /** fsync each spool append (default true); false still survives a killed process. */
  readonly fsync?: boolean;
}

export interface LedgerWriteFailure {
  readonly chainId: string;
  /** Consecutive failures of this batch, from 1. */
  readonly attempt: number;
  /** Entries in the failed batch. */
  readonly entries: number;
  /** False when the retry budget is spent and the batch's write() promises are being rejected. */
  readonly willRetry: boolean;
  /**
   * Set when a spool is configured: `to-spool` (the batch is being written to the spool instead),
   * or `replay` (moving spooled entries into the store failed; it is retried).
   */
  readonly spool?: 'to-spool' | 'replay';
}
