/**
 * The gateway's one error type (STYLE.md section 4). Every code maps to an HTTP status in an
 * exhaustive table, so a new code does not compile until it has one. Messages are written for the
 * client: they name the problem and the fix, and never carry a secret or an upstream body.
 */

import { LedgerSpoolFullError } from '../ledger/ledger-spool.js';
import { UpstreamError } from '../providers/upstream-error.js';

export type GatewayErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'body_too_large'
  | 'headers_too_large'
  | 'request_timeout'
  | 'client_closed_request'
  | 'unsupported_media_type'
  | 'missing_api_key'
  | 'invalid_api_key'
  | 'model_not_allowed'
  | 'model_not_found'
  | 'data_class_violation'
  | 'permission_denied'
  | 'conflict'
  | 'budget_exceeded'
  | 'rate_limited'
  | 'budget_unavailable'
  | 'store_unavailable'
  | 'not_found'
  | 'method_not_allowed'
  | 'upstream_error'
  | 'upstream_rejected'
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'overloaded'
  | 'shutting_down'
  | 'internal_error';

const STATUS: Readonly<Record<GatewayErrorCode, number>> = {
  invalid_json: 400,
  invalid_request: 400,
  body_too_large: 413,
  headers_too_large: 431,
  request_timeout: 408,
  // nginx's code: the client closed the connection before the answer; nobody reads this one.
  client_closed_request: 499,
  unsupported_media_type: 415,
  missing_api_key: 401,
  invalid_api_key: 401,
  model_not_allowed: 403,
  model_not_found: 404,
  data_class_violation: 403,
  permission_denied: 403,
  conflict: 409,
  budget_exceeded: 429,
  rate_limited: 429,
  budget_unavailable: 503,
  store_unavailable: 503,
  not_found: 404,
  method_not_allowed: 405,
  upstream_error: 502,
  upstream_rejected: 400, // replaced by the upstream's own 4xx status when there is one
  upstream_unavailable: 503,
  upstream_timeout: 504,
  overloaded: 503,
  shutting_down: 503,
  internal_error: 500,
};

/** OpenAI's `type` field: clients and the SDK branch on it. */
const TYPE: Readonly<Record<GatewayErrorCode, string>> = {
  invalid_json: 'invalid_request_error',
  invalid_request: 'invalid_request_error',
  body_too_large: 'invalid_request_error',
  headers_too_large: 'invalid_request_error',
  request_timeout: 'invalid_request_error',
  client_closed_request: 'invalid_request_error',
  unsupported_media_type: 'invalid_request_error',
  missing_api_key: 'authentication_error',
  invalid_api_key: 'authentication_error',
  model_not_allowed: 'permission_error',
  model_not_found: 'invalid_request_error',
  data_class_violation: 'permission_error',
  permission_denied: 'permission_error',
  conflict: 'invalid_request_error',
  budget_exceeded: 'insufficient_quota', // as OpenAI's own spend-limit 429
  rate_limited: 'rate_limit_error',
  budget_unavailable: 'api_error',
  store_unavailable: 'api_error',
  not_found: 'invalid_request_error',
  method_not_allowed: 'invalid_request_error',
  upstream_error: 'api_error',
  upstream_rejected: 'invalid_request_error',
  upstream_unavailable: 'api_error',
  upstream_timeout: 'api_error',
  overloaded: 'api_error',
  shutting_down: 'api_error',
  internal_error: 'api_error',
};

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly status: number;
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options: {
      status?: number | undefined;
      param?: string | undefined;
      retryAfterSeconds?: number | undefined;
    } = {},
  ) {
    super(message);
    this.status = options.status ?? STATUS[code];
    this.param = options.param;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
  readonly param: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  /** The OpenAI error body. */
  toBody(): { error: { message: string; type: string; code: string; param: string | null } } {
    return {
      error: { message: this.message, type: TYPE[this.code], code: this.code, param: this.param ?? null },
    };
  }
}

/** Anything thrown that is not a GatewayError is a bug: a plain 500 with no detail for the client. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof UpstreamError && error.kind === 'aborted') {
    return new GatewayError('client_closed_request', 'The client closed the connection before the answer.');
  }
  if (error instanceof LedgerSpoolFullError) {
    return new GatewayError(
      'overloaded',
      'The gateway cannot record requests right now: its database is unreachable and its local ledger spool is full. Retry later.',
      { retryAfterSeconds: 5 },
    );
  }
  return new GatewayError(
    'internal_error',
    'The gateway failed unexpectedly; the request id identifies it in the logs.',
  );
}
