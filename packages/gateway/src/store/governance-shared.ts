/** Rules both store backends apply the same way: scope order, rate-limit refusal, rounding. */
import type { BudgetScope, RateRequest, RateResult } from './governance-types.js';

/** Budget comparisons allow this much float rounding (USD). */
export const EPSILON_USD = 1e-9;

/** Scopes without repeats, in a fixed order (kind, then id). */
export function uniqueScopes(scopes: readonly BudgetScope[]): BudgetScope[] {
  const seen = new Map<string, BudgetScope>();
  for (const scope of scopes) {
    seen.set(`${scope.scopeKind}:${scope.scopeId}`, { scopeKind: scope.scopeKind, scopeId: scope.scopeId });
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, scope]) => scope);
}

/**
 * Whether `requests` more requests with `tokens` prompt tokens pass a scope's per-minute limits. A
 * minute with nothing counted yet admits any one request, so a prompt larger than the TPM limit is
 * not refused forever.
 */
export function rateRefusal(
  check: RateRequest['checks'][number],
  used: { readonly requests: number; readonly tokens: number },
  adding: { readonly requests: number; readonly tokens: number },
): Omit<Extract<RateResult, { ok: false }>, 'ok' | 'resetsAtMs'> | null {
  const scope = { scopeKind: check.scopeKind, scopeId: check.scopeId };
  if (check.rpm !== null && used.requests + adding.requests > check.rpm) {
    return { ...scope, limit: 'rpm', limitValue: check.rpm, used: used.requests };
  }
  const firstAlone = used.requests === 0 && adding.requests <= 1;
  if (
    check.tpm !== null &&
    (used.tokens >= check.tpm || (!firstAlone && used.tokens + adding.tokens > check.tpm))
  ) {
    return { ...scope, limit: 'tpm', limitValue: check.tpm, used: used.tokens };
  }
  return null;
}
