/**
 * The attempt loop: the model asked for, retried with backoff on retryable failures, then each of
 * its fallbacks in order, all within the model's `max_attempts`. A failure that is the request's
 * fault (a 4xx other than 408/409/429) stops at once. An open circuit skips its model without an
 * attempt. Streaming callers resolve `call` only once the first part has arrived, so everything
 * here happens before the first byte reaches the client.
 */
import type { ModelConfig } from '../config/config.js';
import { GatewayError } from '../http/gateway-error.js';
import type { CancelSignal } from '../providers/cancellation.js';
import type { ProviderV1 } from '../providers/provider.js';
import { UpstreamError } from '../providers/upstream-error.js';
import type { CircuitBreaker } from './circuit-breaker.js';

export interface Upstream {
  readonly config: ModelConfig;
  readonly provider: ProviderV1;
  readonly breaker: CircuitBreaker;
}

export interface FailedAttempt {
  readonly upstream: Upstream;
  readonly attempt: number;
  readonly startedAtMs: number;
  readonly error: UpstreamError;
}

export interface FailoverOptions {
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly now: () => number;
  /** Uniform on [0, 1), for jitter; injected so tests are deterministic. */
  readonly random: () => number;
  readonly sleep: (ms: number, signal: CancelSignal) => Promise<void>;
  readonly signal: CancelSignal;
  /** Called once per failed attempt, before the next one starts (the ledger records it). */
  readonly onFailure: (failure: FailedAttempt) => void;
  /** Only owned models may serve (the request carries private data). */
  readonly ownedOnly?: boolean;
  /**
   * When the whole request must be over (`server.request_timeout_ms` after it arrived): no attempt
   * starts and no backoff runs past it; each attempt's own timeouts are clamped to it by `call`.
   */
  readonly deadlineMs?: number;
}

export interface Succeeded<T> {
  readonly value: T;
  readonly upstream: Upstream;
  readonly attempt: number;
  readonly startedAtMs: number;
}

/** Longest Retry-After the gateway waits out on one model before moving to a fallback. */
const MAX_WAIT_MS = 5000;
const BASE_BACKOFF_MS = 100;

/**
 * The models a request may try, in order: the one asked for, then its fallbacks. Private data
 * (`ownedOnly`) never leaves owned models: rented fallbacks are dropped from its chain.
 */
export function failoverChain(
  start: Upstream,
  upstreams: ReadonlyMap<string, Upstream>,
  ownedOnly = false,
): Upstream[] {
  const chain = [start];
  for (const name of start.config.fallbacks) {
    const fallback = upstreams.get(name);
    if (fallback && !chain.includes(fallback) && (!ownedOnly || fallback.config.owned)) chain.push(fallback);
  }
  return chain;
}

export async function runWithFailover<T>(
  start: Upstream,
  call: (upstream: Upstream, attempt: number) => Promise<T>,
  options: FailoverOptions,
): Promise<Succeeded<T>> {
  const budget = start.config.maxAttempts;
  const failures: FailedAttempt[] = [];
  let attempt = 0;
  let skipped = 0;
  for (const upstream of failoverChain(start, options.upstreams, options.ownedOnly === true)) {
    for (let retry = 0; retry <= upstream.config.retries && attempt < budget; retry++) {
      if (!upstream.breaker.tryAcquire()) {
        skipped++;
        break;
      }
      if (options.deadlineMs !== undefined && options.now() >= options.deadlineMs) {
        upstream.breaker.release();
        throw pastDeadline(failures);
      }
      attempt++;
      const startedAtMs = options.now();
      try {
        const value = await call(upstream, attempt);
        upstream.breaker.onSuccess();
        return { value, upstream, attempt, startedAtMs };
      } catch (error) {
        if (!(error instanceof UpstreamError)) {
          upstream.breaker.release();
          throw error;
        }
        const failure = { upstream, attempt, startedAtMs, error };
        failures.push(failure);
        options.onFailure(failure);
        if (error.kind === 'aborted') {
          upstream.breaker.release();
          throw error;
        }
        if (!error.retryable) {
          upstream.breaker.release(); // the request's fault, not the upstream's
          throw rejected(upstream, error);
        }
        upstream.breaker.onFailure();
        const wait = backoffMs(retry, error.retryAfterMs, options.random);
        const lastTryHere = retry === upstream.config.retries || attempt >= budget;
        if (lastTryHere || wait > MAX_WAIT_MS) break; // move on to the next model now
        const left = options.deadlineMs === undefined ? wait : options.deadlineMs - options.now();
        await options.sleep(Math.max(0, Math.min(wait, left)), options.signal);
      }
    }
    if (attempt >= budget) break;
  }
  throw exhausted(failures, skipped);
}

/** Full jitter over an exponential backoff (AWS Architecture Blog), or the server's Retry-After. */
export function backoffMs(retry: number, retryAfterMs: number | undefined, random: () => number): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  return Math.round(random() * BASE_BACKOFF_MS * 2 ** retry);
}

function rejected(upstream: Upstream, error: UpstreamError): GatewayError {
  const detail = error.upstreamMessage ?? error.message;
  return new GatewayError('upstream_rejected', `${upstream.config.name} rejected the request: ${detail}`, {
    status: error.status !== undefined && error.status >= 400 && error.status < 500 ? error.status : 400,
  });
}

function exhausted(failures: readonly FailedAttempt[], skipped: number): GatewayError {
  if (failures.length === 0) {
    return new GatewayError(
      'upstream_unavailable',
      `No upstream could take the request: ${skipped} model(s) skipped while their circuit breakers are open after repeated failures. Retry shortly.`,
      { retryAfterSeconds: 1 },
    );
  }
  const summary = failures
    .map((failure) => `${failure.upstream.config.name} (${describe(failure.error)})`)
    .join(', ');
  const last = failures[failures.length - 1]?.error;
  const message = `All ${failures.length} attempt(s) failed: ${summary}.`;
  if (last?.kind === 'timeout') return new GatewayError('upstream_timeout', message);
  if (last?.status === 429) {
    return new GatewayError('upstream_unavailable', message, {
      status: 429,
      retryAfterSeconds: Math.max(1, Math.ceil((last.retryAfterMs ?? 1000) / 1000)),
    });
  }
  return new GatewayError('upstream_error', message);
}

function pastDeadline(failures: readonly FailedAttempt[]): GatewayError {
  const summary = failures
    .map((failure) => `${failure.upstream.config.name} (${describe(failure.error)})`)
    .join(', ');
  return new GatewayError(
    'upstream_timeout',
    `The request ran out of time (server.request_timeout_ms) after ${failures.length} attempt(s)${summary ? `: ${summary}` : ''}.`,
  );
}

function describe(error: UpstreamError): string {
  if (error.kind === 'http')
    return `HTTP ${error.status}${error.upstreamMessage ? `: ${error.upstreamMessage}` : ''}`;
  return error.kind === 'timeout' ? 'timed out' : error.kind;
}
