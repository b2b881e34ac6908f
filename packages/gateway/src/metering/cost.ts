/**
 * The cost of one attempt from its normalised usage. Cached input tokens are a subset of input
 * tokens billed at the cached rate; reasoning tokens are a subset of output tokens (providers bill
 * them as output), so they add nothing here.
 */
import type { ModelPrice } from '../config/config.js';

export interface BilledTokens {
  readonly inputTokens: number;
  /** A subset of inputTokens. */
  readonly cachedInputTokens: number;
  /** Includes reasoning tokens. */
  readonly outputTokens: number;
}

/** USD: ((input − cached) · in + cached · cachedIn + output · out) / 1e6. */
export function costUsd(price: ModelPrice, usage: BilledTokens): number {
  // A provider reporting more cached than total input would otherwise bill negative fresh input.
  const cached = Math.min(Math.max(usage.cachedInputTokens, 0), Math.max(usage.inputTokens, 0));
  const fresh = Math.max(usage.inputTokens, 0) - cached;
  const output = Math.max(usage.outputTokens, 0);
  return (
    (fresh * price.inputPerMtokUsd + cached * price.cachedInputPerMtokUsd + output * price.outputPerMtokUsd) /
    1e6
  );
}
