/**
 * Budgets and limits on the request path (DESIGN.md, "one request", step 4). For a key that has
 * budgets or limits (its own or its team's), before the request is forwarded:
 *
 * 1. concurrent requests: counted in this process (a limit per gateway instance);
 * 2. requests and tokens per minute: taken from this process's share of the minute, counted in the
 *    store ahead of use and shared by every instance (leases.ts, RateLease);
 * 3. USD budgets: the request's worst-case cost (worst-case.ts) is taken from this process's lease
 *    of every budget of the key and its team, a reservation in the store (leases.ts, BudgetLease),
 *    or the request gets a 429 naming the budget and when it resets.
 *
 * A lease that runs short asks the store for more in one atomic call for every request waiting
 * (allowance.ts), so most requests cost no store round trip at all; the sum of every instance's
 * leases is checked against each limit, so budgets hold across instances as they did per request.
 * After the response the lease learns the actual cost; a timer moves settled cost to spend in
 * batches (every `SYNC_INTERVAL_MS`) and gives back what idle leases hold.
 *
 * A key with no budget and no limit (and the master key) skips all of this. When the store fails
 * or stalls past `storeTimeoutMs`, a request its lease cannot cover is refused with a 503 (fail
 * closed); keys with only rate limits follow `rateLimitsOnStoreFailure`.
 */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/keys.js';
import { DEFAULTS, type GovernanceConfig, type ModelConfig } from '../config/config.js';
import type { Logger } from '../ops/logger.js';
import type { GovernanceStore } from '../store/governance-types.js';
import { AllowanceRefused } from './allowance.js';
import { BudgetLease, type BudgetRefusal, type LeaseOptions, RateLease, type RateRefusal } from './leases.js';
import { budgetExceeded, budgetUnavailable, rateLimited, tooManyConcurrent } from './limit-messages.js';
import { labelFor, type Plan, planOf, scopeKey } from './plan.js';
import {
  promptTokensCeiling,
  promptTokensUpperBound,
  type WorstCaseRequest,
  worstCaseCost,
} from './worst-case.js';

export const GOVERNANCE_DEFAULTS: GovernanceConfig = DEFAULTS.governance;

/** How often leases move settled cost to spend, renew, and give back what they do not use. */
const SYNC_INTERVAL_MS = 100;
/** A budget lease not renewed for this long is no longer spent from (the store was unreachable). */
const LEASE_VALIDITY_MS = 10_000;

export interface BudgetGuardOptions {
  readonly store: GovernanceStore;
  readonly now: () => number;
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  readonly settings?: GovernanceConfig | undefined;
  /**
   * Names this instance's leases (its ledger chain id: one writer each). A restart drops the
   * leases its previous run left (`releaseStale`). Default: `gateway`.
   */
  readonly instanceId?: string | undefined;
}

export interface AdmitInput {
  readonly principal: Principal;
  readonly request: WorstCaseRequest;
  readonly chain: readonly ModelConfig[];
}

/** One admitted request: record each attempt's cost, then `finish` exactly once. */
export interface Admission {
  readonly meter: (costUsd: number, inputTokens: number, outputTokens: number) => void;
  finish(): void;
}

export class BudgetGuard {
  private readonly settings: GovernanceConfig;
  private readonly inFlight = new Map<string, number>();
  private readonly plans = new WeakMap<Principal, Plan>();
  private readonly budgetLeases = new Map<string, BudgetLease>();
  private readonly rateLeases = new Map<string, RateLease>();
  private readonly leaseOptions: LeaseOptions;
  private readonly pending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly leasePrefix: string;

  constructor(private readonly options: BudgetGuardOptions) {
    this.settings = options.settings ?? GOVERNANCE_DEFAULTS;
    this.leasePrefix = `lease:${options.instanceId ?? 'gateway'}:`;
    this.leaseOptions = {
      store: options.store,
      now: options.now,
      storeTimeoutMs: this.settings.storeTimeoutMs,
      validityMs: LEASE_VALIDITY_MS,
      requestTimeoutMs: options.requestTimeoutMs,
    };
  }

