/**
 * The transport every provider shares: a keep-alive undici Pool per upstream and one way to POST
 * JSON and read back JSON or server-sent events, with the call's timeouts, its abort signal, size
 * limits, no redirects, and every transport failure mapped to an UpstreamError kind.
 *
 * Messages built here never contain a request header or body: the API key travels only in the
 * headers, and every message also passes through `scrubSecrets` in case an upstream echoes it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { buildConnector, type Dispatcher, Pool } from 'undici';
import { BodyCollector, type CollectedResponse, MAX_ERROR_BODY_BYTES } from './body-collector.js';
import { Cancellation, type CancelSignal } from './cancellation.js';
import {
  type ErrorScope,
  statusErrorFrom,
  toUpstreamError,
  upstreamFailure,
} from './http-upstream-errors.js';
import type { CallContext } from './provider.js';
import { type SseEvent, SseParser } from './sse.js';
import type { UpstreamError } from './upstream-error.js';

export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface UpstreamPoolOptions {
  /** Upper bound on open connections (default 128). */
  readonly maxConnections?: number | undefined;
  /** Connect timeout until a call sets its own (default 10 s). */
  readonly connectTimeoutMs?: number | undefined;
}

export interface UpstreamPool {
  /** `host:port`, safe for messages: no credentials, no path. */
  readonly host: string;
  /** Path prefix from the base URL, without a trailing slash (`/v1`). */
  readonly basePath: string;
  readonly dispatcher: Dispatcher;
  /**
   * The connect timeout for connections opened from now on. undici opens a connection
   * synchronously inside the dispatch that needs it, so setting this just before dispatching gives
   * each call its own `connectMs`; a connection is shared, so it cannot be more precise than that.
   */
  setConnectTimeout(ms: number): void;
  /** Waits for in-flight requests, then closes every connection. */
  close(): Promise<void>;
}

export function createUpstreamPool(baseUrl: string, options: UpstreamPoolOptions = {}): UpstreamPool {
  const url = new URL(baseUrl);
  let connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const connectors = new Map<number, buildConnector.connector>();
  const connect: buildConnector.connector = (connectOptions, callback) => {
    let connector = connectors.get(connectTimeoutMs);
    if (connector === undefined) {
      connector = buildConnector({ timeout: connectTimeoutMs });
      connectors.set(connectTimeoutMs, connector);
    }
    connector(connectOptions, callback);
  };
  const pool = new Pool(url.origin, { connections: options.maxConnections ?? 128, connect });
  return {
    host: url.host,
    basePath: url.pathname.replace(/\/+$/, ''),
    dispatcher: pool,
    setConnectTimeout(ms) {
      connectTimeoutMs = ms;
    },
    close: () => pool.close(),
  };
}

export interface UpstreamCall {
  /** Appended to the pool's base path, e.g. `/chat/completions`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Serialized with JSON.stringify. */
  readonly body: unknown;
  readonly context: CallContext;
  /** Who is being called, for messages (`anthropic`, `openai-compatible`). */
  readonly label: string;
  /** Values to redact from every message (the API key). */
  readonly secrets: readonly (string | undefined)[];
  /** Extracts the human message from a parsed error body; each provider knows its own shape. */
  readonly errorMessage: (body: unknown) => string | undefined;
  /** Clock for the HTTP-date form of Retry-After (default Date.now). */
  readonly now?: (() => number) | undefined;
  /** Largest accepted non-streaming body (default 32 MB). */
  readonly maxBodyBytes?: number | undefined;
}

export interface JsonResponse {
  readonly status: number;
  /** Parsed JSON, not yet schema-checked. */
  readonly body: unknown;
  /** The body as received: what a provider that does not translate can pass on unchanged. */
  readonly bytes: Buffer;
}

export interface EventStreamResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Throws UpstreamError ('timeout' after `idleMs` of silence, 'reset', 'malformed', 'aborted'). */
  readonly events: AsyncIterable<SseEvent>;
  /** Destroys the body, releasing the connection. Idempotent. */
  cancel(): void;
}

type ResponseBody = Dispatcher.ResponseData['body'];

