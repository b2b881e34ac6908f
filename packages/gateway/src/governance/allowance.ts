/**
 * A slice of a shared limit held by this gateway process, so that admitting a request costs no
 * store round trip. The store grants a slice in one atomic call (a budget reservation that this
 * process then spends from, or requests and tokens counted in the minute ahead of use); requests
 * are admitted from it in memory; when it runs short, one call asks for more for every request
 * waiting. What the store granted is never exceeded, so the limit holds across instances exactly
 * as per-request reservations did: the sum of all slices is checked against the limit atomically.
 *
 * Slices grow while demand lasts (each ask doubles the last, until requests stop for a second) and are
 * capped at a fraction of the limit, so one instance never sits on much of a budget another needs.
 * When a larger ask is refused, the exact shortfall of the first waiting request is asked for, so
 * the last dollar of a budget is still usable. A refusal is remembered briefly: a key hammering a
 * spent budget is refused from memory, not with a store call per request.
 *
 * Amounts are vectors: one number for a budget (USD), two for a rate limit (requests, tokens).
 */

export class AllowanceRefused<R> extends Error {
  constructor(readonly refusal: R) {
    super('refused by the store');
  }
}

/** The store failed or did not answer in time: the caller decides to fail open or closed. */
export class AllowanceUnavailable extends Error {}

export interface AllowanceClock {
  readonly now: () => number;
  /** A waiting request gives up (AllowanceUnavailable) after this long without a grant. */
  readonly storeTimeoutMs: number;
}

interface Waiter {
  readonly need: readonly number[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

const REFUSAL_MEMO_MS = 50;
/**
 * Requests this far apart end a run of demand: its asks start small again, and a lease gives back
 * the free part of its slice (leases.ts).
 */
export const IDLE_MS = 1000;
const MAX_GROWTH = 1024;
/** Float slack when comparing USD sums. */
const SLACK = 1e-12;

export abstract class Allowance<R> {
  /** What the store holds for this process, per dimension. */
  protected readonly granted: number[];
  /** What admitted requests use of it. */
  protected readonly used: number[];
  /** When a request last asked (idle slices are given back). */
  lastTakeAtMs = Number.NEGATIVE_INFINITY;
  /** When requests started coming again after an idle second: asks grow within one such run. */
  private busySinceMs = Number.NEGATIVE_INFINITY;
  private readonly waiters: Waiter[] = [];
  private pumping = false;
  private tail: Promise<unknown> = Promise.resolve();
  private growth = 1;
  private lastAskAtMs = Number.NEGATIVE_INFINITY;
  private refused: {
    readonly atMs: number;
    readonly lacking: readonly number[];
    readonly refusal: R;
  } | null = null;

  constructor(
    dimensions: number,
    protected readonly clock: AllowanceClock,
  ) {
    this.granted = new Array<number>(dimensions).fill(0);
    this.used = new Array<number>(dimensions).fill(0);
  }

  /**
   * Admits `need`: undefined when it fit the slice at once, else a promise that settles when the
   * store granted more (or refused: AllowanceRefused; or failed: AllowanceUnavailable). Throws
   * AllowanceRefused at once when the same shortfall was refused a moment ago.
   */
  take(need: readonly number[]): Promise<void> | undefined {
    if (this.tryTake(need)) return undefined;
    const now = this.clock.now();
    if (this.waiters.length === 0) {
      const memo = this.memo(this.lacking(need, now), now);
      if (memo) throw new AllowanceRefused(memo);
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { need, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(new AllowanceUnavailable(`the store did not answer within ${this.clock.storeTimeoutMs} ms`));
      }, this.clock.storeTimeoutMs);
      this.waiters.push(waiter);
      void this.pump();
    });
  }

  /** Admits `need` if the slice covers it now, with nothing waiting before it; never calls the store. */
  tryTake(need: readonly number[]): boolean {
    const now = this.clock.now();
    if (now - this.lastTakeAtMs > IDLE_MS) this.busySinceMs = now;
    this.lastTakeAtMs = now;
    this.refresh(now);
    if (this.waiters.length > 0 || !this.fits(need, now)) return false;
    for (let i = 0; i < need.length; i += 1) this.used[i] = (this.used[i] ?? 0) + (need[i] ?? 0);
    return true;
  }

  /** True when no request waits for the store. */
  get idle(): boolean {
    return this.waiters.length === 0 && !this.pumping;
  }

  /** True when nothing is held, used or waiting: the slice can be forgotten. */
  get empty(): boolean {
    return this.idle && this.granted.every((x) => x === 0) && this.used.every((x) => x === 0);
  }

