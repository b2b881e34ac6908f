/**
 * Budgets and limits on the request path (DESIGN.md, "one request", step 4). For a key that has
 * budgets or limits (its own or its team's), before the request is forwarded:
 *
 * 1. concurrent requests: counted in this process (a limit per gateway instance);
 * 2. requests and tokens per minute: counted in the store, shared by every instance;
 * 3. USD budgets: the request's worst-case cost (worst-case.ts) is reserved atomically in the
 *    store against every budget of the key and its team, or the request gets a 429 naming the
 *    budget and when it resets.
 *
 * After the response, the reservation is settled with the sum of the request's attempts' actual
 * costs (or released when nothing was billed), and the real token count corrects the rate counter.
 * Settling runs in the background: the client never waits for it, and the reservation keeps
 * counting until it is done. A reservation the gateway never settles (a crash) stops counting when
 * it expires (request timeout + one minute).
 *
 * A key with no budget and no limit (and the master key) skips all of this: no store call, no
 * extra await on its path. When the store fails or stalls past `storeTimeoutMs`, budgeted keys are
 * refused with a 503 (fail closed); keys with only rate limits follow `rateLimitsOnStoreFailure`.
 */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/keys.js';
import { DEFAULTS, type GovernanceConfig, type ModelConfig } from '../config/config.js';
import type { Logger } from '../ops/logger.js';
import {
  BUDGET_WINDOWS,
  type BudgetCheck,
  type BudgetScope,
  type GovernanceStore,
  hasAnyLimit,
  type Limits,
  type RateCheck,
} from '../store/governance-types.js';
import {
  budgetExceeded,
  budgetUnavailable,
  rateLimited,
  type ScopeLabel,
  tooManyConcurrent,
} from './limit-messages.js';
import { promptTokensUpperBound, type WorstCaseRequest, worstCaseCost } from './worst-case.js';

export const GOVERNANCE_DEFAULTS: GovernanceConfig = DEFAULTS.governance;

/** A reservation outlives the request timeout by this much before it stops counting by itself. */
const RESERVATION_MARGIN_MS = 60_000;
const SETTLE_ATTEMPTS = 3;

const BUDGET_FIELDS = {
  day: 'budgetDailyUsd',
  month: 'budgetMonthlyUsd',
  total: 'budgetTotalUsd',
} as const satisfies Record<(typeof BUDGET_WINDOWS)[number], keyof Limits>;

interface Policy extends ScopeLabel {
  readonly limits: Limits;
}

/** True when a request on this principal must pass the guard (it has a budget or a limit). */
export function isGoverned(principal: Principal): boolean {
  return hasAnyLimit(principal.limits) || (principal.team !== null && hasAnyLimit(principal.team.limits));
}

export interface BudgetGuardOptions {
  readonly store: GovernanceStore;
  readonly now: () => number;
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  readonly settings?: GovernanceConfig | undefined;
}

/** One admitted request: record each attempt's cost, then `finish` exactly once. */
export interface Admission {
  readonly meter: (costUsd: number, inputTokens: number, outputTokens: number) => void;
  finish(): void;
}