  /**
   * Checks the limits and takes the worst case from the budget lease, in that order; throws (or
   * rejects with) the 429 or 503 when a check refuses. `chain` is the failover chain the request
   * may use. Returns the admission itself when the leases cover the request, which is the common
   * case: the request then takes no promise hop here at all.
   */
  admit(input: AdmitInput): Admission | Promise<Admission> {
    const plan = this.planFor(input.principal);
    const release = this.acquireConcurrency(plan);
    try {
      const admittedAtMs = this.options.now();
      // A cheap ceiling of the prompt first; the tokenizer runs only when a lease cannot cover it.
      const ceiling = promptTokensCeiling(input.request);
      const rated = plan.rateChecks.length > 0;
      if (rated && !this.rateLease(plan).tryTake([1, ceiling])) {
        return this.admitWaiting(input, plan, { admittedAtMs, ceiling, ratedTokens: null, release });
      }
      const ratedTokens = rated ? ceiling : null;
      if (plan.budgetChecks.length === 0)
        return this.admission(plan, ratedTokens, admittedAtMs, null, 0, release);
      const lease = this.budgetLease(plan);
      const worstUsd = this.worstUsd(input, ceiling);
      if (!lease.tryTake([worstUsd])) {
        return this.admitWaiting(input, plan, { admittedAtMs, ceiling, ratedTokens, release });
      }
      return this.admission(plan, ratedTokens, admittedAtMs, lease, worstUsd, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * The rest of `admit` when a lease must ask the store: with the tokenizer's bound of the prompt
   * (tighter than the ceiling), waiting for the grant or the refusal.
   */
  private async admitWaiting(
    input: AdmitInput,
    plan: Plan,
    state: {
      readonly admittedAtMs: number;
      readonly ceiling: number;
      /** Set when the rate lease already counted the request at the ceiling. */
      readonly ratedTokens: number | null;
      readonly release: () => void;
    },
  ): Promise<Admission> {
    const { admittedAtMs, ceiling, release } = state;
    try {
      let precise: number | undefined;
      const promptTokens = () => {
        precise ??= promptTokensUpperBound(input.request);
        return precise;
      };
      let ratedTokens = state.ratedTokens;
      if (ratedTokens === null && plan.rateChecks.length > 0 && (await this.takeRate(plan, promptTokens()))) {
        ratedTokens = promptTokens();
      }
      if (plan.budgetChecks.length === 0)
        return this.admission(plan, ratedTokens, admittedAtMs, null, 0, release);
      const lease = this.budgetLease(plan);
      let worstUsd = this.worstUsd(input, ceiling);
      if (!lease.tryTake([worstUsd])) {
        worstUsd = this.worstUsd(input, promptTokens());
        await this.takeBudget(plan, lease, worstUsd);
      }
      return this.admission(plan, ratedTokens, admittedAtMs, lease, worstUsd, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  private worstUsd(input: AdmitInput, promptTokens: number): number {
    return worstCaseCost(input.request, input.chain, this.settings.defaultMaxOutputTokens, promptTokens)
      .costUsd;
  }

  /** Drops the leases a previous run of this instance left in the store (it crashed holding them). */
  async releaseStale(): Promise<void> {
    try {
      const rows = await this.options.store.releaseReservations(this.leasePrefix);
      if (rows > 0) this.options.logger.info('released budget leases left by a previous run', { rows });
    } catch (error) {
      // They expire by themselves; the gateway can serve meanwhile.
      this.options.logger.warn('could not release leases left by a previous run', { error: String(error) });
    }
  }

  /** Settles every lease and gives back all they hold beyond requests in flight (close, tests). */
  async flush(): Promise<void> {
    for (const lease of this.rateLeases.values()) this.track(lease.sync());
    for (const lease of this.budgetLeases.values()) this.track(lease.sync(true));
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Flushes, then stops the sync timer. */
  async close(): Promise<void> {
    await this.flush();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private planFor(principal: Principal): Plan {
    let plan = this.plans.get(principal);
    if (plan === undefined) {
      plan = planOf(principal);
      this.plans.set(principal, plan);
    }
    return plan;
  }

  private budgetLease(plan: Plan): BudgetLease {
    let lease = this.budgetLeases.get(plan.budgetKey);
    if (lease === undefined) {
      lease = new BudgetLease(
        `${this.leasePrefix}${randomUUID()}`,
        plan.budgetChecks,
        plan.scopes,
        this.leaseOptions,
      );
      this.budgetLeases.set(plan.budgetKey, lease);
    }
    return lease;
  }

  private rateLease(plan: Plan): RateLease {
    let lease = this.rateLeases.get(plan.rateKey);
    if (lease === undefined) {
      lease = new RateLease(plan.rateChecks, this.leaseOptions);
      this.rateLeases.set(plan.rateKey, lease);
    }
    return lease;
  }

  private acquireConcurrency(plan: Plan): () => void {
    const limited = plan.concurrencyLimited;
    if (limited.length === 0) return noop;
    for (const policy of limited) {
      const limit = policy.limits.maxConcurrent ?? 0;
      if ((this.inFlight.get(scopeKey(policy)) ?? 0) >= limit) throw tooManyConcurrent(policy, limit);
    }
    for (const policy of limited)
      this.inFlight.set(scopeKey(policy), (this.inFlight.get(scopeKey(policy)) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const policy of limited) {
        const count = (this.inFlight.get(scopeKey(policy)) ?? 1) - 1;
        if (count <= 0) this.inFlight.delete(scopeKey(policy));
        else this.inFlight.set(scopeKey(policy), count);
      }
    };
  }

  /** True when the request was counted; false when admitted uncounted (fail open). */
  private async takeRate(plan: Plan, promptTokens: number): Promise<boolean> {
    try {
      const waiting = this.rateLease(plan).take([1, promptTokens]);
      if (waiting) await waiting;
      return true;
    } catch (error) {
      if (error instanceof AllowanceRefused) {
        const refusal = error.refusal as RateRefusal;
        throw rateLimited(refusal, labelFor(plan.policies, refusal), this.options.now());
      }
      this.options.logger.error('rate limit check failed', { error: String(error) });
      if (this.settings.rateLimitsOnStoreFailure === 'open' && plan.budgetChecks.length === 0) return false;
      throw budgetUnavailable(labelFor(plan.policies, plan.rateChecks[0]), 'rate limits');
    }
  }

  private async takeBudget(plan: Plan, lease: BudgetLease, worstUsd: number): Promise<void> {
    try {
      const waiting = lease.take([worstUsd]);
      if (waiting) await waiting;
    } catch (error) {
      if (error instanceof AllowanceRefused) {
        const refusal = error.refusal as BudgetRefusal;
        throw budgetExceeded(refusal, labelFor(plan.policies, refusal), worstUsd, this.options.now());
      }
      this.options.logger.error('budget reservation failed', { error: String(error) });
      throw budgetUnavailable(labelFor(plan.policies, plan.budgetChecks[0]), 'budget');
    }
  }

  /**
   * One admitted request. `ratedTokens`: the prompt tokens counted against the rate limit at
   * admission (null: not counted).
   */
  private admission(
    plan: Plan,
    ratedTokens: number | null,
    admittedAtMs: number,
    lease: BudgetLease | null,
    worstUsd: number,
    release: () => void,
  ): Admission {
    this.ensureTimer();
    let costUsd = 0;
    let tokens = 0;
    let finished = false;
    return {
      meter: (attemptCostUsd, inputTokens, outputTokens) => {
        costUsd += attemptCostUsd;
        tokens += inputTokens + outputTokens;
      },
      finish: () => {
        if (finished) return;
        finished = true;
        release();
        lease?.finish(worstUsd, costUsd);
        // The prompt was counted at its upper estimate; correct it to what was metered.
        if (ratedTokens !== null) this.rateLease(plan).correct(tokens - ratedTokens, admittedAtMs);
      },
    };
  }

  /** Every SYNC_INTERVAL_MS while leases exist: settle, renew, give back, forget the empty ones. */
  private ensureTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  private tick(): void {
    const nowMs = this.options.now();
    for (const [key, lease] of this.budgetLeases) {
      if (lease.due(nowMs)) this.track(lease.sync(false));
      else if (lease.empty) this.budgetLeases.delete(key);
    }
    for (const [key, lease] of this.rateLeases) {
      if (lease.due(nowMs)) this.track(lease.sync());
      else if (lease.stale(nowMs)) this.rateLeases.delete(key);
    }
    if (this.budgetLeases.size === 0 && this.rateLeases.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => {
      this.options.logger.error('budget lease sync failed; retrying on the next tick', {
        error: String(error),
      });
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}

function noop(): void {}
