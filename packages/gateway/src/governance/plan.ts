/**
 * What a principal's budgets and limits ask of each of its requests, worked out once per principal
 * (budget-guard.ts keeps it per principal object): the key's policy and its team's, the budget and
 * rate checks they make, and the keys under which leases are shared.
 */
import type { Principal } from '../auth/keys.js';
import {
  BUDGET_WINDOWS,
  type BudgetCheck,
  type BudgetScope,
  hasAnyLimit,
  type Limits,
  type RateCheck,
} from '../store/governance-types.js';
import type { ScopeLabel } from './limit-messages.js';

const BUDGET_FIELDS = {
  day: 'budgetDailyUsd',
  month: 'budgetMonthlyUsd',
  total: 'budgetTotalUsd',
} as const satisfies Record<(typeof BUDGET_WINDOWS)[number], keyof Limits>;

export interface Policy extends ScopeLabel {
  readonly limits: Limits;
}

/** What a principal's limits ask of every request, worked out once per principal. */
export interface Plan {
  readonly policies: readonly Policy[];
  readonly budgetChecks: readonly BudgetCheck[];
  readonly rateChecks: readonly RateCheck[];
  readonly scopes: readonly BudgetScope[];
  /** Leases are shared by principals with the same limits (a reloaded key keeps its lease). */
  readonly budgetKey: string;
  readonly rateKey: string;
  readonly concurrencyLimited: readonly Policy[];
}

/** True when a request on this principal must pass the guard (it has a budget or a limit). */
export function isGoverned(principal: Principal): boolean {
  return hasAnyLimit(principal.limits) || (principal.team !== null && hasAnyLimit(principal.team.limits));
}

export function planOf(principal: Principal): Plan {
  const policies = policiesOf(principal);
  const budgetChecks = budgetChecksOf(policies);
  const rateChecks: RateCheck[] = policies
    .filter((policy) => policy.limits.rpm !== null || policy.limits.tpm !== null)
    .map((policy) => ({ ...scopeOf(policy), rpm: policy.limits.rpm, tpm: policy.limits.tpm }));
  const scopes = policies.map(scopeOf);
  return {
    policies,
    budgetChecks,
    rateChecks,
    scopes,
    budgetKey: JSON.stringify([scopes, budgetChecks]),
    rateKey: JSON.stringify(rateChecks),
    concurrencyLimited: policies.filter((policy) => policy.limits.maxConcurrent !== null),
  };
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

function budgetChecksOf(policies: readonly Policy[]): BudgetCheck[] {
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

export function scopeKey(scope: BudgetScope): string {
  return `${scope.scopeKind}:${scope.scopeId}`;
}

export function labelFor(policies: readonly Policy[], scope: BudgetScope | undefined): ScopeLabel {
  const found = policies.find(
    (policy) => policy.scopeKind === scope?.scopeKind && policy.scopeId === scope.scopeId,
  );
  return found ?? { scopeKind: 'key', scopeId: scope?.scopeId ?? '', label: 'this key' };
}
