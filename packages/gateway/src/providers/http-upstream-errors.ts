/**
 * Turning transport failures into UpstreamErrors: undici and socket error codes to kinds,
 * `Retry-After`, and messages scrubbed of secrets. Shared by every provider through http-upstream.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { MAX_ERROR_BODY_BYTES } from './body-collector.js';
import type { UpstreamCall } from './http-upstream.js';
import { UpstreamError, type UpstreamErrorKind } from './upstream-error.js';

const MAX_MESSAGE_CHARS = 500;

/** Who is being called, for messages; `secrets` are redacted from every message. */
export interface ErrorScope {
  /** `anthropic`, `openai-compatible`, ... */
  readonly label: string;
  /** `host:port`: no credentials, no path. */
  readonly host: string;
  readonly secrets: readonly (string | undefined)[];
}

const KIND_BY_CODE: Readonly<Record<string, UpstreamErrorKind>> = {
  ECONNREFUSED: 'connect',
  ENOTFOUND: 'connect',
  EAI_AGAIN: 'connect',
  EHOSTUNREACH: 'connect',
  ENETUNREACH: 'connect',
  EADDRNOTAVAIL: 'connect',
  UND_ERR_DESTROYED: 'connect', // the pool was closed: nothing was sent
  UND_ERR_CLOSED: 'connect',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ETIMEDOUT: 'timeout',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  ECONNABORTED: 'reset',
  UND_ERR_SOCKET: 'reset',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'reset',
  ERR_STREAM_PREMATURE_CLOSE: 'reset',
  UND_ERR_ABORTED: 'aborted',
  ABORT_ERR: 'aborted',
  UND_ERR_HEADERS_OVERFLOW: 'malformed',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'malformed',
};

const DESCRIPTION: Readonly<Record<UpstreamErrorKind, string>> = {
  connect: 'could not connect',
  timeout: 'timed out',
  reset: 'connection dropped',
  http: 'HTTP error',
  malformed: 'sent an unreadable response',
  truncated: 'ended the stream early',
  aborted: 'call aborted by the client',
};

/** Any throw from the transport, as an UpstreamError with a scrubbed message. */
export function toUpstreamError(
  error: unknown,
  scope: ErrorScope,
  signal: { readonly aborted: boolean },
): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (signal.aborted) return upstreamFailure(scope, 'aborted', 'the client went away');
  const code = errorCode(error);
  let kind: UpstreamErrorKind = (code === undefined ? undefined : KIND_BY_CODE[code]) ?? 'reset';
  if (code === undefined && error instanceof Error && error.name === 'AbortError') kind = 'aborted';
  if (code?.startsWith('HPE_')) kind = 'malformed'; // llhttp parser errors: not HTTP
  if (code?.startsWith('ERR_TLS') || code?.startsWith('ERR_SSL') || code?.includes('CERT')) kind = 'connect';
  const detail = error instanceof Error ? error.message : String(error);
  return upstreamFailure(scope, kind, `${DESCRIPTION[kind]}: ${detail}${code ? ` (${code})` : ''}`);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if ('code' in error && typeof error.code === 'string') return error.code;
  // Happy-eyeballs connects fail with an AggregateError whose members carry the code.
  if (error instanceof AggregateError) return errorCode(error.errors[0]);
  if ('cause' in error) return errorCode(error.cause);
  return undefined;
}

/** An UpstreamError (not 'http') whose message names the upstream and is scrubbed and clipped. */
export function upstreamFailure(scope: ErrorScope, kind: UpstreamErrorKind, detail: string): UpstreamError {
  const message = clip(scrubSecrets(`${scope.label} upstream ${scope.host}: ${detail}`, scope.secrets));
  return new UpstreamError({ kind, message });
}

/**
 * Milliseconds to wait from `Retry-After` (delta-seconds or HTTP-date, RFC 9110 section 10.2.3),
 * or OpenAI's `retry-after-ms`. `undefined` when absent or unreadable.
 */
export function parseRetryAfter(headers: IncomingHttpHeaders, now: () => number): number | undefined {
  const milliseconds = headerValue(headers['retry-after-ms']);
  if (milliseconds !== undefined && /^\d+(\.\d+)?$/.test(milliseconds)) return Number(milliseconds);
  const value = headerValue(headers['retry-after']);
  if (value === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now());
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.trim();
}

const BEARER = /\bBearer\s+[^\s"',]+/gi;
const KEY_LIKE = /\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}/g;

/** Redacts the given secrets, bearer tokens and `sk-…` keys from a message. */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) result = result.replaceAll(secret, '[redacted]');
  }
  return result.replace(BEARER, 'Bearer [redacted]').replace(KEY_LIKE, '[redacted]');
}

export function clip(text: string): string {
  return text.length <= MAX_MESSAGE_CHARS ? text : `${text.slice(0, MAX_MESSAGE_CHARS)}…`;
}

/** The first schema issue as `path: message`; never the value, which may be large or private. */
export function describeIssue(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  if (issue === undefined) return 'invalid';
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

/** The UpstreamError for a non-2xx answer, with the upstream's own message when its body has one. */
export function statusErrorFrom(
  status: number,
  headers: IncomingHttpHeaders,
  bytes: Buffer | null,
  host: string,
  call: Pick<UpstreamCall, 'label' | 'secrets' | 'errorMessage' | 'now'>,
): UpstreamError {
  const retryAfterMs = parseRetryAfter(headers, call.now ?? Date.now);
  let upstreamMessage: string | undefined;
  try {
    if (bytes !== null) {
      const text = bytes.subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8');
      upstreamMessage = call.errorMessage(JSON.parse(text));
    }
  } catch {
    // A non-JSON error body still leaves the status to act on.
  }
  const scrubbed =
    upstreamMessage === undefined ? undefined : clip(scrubSecrets(upstreamMessage, call.secrets));
  const what =
    status >= 300 && status < 400
      ? `redirect (HTTP ${status}); redirects are not followed, fix the base URL`
      : `HTTP ${status}`;
  return new UpstreamError({
    kind: 'http',
    status,
    retryAfterMs,
    upstreamMessage: scrubbed,
    message: `${call.label} upstream ${host} answered ${what}${scrubbed === undefined ? '' : `: ${scrubbed}`}`,
  });
}