/**
 * One call's cancellation and timer. undici's own `headersTimeout`/`bodyTimeout` tick on a coarse
 * (~1 s) clock, so they stay as a backstop while a native timer enforces the call's limits
 * precisely. The client's signal is linked in and unlinked when the call settles.
 */
class CallGuard {
  /** Aborts the upstream request (undici reads `aborted`, `reason` and the abort listeners). */
  readonly cancellation = new Cancellation();
  readonly #scope: ErrorScope;
  readonly #signal: CancelSignal;
  #timer: NodeJS.Timeout | undefined;
  #detail = '';
  /** Waiting on our consumer, not on the upstream: an idle timer must not fire. */
  paused = false;

  constructor(pool: UpstreamPool, call: UpstreamCall) {
    this.#scope = scope(pool, call);
    this.#signal = call.context.signal;
    this.#signal.addEventListener('abort', this.#onClientAbort);
  }

  /** (Re)starts the timer: when it fires, the call fails with 'timeout' and `detail`. */
  arm(ms: number, detail: string): void {
    this.#detail = detail;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#onTimeout, ms);
  }

  /** Restarts the current timer's full duration (data arrived). */
  refresh(): void {
    this.#timer?.refresh();
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#signal.removeEventListener('abort', this.#onClientAbort);
  }

  readonly #onTimeout = (): void => {
    if (this.paused) return; // `refresh` re-arms it when reading resumes
    this.#abort(upstreamFailure(this.#scope, 'timeout', this.#detail));
  };

  readonly #onClientAbort = (): void => {
    this.#abort(upstreamFailure(this.#scope, 'aborted', 'the client went away'));
  };

  #abort(error: UpstreamError): void {
    this.dispose();
    this.cancellation.abort(error);
  }
}

/**
 * POSTs and reads the whole JSON body. `firstByteMs` bounds the time to the last byte of the body,
 * not just to the headers. Rejects with UpstreamError for a non-2xx status or a body that is not
 * JSON. This is the hot path of every non-streaming request, so it talks to undici's dispatcher
 * directly: no response stream, no async iteration, no AbortController.
 */
export async function postJson(pool: UpstreamPool, call: UpstreamCall): Promise<JsonResponse> {
  const { context } = call;
  if (context.signal.aborted) throw upstreamFailure(scope(pool, call), 'aborted', 'the client went away');
  const guard = new CallGuard(pool, call);
  const { firstByteMs } = context.timeouts;
  guard.arm(firstByteMs, `no complete response within ${firstByteMs} ms`);
  let response: CollectedResponse;
  try {
    pool.setConnectTimeout(context.timeouts.connectMs);
    response = await new Promise<CollectedResponse>((resolve, reject) => {
      const collector = new BodyCollector(
        call.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        guard.cancellation,
        resolve,
        reject,
      );
      pool.dispatcher.dispatch(
        {
          method: 'POST',
          path: pool.basePath + call.path,
          headers: requestHeaders(call, 'application/json'),
          body: JSON.stringify(call.body),
          // Backstops only (coarse clock): CallGuard enforces the limits.
          headersTimeout: firstByteMs + 1000,
          bodyTimeout: firstByteMs + 1000,
        },
        collector,
      );
    });
  } catch (error) {
    throw toUpstreamError(error, scope(pool, call), context.signal);
  } finally {
    guard.dispose();
  }
  const { status, headers, body } = response;
  if (status < 200 || status >= 300) throw statusErrorFrom(status, headers, body, pool.host, call);
  if (response.oversized) {
    throw upstreamFailure(
      scope(pool, call),
      'malformed',
      `response body larger than ${call.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES} bytes`,
    );
  }
  return { status, body: parseJson(body, pool, call), bytes: body };
}

/**
 * POSTs and returns once the upstream answered 2xx (within `firstByteMs`); the body is then read as
 * server-sent events, each gap between chunks bounded by `idleMs`.
 */
