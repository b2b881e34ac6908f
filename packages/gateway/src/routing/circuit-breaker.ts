/**
 * One circuit breaker per upstream model. Closed: calls go through. After `failureThreshold`
 * consecutive retryable failures it opens: the model is skipped for `cooldownMs`. Then it is
 * half-open: one call (the probe) goes through; success closes it, failure opens it again.
 * The clock is injected so tests can step through the states.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  readonly now: () => number;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private opened = false;
  private probing = false;

  constructor(private readonly options: CircuitBreakerOptions) {}

  get state(): CircuitState {
    if (!this.opened) return 'closed';
    return this.options.now() - this.openedAt >= this.options.cooldownMs ? 'half_open' : 'open';
  }

  /** Whether a call may go now; in half-open, only the first caller becomes the probe. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  onSuccess(): void {
    this.failures = 0;
    this.opened = false;
    this.probing = false;
  }

  onFailure(): void {
    this.probing = false;
    this.failures++;
    if (this.opened || this.failures >= this.options.failureThreshold) {
      this.opened = true;
      this.openedAt = this.options.now();
    }
  }

  /** A call that was admitted but ended without telling (client went away): free the probe slot. */
  release(): void {
    this.probing = false;
  }
}