export class BudgetGuard {
  private readonly settings: GovernanceConfig;
  private readonly inFlight = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: BudgetGuardOptions) {
    this.settings = options.settings ?? GOVERNANCE_DEFAULTS;
  }

  /**
   * Checks the limits and reserves the worst case, in that order; throws the 429 or 503 when a
   * check refuses. `chain` is the failover chain the request may use.
   */
  async admit(input: {
    readonly principal: Principal;
    readonly request: WorstCaseRequest;
    readonly chain: readonly ModelConfig[];
  }): Promise<Admission> {
    const policies = policiesOf(input.principal);
    const scopes: BudgetScope[] = policies.map(({ scopeKind, scopeId }) => ({ scopeKind, scopeId }));
    const release = this.acquireConcurrency(policies);
    try {
      const promptTokens = promptTokensUpperBound(input.request);
      const rateScopes = await this.takeRate(policies, promptTokens);
      const checks = budgetChecks(policies);
      let reservation: { readonly id: string } | null = null;
      if (checks.length > 0) {
        const worst = worstCaseCost(
          input.request,
          input.chain,
          this.settings.defaultMaxOutputTokens,
          promptTokens,
        );
        reservation = await this.reserve(policies, checks, scopes, worst.costUsd);
      }
      return this.admission({ scopes, rateScopes, promptTokens, reservation, release });
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Resolves when every settle started so far has finished (gateway close, tests). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private acquireConcurrency(policies: readonly Policy[]): () => void {
    const limited = policies.filter((policy) => policy.limits.maxConcurrent !== null);
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

  private async takeRate(policies: readonly Policy[], promptTokens: number): Promise<BudgetScope[]> {
    const checks: RateCheck[] = policies
      .filter((policy) => policy.limits.rpm !== null || policy.limits.tpm !== null)
      .map((policy) => ({ ...scopeOf(policy), rpm: policy.limits.rpm, tpm: policy.limits.tpm }));
    if (checks.length === 0) return [];
    const nowMs = this.options.now();
    let result: Awaited<ReturnType<GovernanceStore['takeRateLimit']>>;
    try {
      result = await this.withTimeout(
        this.options.store.takeRateLimit({ checks, tokens: promptTokens, nowMs }),
      );
    } catch (error) {
      const budgeted = budgetChecks(policies).length > 0;
      this.options.logger.error('rate limit check failed', { error: String(error) });
      if (this.settings.rateLimitsOnStoreFailure === 'open' && !budgeted) return [];
      throw budgetUnavailable(labelFor(policies, checks[0]), 'rate limits');
    }
    if (!result.ok) throw rateLimited(result, labelFor(policies, result), nowMs);
    return checks.map(scopeOf);
  }

  private async reserve(
    policies: readonly Policy[],
    checks: readonly BudgetCheck[],
    scopes: readonly BudgetScope[],
    amountUsd: number,
  ): Promise<{ readonly id: string }> {
    const id = randomUUID();
    const nowMs = this.options.now();
    const reserving = this.options.store.reserveBudget({
      reservationId: id,
      checks,
      scopes,
      amountUsd,
      nowMs,
      expiresAtMs: nowMs + this.options.requestTimeoutMs + RESERVATION_MARGIN_MS,
    });
    let result: Awaited<typeof reserving>;
    try {
      result = await this.withTimeout(reserving);
    } catch (error) {
      this.options.logger.error('budget reservation failed', { error: String(error) });
      // A reservation that lands after we gave up is dropped (or expires by itself).
      this.track(reserving.then(() => this.options.store.releaseBudget(id)));
      throw budgetUnavailable(labelFor(policies, checks[0]), 'budget');
    }
    if (!result.ok) throw budgetExceeded(result, labelFor(policies, result), amountUsd, nowMs);
    return { id };
  }

  private admission(state: {
    readonly scopes: readonly BudgetScope[];
    readonly rateScopes: readonly BudgetScope[];
    readonly promptTokens: number;
    readonly reservation: { readonly id: string } | null;
    readonly release: () => void;
  }): Admission {
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
        state.release();
        const nowMs = this.options.now();
        const { reservation } = state;
        if (reservation) {
          const { store } = this.options;
          this.track(
            this.retry(() =>
              costUsd > 0
                ? store.settleBudget({
                    reservationId: reservation.id,
                    scopes: state.scopes,
                    actualUsd: costUsd,
                    nowMs,
                  })
                : store.releaseBudget(reservation.id),
            ),
          );
        }
        // The prompt was counted at its upper estimate; correct it to what was metered.
        const correction = tokens - state.promptTokens;
        if (state.rateScopes.length > 0 && correction !== 0) {
          this.track(this.options.store.addTokens(state.rateScopes, correction, nowMs));
        }
      },
    };
  }

  private async retry(work: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (attempt >= SETTLE_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => {
      this.options.logger.error('budget settle failed; the reservation expires by itself', {
        error: String(error),
      });
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private async withTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the store did not answer within ${this.settings.storeTimeoutMs} ms`)),
        this.settings.storeTimeoutMs,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The key's policy, then its team's: each with its own limits. */
function policiesOf(principal: Principal): Policy[] {
  const policies: Policy[] = [
    {
      scopeKind: 'key',
      scopeId: principal.keyId,
      label: `key ${principal.name} (${principal.keyId})`,
      limits: principal.limits,
    },
  ];
  const { team } = principal;
  if (team)
    policies.push({ scopeKind: 'team', scopeId: team.id, label: `team ${team.name}`, limits: team.limits });
  return policies;
}

function budgetChecks(policies: readonly Policy[]): BudgetCheck[] {
  return policies.flatMap((policy) =>
    BUDGET_WINDOWS.flatMap((window) => {
      const limitUsd = policy.limits[BUDGET_FIELDS[window]];
      return limitUsd === null ? [] : [{ ...scopeOf(policy), window, limitUsd }];
    }),
  );
}

function scopeOf(scope: BudgetScope): BudgetScope {
  return { scopeKind: scope.scopeKind, scopeId: scope.scopeId };
}

function scopeKey(scope: BudgetScope): string {
  return `${scope.scopeKind}:${scope.scopeId}`;
}

function labelFor(policies: readonly Policy[], scope: BudgetScope | undefined): ScopeLabel {
  const found = policies.find(
    (policy) => policy.scopeKind === scope?.scopeKind && policy.scopeId === scope.scopeId,
  );
  return found ?? { scopeKind: 'key', scopeId: scope?.scopeId ?? '', label: 'this key' };
}
