/**
 * Group commit for small write transactions (budget reservations, settlements, rate counters).
 * Each `run(work)` still behaves as its own transaction: works queued in the same event-loop turn
 * run one after another inside one IMMEDIATE transaction, each in its own savepoint, so a work
 * that throws rolls back alone and sees the writes of those before it, exactly as if they had
 * committed one by one. Only the commit is shared: under load a request's budget check and
 * settlement cost a savepoint instead of a WAL commit each. Nothing is acknowledged before the
 * shared commit.
 */
import type Database from 'better-sqlite3';

interface Queued {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

export class GroupCommit {
  private queue: Queued[] = [];
  private readonly savepoint: Database.Transaction<(work: () => unknown) => unknown>;
  private readonly batch: Database.Transaction<(items: readonly Queued[]) => Outcome[]>;

  constructor(db: Database.Database) {
    // better-sqlite3 runs a transaction function called inside another as a savepoint.
    this.savepoint = db.transaction((work: () => unknown) => work());
    this.batch = db.transaction((items: readonly Queued[]) =>
      items.map((item): Outcome => {
        try {
          return { ok: true, value: this.savepoint(item.work) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
  }

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // setImmediate runs after this turn's I/O callbacks: every request of the turn joins.
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const items = this.queue;
    this.queue = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.batch.immediate(items);
    } catch (error) {
      // BEGIN or COMMIT failed (SQLITE_BUSY past the timeout, I/O): nothing of the batch is kept.
      for (const item of items) item.reject(error);
      return;
    }
    outcomes.forEach((outcome, index) => {
      const item = items[index] as Queued;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}