  /** Runs store work one call at a time per slice, so local state always matches the store's. */
  protected exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Asks the store for `ask` more; on a grant adds it to `granted` and returns null. */
  protected abstract acquire(ask: readonly number[], nowMs: number): Promise<R | null>;
  /** The most one ask may take, per dimension. */
  protected abstract caps(): readonly number[];
  /** Whether the slice may still be spent from (a budget lease stops when it was not renewed). */
  protected usable(_nowMs: number): boolean {
    return true;
  }
  /** Called before every decision (a rate slice starts over each minute). */
  protected refresh(_nowMs: number): void {}

  private available(index: number, now: number): number {
    const free = (this.granted[index] ?? 0) - (this.used[index] ?? 0);
    return this.usable(now) ? free : Math.min(0, free);
  }

  private fits(need: readonly number[], now: number): boolean {
    for (let i = 0; i < need.length; i += 1) {
      if ((need[i] ?? 0) > this.available(i, now) + SLACK) return false;
    }
    return true;
  }

  private lacking(need: readonly number[], now: number): number[] {
    return need.map((amount, i) => Math.max(0, amount - this.available(i, now)));
  }

  private memo(lacking: readonly number[], now: number): R | null {
    const { refused } = this;
    if (refused === null || now - refused.atMs >= REFUSAL_MEMO_MS) return null;
    return lacking.every((amount, i) => amount + SLACK >= (refused.lacking[i] ?? 0)) ? refused.refusal : null;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const now = this.clock.now();
        this.refresh(now);
        this.serve(now);
        const head = this.waiters[0];
        if (head === undefined) return;
        const lacking = this.lacking(head.need, now);
        const memo = this.memo(lacking, now);
        if (memo) {
          this.settleHead(new AllowanceRefused(memo));
          continue;
        }
        const sized = this.sizeAsk(lacking, now);
        let refusal = await this.ask(sized);
        if (refusal === undefined) return;
        if (refusal === null || this.waiters[0] !== head) continue;
        // The larger ask did not fit: what the first waiting request lacks now may still.
        const exact = this.lacking(head.need, this.clock.now());
        if (exact.every((amount) => amount <= SLACK)) continue;
        if (sized.some((amount, i) => amount > (exact[i] ?? 0) + SLACK)) {
          refusal = await this.ask(exact);
          if (refusal === undefined) return;
          if (refusal === null || this.waiters[0] !== head) continue;
        }
        this.growth = 1;
        this.refused = { atMs: this.clock.now(), lacking: exact, refusal };
        this.settleHead(new AllowanceRefused(refusal));
      }
    } finally {
      this.pumping = false;
    }
  }

  /** null: granted; R: refused; undefined: the store failed (every waiter was told). */
  private async ask(amounts: readonly number[]): Promise<R | null | undefined> {
    try {
      return await this.exclusive(() => this.acquire(amounts, this.clock.now()));
    } catch (error) {
      const failure = new AllowanceUnavailable(error instanceof Error ? error.message : String(error));
      for (const waiter of this.waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(failure);
      }
      return undefined;
    }
  }

  private serve(now: number): void {
    for (
      let head = this.waiters[0];
      head !== undefined && this.fits(head.need, now);
      head = this.waiters[0]
    ) {
      for (let i = 0; i < head.need.length; i += 1) this.used[i] = (this.used[i] ?? 0) + (head.need[i] ?? 0);
      this.settleHead(null);
    }
  }

  private settleHead(error: Error | null): void {
    const head = this.waiters.shift();
    if (head === undefined) return;
    clearTimeout(head.timer);
    if (error) head.reject(error);
    else head.resolve();
  }

  /** At least what the first waiter lacks; more (every waiter's need, grown) while demand lasts. */
  private sizeAsk(lacking: readonly number[], now: number): number[] {
    // A steady key's slice lasts longer with every ask, so asks grow further apart: growth goes on
    // while requests keep coming, and starts over after a second without any.
    this.growth = this.lastAskAtMs >= this.busySinceMs ? Math.min(this.growth * 2, MAX_GROWTH) : 1;
    this.lastAskAtMs = now;
    const demand = lacking.map(() => 0);
    for (const waiter of this.waiters) {
      for (let i = 0; i < demand.length; i += 1) demand[i] = (demand[i] ?? 0) + (waiter.need[i] ?? 0);
    }
    const caps = this.caps();
    return lacking.map((amount, i) =>
      Math.max(amount, Math.min(caps[i] ?? 0, (demand[i] ?? 0) * this.growth)),
    );
  }
}
