import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSse, type SseEvent, SseParser } from './sse.js';
import { UpstreamError } from './upstream-error.js';

const encoder = new TextEncoder();

function parseAll(chunks: readonly (Uint8Array | string)[], maxEventBytes?: number): SseEvent[] {
  const parser = new SseParser(maxEventBytes === undefined ? {} : { maxEventBytes });
  const events: SseEvent[] = [];
  for (const chunk of chunks) events.push(...parser.push(chunk));
  events.push(...parser.end());
  return events;
}

function event(data: string, name?: string, id?: string): SseEvent {
  return { event: name, data, id };
}

describe('SseParser', () => {
  it('parses OpenAI-style data events and [DONE]', () => {
    const stream = 'data: {"a":1}\n\ndata: {"a":2}\n\ndata: [DONE]\n\n';
    expect(parseAll([stream])).toEqual([event('{"a":1}'), event('{"a":2}'), event('[DONE]')]);
  });

  it('handles event names, CRLF and CR line endings, comments and multi-line data', () => {
    const stream =
      ': keep-alive\r\n\r\nevent: message_start\r\ndata: {"x":1}\r\n\r\n' +
      'data: line one\rdata: line two\r\rid: 7\nevent: ping\ndata:no-space\nretry: 10\nunknown: y\n\n';
    expect(parseAll([stream])).toEqual([
      event('{"x":1}', 'message_start'),
      event('line one\nline two'),
      event('no-space', 'ping', '7'),
    ]);
  });

  it('does not dispatch an event without data, nor an unterminated last event', () => {
    expect(parseAll(['event: ping\n\ndata: tail'])).toEqual([]);
    expect(parseAll(['data:\n\n'])).toEqual([event('')]);
  });

  it('reassembles lines and multi-byte characters split across chunks', () => {
    const bytes = encoder.encode('data: héllo wörld ✓\r\n\r\n');
    expect(parseAll(Array.from(bytes, (byte) => new Uint8Array([byte])))).toEqual([event('héllo wörld ✓')]);
  });

  it('fails with a malformed UpstreamError when one event exceeds the bound', () => {
    const run = () => parseAll(['data: ', 'x'.repeat(600), '\n', 'data: ', 'y'.repeat(600)], 1000);
    expect(run).toThrow(UpstreamError);
    expect(run).toThrow(/larger than 1000 bytes/);
    // Many small events under the bound are fine, however long the stream.
    expect(
      parseAll(
        Array.from({ length: 100 }, () => `data: ${'z'.repeat(500)}\n\n`),
        1000,
      ),
    ).toHaveLength(100);
  });

  it('any split of a valid stream, at any byte, yields the same events', () => {
    const line = fc.string({
      unit: fc.constantFrom('a', 'b', ' ', ':', '{', '"', 'é', '✓', '😀'),
      maxLength: 12,
    });
    const anEvent = fc.record({
      name: fc.option(fc.constantFrom('message_start', 'ping', 'content_block_delta'), { nil: undefined }),
      lines: fc.array(line, { minLength: 1, maxLength: 3 }),
      comment: fc.boolean(),
    });
    const newline = fc.constantFrom('\n', '\r\n', '\r');
    fc.assert(
      fc.property(
        fc.array(anEvent, { maxLength: 6 }),
        newline,
        fc.array(fc.nat(), { maxLength: 8 }),
        (events, eol, cuts) => {
          let text = '';
          for (const item of events) {
            if (item.comment) text += `: comment${eol}`;
            if (item.name !== undefined) text += `event: ${item.name}${eol}`;
            for (const value of item.lines) text += `data: ${value}${eol}`;
            text += eol;
          }
          const bytes = encoder.encode(text);
          const positions = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let previous = 0;
          for (const position of [...positions, bytes.length]) {
            chunks.push(bytes.subarray(previous, position));
            previous = position;
          }
          const expected = events.map((item) => event(item.lines.join('\n'), item.name));
          expect(parseAll(chunks)).toEqual(expected);
          expect(parseAll([text])).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('every single split point of a realistic Anthropic stream gives the same events', () => {
    const text =
      'event: message_start\r\ndata: {"type":"message_start"}\r\n\r\n' +
      'event: content_block_delta\r\ndata: {"type":"content_block_delta","delta":{"text":"Ça va ✓"}}\r\n\r\n' +
      ': ping\r\n\r\nevent: message_stop\r\ndata: {"type":"message_stop"}\r\n\r\n';
    const bytes = encoder.encode(text);
    const expected = parseAll([bytes]);
    expect(expected).toHaveLength(3);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(parseAll([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(expected);
    }
  });
});

describe('parseSse', () => {
  it('yields events lazily from an async byte source', async () => {
    async function* source() {
      yield encoder.encode('data: a\n');
      yield encoder.encode('\ndata: b\n\n');
    }
    const events: SseEvent[] = [];
    for await (const item of parseSse(source())) events.push(item);
    expect(events).toEqual([event('a'), event('b')]);
  });
});
