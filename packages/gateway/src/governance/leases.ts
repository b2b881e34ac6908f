/**
 * The two kinds of slice this process holds (allowance.ts): a lease of the budgets of one key (and
 * its team), and a share of one key's requests and tokens in the current minute.
 *
 * A budget lease is one reservation in the store, grown under its id and settled in batches: the
 * actual cost of finished requests moves from the reservation to spend, the part still covering
 * requests in flight stays reserved. The lease is spent from only while it was renewed within
 * `validityMs`; the store keeps counting it for `validityMs` + the request timeout + a margin
 * beyond that, so a request admitted from it is always covered, and a crashed process's lease stops
 * counting by itself. A lease idle for a second gives back what no request uses.
 */
import { minuteStartMs } from '../store/budget-windows.js';
import type {
  BudgetCheck,
  BudgetScope,
  GovernanceStore,
  RateCheck,
  RateResult,
  ReserveResult,
} from '../store/governance-types.js';
import { Allowance, type AllowanceClock, IDLE_MS } from './allowance.js';

export type BudgetRefusal = Extract<ReserveResult, { ok: false }>;
export type RateRefusal = Extract<RateResult, { ok: false }>;

/** No single ask takes more than this fraction of a limit. */
const CAP_FRACTION = 1 / 16;
/** The store keeps counting a lease this long past its last possible use. */
const EXPIRY_MARGIN_MS = 60_000;

/** Sums of float USD drift: a remainder this small is zero. */
function snap(amount: number): number {
  return Math.abs(amount) < 1e-12 ? 0 : amount;
}

export interface LeaseOptions extends AllowanceClock {
  readonly store: GovernanceStore;
  /** A lease not renewed for this long is no longer spent from. */
  readonly validityMs: number;
  readonly requestTimeoutMs: number;
}

export class BudgetLease extends Allowance<BudgetRefusal> {
  /** Actual cost of finished requests, still inside `granted`, not yet moved to spend. */
  private unsettled = 0;
  private renewedAtMs = Number.NEGATIVE_INFINITY;
  private readonly cap: number;

  constructor(
    private readonly id: string,
    private readonly checks: readonly BudgetCheck[],
    private readonly scopes: readonly BudgetScope[],
    private readonly options: LeaseOptions,
  ) {
    super(1, options);
    this.cap = Math.min(...checks.map((check) => check.limitUsd * CAP_FRACTION));
  }

  /** A request admitted for `worstUsd` finished having cost `actualUsd`. */
  finish(worstUsd: number, actualUsd: number): void {
    this.used[0] = (this.used[0] ?? 0) + actualUsd - worstUsd;
    this.unsettled += actualUsd;
  }

  /** Whether `sync` has anything to do now. */
  due(nowMs: number): boolean {
    const held = this.granted[0] ?? 0;
    return (
      this.unsettled > 0 ||
      (held > 0 && nowMs - this.renewedAtMs > this.options.validityMs / 2) ||
      (held > (this.used[0] ?? 0) && nowMs - this.lastTakeAtMs > IDLE_MS)
    );
  }

  /**
   * Moves settled cost to spend and renews the lease; `giveBack` (or idleness) also returns what
   * no request in flight uses. A failure leaves the cost unsettled for the next call: spend may then
   * be counted twice, never missed.
   */
  sync(giveBack: boolean): Promise<void> {
    return this.exclusive(async () => {
      const nowMs = this.clock.now();
      const sent = this.unsettled;
      const held = this.granted[0] ?? 0;
      const inFlight = snap((this.used[0] ?? 0) - sent);
      // A request that cost more than its worst case was settled at its actual cost: the store's
      // reservation shrinks by at most what it holds, so the excess is not also owed by the next ask.
      const remaining = snap(Math.max(0, held - sent));
      const idle = giveBack || nowMs - this.lastTakeAtMs > IDLE_MS;
      const keep = idle ? Math.min(remaining, Math.max(0, inFlight)) : remaining;
      if (
        sent === 0 &&
        (held === 0 || (keep === held && nowMs - this.renewedAtMs <= this.options.validityMs / 2))
      )
        return;
      // What is given back is no longer spent from, from now on, whatever the store answers.
      this.granted[0] = Math.min(held, keep + sent);
      await this.options.store.settleBudget({
        reservationId: this.id,
        scopes: this.scopes,
        actualUsd: sent,
        nowMs,
        keep: { amountUsd: keep, expiresAtMs: this.expiresAtMs(nowMs) },
      });
      this.unsettled = snap(this.unsettled - sent);
      this.used[0] = snap((this.used[0] ?? 0) - sent);
      this.granted[0] = keep;
      this.renewedAtMs = keep > 0 ? nowMs : Number.NEGATIVE_INFINITY;
    });
  }

