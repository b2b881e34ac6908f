/**
 * Incremental server-sent events parser (WHATWG HTML "event stream interpretation") over a byte
 * stream. Lines may end in LF, CRLF or CR and may be split anywhere across chunks, including inside
 * a multi-byte UTF-8 character. The buffer is bounded: one event larger than `maxEventBytes` is an
 * UpstreamError 'malformed', so a hostile upstream cannot grow the gateway's memory without limit.
 */
import { UpstreamError } from './upstream-error.js';

export interface SseEvent {
  /** The `event:` field; `undefined` means the default type, "message". */
  readonly event: string | undefined;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
  /** The last `id:` seen so far in the stream, if any. */
  readonly id: string | undefined;
}

export interface SseParserOptions {
  /** Largest event (pending line plus accumulated data), in UTF-16 code units ≈ bytes. Default 8 MB. */
  readonly maxEventBytes?: number;
}

export const DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024;

const LF = 10;
const CR = 13;

/** Push-style parser: feed chunks, collect the events they complete. */
export class SseParser {
  readonly #decoder = new TextDecoder('utf-8');
  readonly #maxEventBytes: number;
  /** Decoded text not yet split into lines. */
  #buffer = '';
  /** Where to resume searching #buffer for a line break (everything before has none). */
  #scanFrom = 0;
  /** The previous chunk ended in CR: a LF at the start of the next one belongs to it. */
  #skipLeadingLf = false;
  #data: string[] = [];
  #dataLength = 0;
  #event: string | undefined = undefined;
  #lastId: string | undefined = undefined;

  constructor(options: SseParserOptions = {}) {
    this.#maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  /** Feeds one chunk; returns the events it completed (often none or one). */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    const events: SseEvent[] = [];
    this.#consume(text, events);
    return events;
  }

  /**
   * Signals the end of the stream. Per the spec an event not terminated by a blank line is
   * discarded; the caller decides whether a stream that stopped there was truncated.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    this.#consume(this.#decoder.decode(), events);
    return events;
  }

  #consume(text: string, events: SseEvent[]): void {
    if (text.length === 0) return;
    let buffer = this.#buffer.length === 0 ? text : this.#buffer + text;
    let start = 0;
    if (this.#skipLeadingLf) {
      this.#skipLeadingLf = false;
      if (buffer.charCodeAt(0) === LF) start = 1;
    }
    let index = Math.max(start, this.#scanFrom);
    const length = buffer.length;
    while (index < length) {
      const code = buffer.charCodeAt(index);
      if (code !== LF && code !== CR) {
        index++;
        continue;
      }
      this.#line(buffer.slice(start, index), events);
      if (code === CR) {
        if (index + 1 === length) {
          this.#skipLeadingLf = true;
        } else if (buffer.charCodeAt(index + 1) === LF) {
          index++;
        }
      }
      index++;
      start = index;
    }
    buffer = start === 0 ? buffer : buffer.slice(start);
    this.#buffer = buffer;
    this.#scanFrom = buffer.length;
    if (buffer.length + this.#dataLength > this.#maxEventBytes) this.#tooLarge();
  }

  #line(line: string, events: SseEvent[]): void {
    if (line.length === 0) {
      this.#dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' starts a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = '';
    if (colon !== -1) {
      const valueStart = line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1; // one optional space
      value = line.slice(valueStart);
    }
    switch (field) {
      case 'data':
        this.#data.push(value);
        this.#dataLength += value.length + 1;
        if (this.#dataLength > this.#maxEventBytes) this.#tooLarge();
        return;
      case 'event':
        this.#event = value;
        return;
      case 'id':
        if (!value.includes('\0')) this.#lastId = value;
        return;
      default:
        return; // `retry` and unknown fields are ignored
    }
  }

  #dispatch(events: SseEvent[]): void {
    const data = this.#data;
    const event = this.#event;
    this.#event = undefined;
    if (data.length === 0) return; // no data: nothing to dispatch (spec)
    this.#data = [];
    this.#dataLength = 0;
    events.push({ event: event === '' ? undefined : event, data: data.join('\n'), id: this.#lastId });
  }

  #tooLarge(): never {
    throw new UpstreamError({
      kind: 'malformed',
      message: `upstream sent a server-sent event larger than ${this.#maxEventBytes} bytes`,
    });
  }
}

/** Parses a byte stream into events, lazily. Errors from `source` propagate unchanged. */
export async function* parseSse(
  source: AsyncIterable<Uint8Array | string>,
  options: SseParserOptions = {},
): AsyncGenerator<SseEvent, void, undefined> {
  const parser = new SseParser(options);
  for await (const chunk of source) {
    const events = parser.push(chunk);
    for (const event of events) yield event;
  }
  for (const event of parser.end()) yield event;
}
