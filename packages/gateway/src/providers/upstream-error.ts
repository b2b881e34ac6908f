/**
 * What went wrong talking to an upstream, in a form the router can act on without knowing the
 * provider (after vercel/ai's APICallError). Messages never contain the API key or request body.
 */
export type UpstreamErrorKind =
  | 'connect' // refused, DNS, TLS: nothing was sent
  | 'timeout' // connect, first-byte or idle timeout
  | 'reset' // the connection dropped mid-response
  | 'http' // a non-2xx status
  | 'malformed' // a body or SSE event that does not parse or fails its schema
  | 'truncated' // a stream that ended without its terminator
  | 'aborted'; // the client went away

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly kind: UpstreamErrorKind;
  /** HTTP status for kind 'http'. */
  readonly status: number | undefined;
  /** True for connection errors, timeouts, resets, 408, 409, 429 and 5xx. */
  readonly retryable: boolean;
  /** From a `Retry-After` header (seconds or HTTP date), when present. */
  readonly retryAfterMs: number | undefined;
  /** The upstream's error message, when it sent an OpenAI- or Anthropic-shaped error (secrets scrubbed). */
  readonly upstreamMessage: string | undefined;

  constructor(options: {
    kind: UpstreamErrorKind;
    message: string;
    status?: number | undefined;
    retryAfterMs?: number | undefined;
    upstreamMessage?: string | undefined;
  }) {
    super(options.message);
    this.kind = options.kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.upstreamMessage = options.upstreamMessage;
    this.retryable = isRetryable(options.kind, options.status);
  }
}

export function isRetryable(kind: UpstreamErrorKind, status: number | undefined): boolean {
  if (kind === 'aborted') return false;
  if (kind !== 'http') return true;
  if (status === undefined) return false;
  return (
    status === 408 || // request timeout
    status === 409 || // conflict (OpenAI's "try again")
    status === 429 || // rate limited
    status >= 500
  );
}