  protected async acquire(ask: readonly number[], nowMs: number): Promise<BudgetRefusal | null> {
    const amountUsd = ask[0] ?? 0;
    const result = await this.options.store.reserveBudget({
      reservationId: this.id,
      checks: this.checks,
      scopes: this.scopes,
      amountUsd,
      nowMs,
      expiresAtMs: this.expiresAtMs(nowMs),
    });
    if (!result.ok) return result;
    // A lease the store had already dropped as expired restarts from this grant.
    const live = nowMs - this.renewedAtMs < this.options.validityMs + this.options.requestTimeoutMs;
    this.granted[0] = (live ? (this.granted[0] ?? 0) : 0) + amountUsd;
    this.renewedAtMs = nowMs;
    return null;
  }

  protected caps(): readonly number[] {
    return [this.cap];
  }

  protected override usable(nowMs: number): boolean {
    return nowMs - this.renewedAtMs < this.options.validityMs;
  }

  private expiresAtMs(nowMs: number): number {
    return nowMs + this.options.validityMs + this.options.requestTimeoutMs + EXPIRY_MARGIN_MS;
  }
}

/**
 * Requests and tokens of the current minute, counted in the store ahead of use. Tokens learned
 * after a response (completion tokens, or a correction of the prompt estimate) are added to the
 * store by `sync` when they pass what was counted ahead.
 */
export class RateLease extends Allowance<RateRefusal> {
  private minute = Number.NEGATIVE_INFINITY;
  private readonly capList: readonly number[];

  constructor(
    private readonly checks: readonly RateCheck[],
    private readonly options: LeaseOptions,
  ) {
    super(2, options);
    const fraction = (limit: number | null) =>
      limit === null ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(limit * CAP_FRACTION));
    this.capList = [
      Math.min(...checks.map((check) => fraction(check.rpm))),
      Math.min(...checks.map((check) => fraction(check.tpm))),
    ];
  }

  /**
   * Tokens metered after the response, less the prompt estimate counted at admission (`admittedAtMs`).
   * A negative correction only counts within the minute it was admitted in: later, those tokens
   * were never counted in this minute.
   */
  correct(tokens: number, admittedAtMs: number): void {
    const nowMs = this.clock.now();
    this.refresh(nowMs);
    if (tokens < 0 && minuteStartMs(admittedAtMs) !== this.minute) return;
    this.used[1] = (this.used[1] ?? 0) + tokens;
  }

  /** True once the minute this share counts in has passed and nothing is waiting. */
  stale(nowMs: number): boolean {
    return minuteStartMs(nowMs) !== this.minute && this.idle;
  }

  due(nowMs: number): boolean {
    return minuteStartMs(nowMs) === this.minute && (this.used[1] ?? 0) > (this.granted[1] ?? 0);
  }

  /** Counts in the store the tokens used past what was counted ahead. */
  sync(): Promise<void> {
    return this.exclusive(async () => {
      const nowMs = this.clock.now();
      this.refresh(nowMs);
      const excess = (this.used[1] ?? 0) - (this.granted[1] ?? 0);
      if (excess <= 0) return;
      await this.options.store.addTokens(this.checks, excess, nowMs);
      if (minuteStartMs(nowMs) === this.minute) this.granted[1] = (this.granted[1] ?? 0) + excess;
    });
  }

  protected async acquire(ask: readonly number[], nowMs: number): Promise<RateRefusal | null> {
    const requests = Math.ceil(ask[0] ?? 0);
    const tokens = Math.ceil(ask[1] ?? 0);
    const result = await this.options.store.takeRateLimit({ checks: this.checks, requests, tokens, nowMs });
    if (!result.ok) return result;
    // Counted in the minute of `nowMs`; if that minute has passed, the grant is of no use now.
    if (minuteStartMs(nowMs) === this.minute) {
      this.granted[0] = (this.granted[0] ?? 0) + requests;
      this.granted[1] = (this.granted[1] ?? 0) + tokens;
    }
    return null;
  }

  protected caps(): readonly number[] {
    return this.capList;
  }

  protected override refresh(nowMs: number): void {
    const minute = minuteStartMs(nowMs);
    if (minute === this.minute) return;
    this.minute = minute;
    this.granted.fill(0);
    this.used.fill(0);
  }
}
