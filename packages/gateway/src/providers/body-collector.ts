/**
 * An undici dispatch handler that gathers a response body into one Buffer: what a non-streaming
 * call needs, without the Readable stream, async iterator and async resource that undici's
 * `request()` creates for every response. A 2xx body over `limit` bytes is cut short and marked
 * `oversized`; an error body keeps its first 64 KB, enough for the upstream's message.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Cancellation } from './cancellation.js';

export interface CollectedResponse {
  readonly status: number;
  /** Parsed for non-2xx answers only; empty for a 2xx. */
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** A 2xx body went past the limit; `body` holds its first `limit` bytes. */
  readonly oversized: boolean;
}

/** Error bodies are read only for their message: this much of one is kept. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

export class BodyCollector implements Dispatcher.DispatchHandler {
  private abortRequest: ((reason: Error) => void) | null = null;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;

  constructor(
    private readonly limit: number,
    private readonly cancellation: Cancellation,
    private readonly resolve: (response: CollectedResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    cancellation.addEventListener('abort', this.onCancel);
  }

  private readonly onCancel = (): void => {
    this.abortRequest?.(this.cancellation.reason as Error);
  };

  onConnect(abort: (reason: Error) => void): void {
    if (this.cancellation.aborted) abort(this.cancellation.reason as Error);
    else this.abortRequest = abort;
  }

  onHeaders(status: number, rawHeaders: Buffer[]): boolean {
    this.status = status;
    // A 2xx answer's headers are not read: parse them only for errors (Retry-After).
    if (status >= 300) this.headers = parseRawHeaders(rawHeaders);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return false;
    const ok = this.status >= 200 && this.status < 300;
    const limit = ok ? this.limit : MAX_ERROR_BODY_BYTES;
    if (this.size + chunk.length > limit) {
      this.chunks.push(chunk.subarray(0, limit - this.size));
      this.size = limit;
      this.finish(ok);
      // Stop reading the rest; the error this raises in onError is ignored (already settled).
      this.abortRequest?.(new Error('response body over the limit'));
      return false;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  onComplete(): void {
    this.finish(false);
  }

  onError(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }

  private finish(oversized: boolean): void {
    if (this.settled) return;
    this.settled = true;
    const body =
      this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
    this.resolve({ status: this.status, headers: this.headers, body, oversized });
  }
}

/** undici's raw header list ([name, value, ...] as Buffers) as Node's lowercase header object. */
function parseRawHeaders(raw: Buffer[]): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = (raw[index] as Buffer).toString('latin1').toLowerCase();
    const value = (raw[index + 1] as Buffer).toString('latin1');
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[name] = name === 'set-cookie' ? [existing, value] : `${existing}, ${value}`;
  }
  return headers;
}
