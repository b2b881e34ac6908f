/**
 * The 429s and 503s of budgets and limits, OpenAI-shaped (GatewayError), each naming the budget or
 * limit, what is used, and when it resets, with `retry-after` set to the seconds until then.
 */
import { GatewayError } from '../http/gateway-error.js';
import type { BudgetWindow, RateResult, ReserveResult } from '../store/governance-types.js';

/** How a scope is named in messages: `team research`, `key billing (key_ab12)`. */
export interface ScopeLabel {
  readonly scopeKind: 'key' | 'team';
  readonly scopeId: string;
  readonly label: string;
}

const WINDOW_NAMES: Readonly<Record<BudgetWindow, string>> = {
  day: 'daily',
  month: 'monthly',
  total: 'total',
};

/** `$50.00`, `$0.40`, `$0.005`, `$0.00201`: cents when exact, else up to six decimals. */
export function formatUsd(amount: number): string {
  const cents = amount.toFixed(2);
  if (Math.abs(Number(cents) - amount) < 1e-9) return `$${cents}`;
  return `$${amount.toFixed(6).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}

/** `2026-11-24T00:00:00Z` */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function secondsUntil(ms: number, nowMs: number): number {
  return Math.max(1, Math.ceil((ms - nowMs) / 1000));
}

export function budgetExceeded(
  refusal: Extract<ReserveResult, { ok: false }>,
  scope: ScopeLabel,
  amountUsd: number,
  nowMs: number,
): GatewayError {
  const budget = `${scope.label}'s ${WINDOW_NAMES[refusal.window]} budget of ${formatUsd(refusal.limitUsd)}`;
  const used =
    `${formatUsd(refusal.spentUsd)} spent + ${formatUsd(refusal.reservedUsd)} reserved by gateways for requests in flight; ` +
    `this request may cost up to ${formatUsd(amountUsd)}`;
  const reset =
    refusal.resetsAtMs === null
      ? 'a total budget does not reset: raise it, or use another key'
      : `it resets at ${formatInstant(refusal.resetsAtMs)}`;
  return new GatewayError('budget_exceeded', `Budget exceeded: ${budget} is spent (${used}); ${reset}.`, {
    ...(refusal.resetsAtMs === null ? {} : { retryAfterSeconds: secondsUntil(refusal.resetsAtMs, nowMs) }),
  });
}

export function rateLimited(
  refusal: Extract<RateResult, { ok: false }>,
  scope: ScopeLabel,
  nowMs: number,
): GatewayError {
  const what =
    refusal.limit === 'rpm'
      ? `limit of ${refusal.limitValue} requests per minute is reached (${refusal.used} this minute)`
      : `limit of ${refusal.limitValue} tokens per minute is reached (${refusal.used} tokens this minute)`;
  return new GatewayError(
    'rate_limited',
    `Rate limit: ${scope.label}'s ${what}; it resets at ${formatInstant(refusal.resetsAtMs)}.`,
    { retryAfterSeconds: secondsUntil(refusal.resetsAtMs, nowMs) },
  );
}

export function tooManyConcurrent(scope: ScopeLabel, limit: number): GatewayError {
  return new GatewayError(
    'rate_limited',
    `Rate limit: ${scope.label}'s limit of ${limit} concurrent requests (per gateway instance) is reached; retry when one finishes.`,
    { retryAfterSeconds: 1 },
  );
}

export function budgetUnavailable(scope: ScopeLabel, what: 'budget' | 'rate limits'): GatewayError {
  return new GatewayError(
    'budget_unavailable',
    `The gateway cannot check ${scope.label}'s ${what} right now (its database did not answer), so the ` +
      'request was refused rather than risk overspending; retry shortly.',
    { retryAfterSeconds: 1 },
  );
}