export async function postJsonStream(pool: UpstreamPool, call: UpstreamCall): Promise<EventStreamResponse> {
  const guard = new CallGuard(pool, call);
  const { firstByteMs, idleMs } = call.context.timeouts;
  let response: Dispatcher.ResponseData;
  try {
    guard.arm(firstByteMs, `no response headers within ${firstByteMs} ms`);
    response = await send(pool, call, guard, { accept: 'text/event-stream', bodyTimeout: idleMs });
  } catch (error) {
    guard.dispose();
    throw error;
  }
  guard.arm(idleMs, `stream idle for more than ${idleMs} ms`);
  guard.paused = true; // the idle clock starts when someone reads
  const body = response.body;
  let cancelled = false;
  async function* events(): AsyncGenerator<SseEvent, void, undefined> {
    const parser = new SseParser();
    guard.paused = false;
    guard.refresh();
    try {
      for await (const chunk of body) {
        guard.paused = true;
        for (const event of parser.push(chunk)) yield event;
        guard.paused = false;
        guard.refresh();
      }
      for (const event of parser.end()) yield event;
    } catch (error) {
      if (cancelled) return;
      throw toUpstreamError(error, scope(pool, call), call.context.signal);
    } finally {
      guard.dispose();
    }
  }
  return {
    status: response.statusCode,
    headers: response.headers,
    events: events(),
    cancel() {
      if (cancelled) return;
      cancelled = true;
      guard.dispose();
      if (!body.destroyed) body.destroy();
    },
  };
}

/** Sends the request; resolves with a 2xx response, rejects with UpstreamError otherwise. */
async function send(
  pool: UpstreamPool,
  call: UpstreamCall,
  guard: CallGuard,
  options: { readonly accept: string; readonly bodyTimeout: number },
): Promise<Dispatcher.ResponseData> {
  const { context } = call;
  if (context.signal.aborted) throw upstreamFailure(scope(pool, call), 'aborted', 'the client went away');
  let response: Dispatcher.ResponseData;
  try {
    pool.setConnectTimeout(context.timeouts.connectMs);
    response = await pool.dispatcher.request({
      method: 'POST',
      path: pool.basePath + call.path,
      headers: requestHeaders(call, options.accept),
      body: JSON.stringify(call.body),
      signal: guard.cancellation,
      // Backstops only (coarse clock): CallGuard enforces the limits.
      headersTimeout: context.timeouts.firstByteMs + 1000,
      bodyTimeout: options.bodyTimeout + 1000,
    });
  } catch (error) {
    throw toUpstreamError(error, scope(pool, call), call.context.signal);
  }
  if (response.statusCode >= 200 && response.statusCode < 300) return response;
  throw await statusError(response, pool, call);
}

async function statusError(
  response: Dispatcher.ResponseData,
  pool: UpstreamPool,
  call: UpstreamCall,
): Promise<UpstreamError> {
  let bytes: Buffer | null = null;
  try {
    bytes = await readBody(response.body, MAX_ERROR_BODY_BYTES, pool, call, true);
  } catch {
    // An unreadable error body still leaves the status to act on.
  }
  if (!response.body.destroyed) response.body.destroy();
  return statusErrorFrom(response.statusCode, response.headers, bytes, pool.host, call);
}

function requestHeaders(call: UpstreamCall, accept: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept,
    'x-request-id': call.context.requestId,
    ...call.headers,
  };
}

/**
 * Reads a body up to `limit` bytes. Over the limit: 'malformed', or with `truncate` the first
 * `limit` bytes (error bodies are only read for their message).
 */
async function readBody(
  body: ResponseBody,
  limit: number,
  pool: UpstreamPool,
  call: UpstreamCall,
  truncate = false,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer: Buffer = chunk;
      if (size + buffer.length > limit) {
        body.destroy();
        if (truncate) {
          chunks.push(buffer.subarray(0, limit - size));
          size = limit;
          break;
        }
        throw upstreamFailure(scope(pool, call), 'malformed', `response body larger than ${limit} bytes`);
      }
      chunks.push(buffer);
      size += buffer.length;
    }
  } catch (error) {
    throw toUpstreamError(error, scope(pool, call), call.context.signal);
  }
  return Buffer.concat(chunks, size);
}

function parseJson(bytes: Buffer, pool: UpstreamPool, call: UpstreamCall): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw upstreamFailure(
      scope(pool, call),
      'malformed',
      `response body is not JSON (${bytes.length} bytes)`,
    );
  }
}

function scope(pool: UpstreamPool, call: UpstreamCall): ErrorScope {
  return { label: call.label, host: pool.host, secrets: call.secrets };
}
