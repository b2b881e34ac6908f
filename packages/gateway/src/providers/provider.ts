/**
 * The provider plug-in contract (STYLE.md section 3). Frozen once it ships: add ProviderV2 rather than
 * editing it. The router calls only the `do*` methods; shared code never branches on a provider's id.
 */
import type { CancelSignal } from './cancellation.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from './chat-schemas.js';
import type { UpstreamError } from './upstream-error.js';

export type ProviderId = 'openai-compatible' | 'openai' | 'anthropic';

/**
 * Token counts normalised across providers. `undefined` means "the provider did not say", which is
 * different from zero. `raw` is the provider's own usage object, kept for the ledger.
 */
export interface NormalizedUsage {
  readonly inputTokens: number | undefined;
  /** Input tokens served from the provider's prompt cache (a subset of inputTokens). */
  readonly cachedInputTokens: number | undefined;
  readonly outputTokens: number | undefined;
  /** Reasoning tokens (a subset of outputTokens). */
  readonly reasoningTokens: number | undefined;
  readonly raw: unknown;
}

export interface ProviderSettings {
  /** Origin and path prefix, e.g. `http://127.0.0.1:8000/v1` or `https://api.anthropic.com/v1`. */
  readonly baseUrl: string;
  /** The model name the upstream expects. */
  readonly upstreamModel: string;
  /** Secret: never logged, never put in an error message. */
  readonly apiKey?: string | undefined;
  /** Upper bound on open connections to this upstream (keep-alive pool). */
  readonly maxConnections?: number | undefined;
}

export interface Timeouts {
  /** TCP connect. */
  readonly connectMs: number;
  /** From request sent to response headers (non-streaming: to the whole body). */
  readonly firstByteMs: number;
  /** Longest silence between two stream events. */
  readonly idleMs: number;
}

export interface CallContext {
  /** Aborted when the client goes away (non-streaming) or the gateway gives up. */
  readonly signal: CancelSignal;
  readonly timeouts: Timeouts;
  /** The gateway-minted request id, sent upstream as `x-request-id` for correlation. */
  readonly requestId: string;
}

export interface ChatResult {
  /** Schema-checked OpenAI chat.completion (translated for non-OpenAI providers). */
  readonly completion: ChatCompletion;
  readonly usage: NormalizedUsage;
  /** The upstream's HTTP status (2xx). */
  readonly status: number;
  /**
   * The upstream's body when it is `completion` as received (no translation): sent to the client
   * as it is, which spares serializing it again.
   */
  readonly body?: Buffer | undefined;
}

/** One event of a translated stream, in OpenAI terms. */
export type StreamPart =
  | { readonly type: 'chunk'; readonly chunk: ChatCompletionChunk }
  /** Usage as reported by the upstream (usually on the last chunk); may come once. */
  | { readonly type: 'usage'; readonly usage: NormalizedUsage }
  /** The upstream ended the stream properly (`[DONE]`, `message_stop`). */
  | { readonly type: 'done' };

/**
 * A stream whose upstream has answered 2xx with headers: failover is still possible before the
 * first part is read. Iterating throws UpstreamError on a reset, an idle timeout, malformed
 * JSON or a stream that ends without its terminator.
 */
export interface ChatStream extends AsyncIterable<StreamPart> {
  /** Stops reading and releases the connection. Idempotent. */
  cancel(): void;
}

export interface ProviderV1 {
  readonly specificationVersion: 'v1';
  readonly id: ProviderId;
  /** Rejects with UpstreamError (see `retryable`). */
  doChat(request: ChatRequest, context: CallContext): Promise<ChatResult>;
  /** Resolves once the upstream answered 2xx; rejects with UpstreamError otherwise. */
  doStream(request: ChatRequest, context: CallContext): Promise<ChatStream>;
  /** Closes the connection pool. */
  close(): Promise<void>;
}

export type { UpstreamError };
