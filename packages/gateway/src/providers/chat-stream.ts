/**
 * Turns an upstream event stream into a ChatStream, given one provider's event decoder. The
 * decoder owns the wire format; this loop owns the contract: a `done` part only after the
 * terminator and the end of the response, 'truncated' when the terminator never came, silence
 * after `cancel()`, and the connection released on every exit.
 */
import type { EventStreamResponse } from './http-upstream.js';
import { type ErrorScope, upstreamFailure } from './http-upstream-errors.js';
import type { ChatStream, StreamPart } from './provider.js';
import type { SseEvent } from './sse.js';

export interface EventDecoder {
  /**
   * The parts one event stands for, in order. Returning a `done` part marks the terminator: later
   * events are read (so the keep-alive connection is reused) but not decoded. Throws UpstreamError
   * for a malformed event or an error event.
   */
  decode(event: SseEvent): readonly StreamPart[];
}

export interface ChatStreamOptions {
  readonly scope: ErrorScope;
  /** Named in the 'truncated' message: `[DONE]`, `message_stop`. */
  readonly terminator: string;
}

export function toChatStream(
  response: EventStreamResponse,
  decoder: EventDecoder,
  options: ChatStreamOptions,
): ChatStream {
  let cancelled = false;
  async function* parts(): AsyncGenerator<StreamPart, void, undefined> {
    let finished = false;
    try {
      // Breaking out after the terminator would destroy the body and the connection with it.
      for await (const event of response.events) {
        if (finished) continue;
        for (const part of decoder.decode(event)) {
          if (part.type === 'done') finished = true;
          else yield part;
        }
      }
    } catch (error) {
      if (!finished && !cancelled) throw error;
    } finally {
      response.cancel();
    }
    if (cancelled) return;
    if (!finished) {
      throw upstreamFailure(options.scope, 'truncated', `stream ended without ${options.terminator}`);
    }
    yield { type: 'done' };
  }
  const iterator = parts();
  return {
    [Symbol.asyncIterator]: () => iterator,
    cancel() {
      cancelled = true;
      response.cancel();
    },
  };
}
