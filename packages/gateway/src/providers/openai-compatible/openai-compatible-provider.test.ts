import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT, type FakeUpstream, startFakeUpstream } from '../../test-support/fake-upstream.js';
import { ChatRequest } from '../chat-schemas.js';
import type { CallContext, ChatStream, ProviderV1, StreamPart, Timeouts } from '../provider.js';
import { UpstreamError } from '../upstream-error.js';
import { createOpenAICompatibleProvider } from './openai-compatible-provider.js';

const CANARY_KEY = 'sk-canary-7f3a9c2e41d84b6f';

function context(timeouts: Partial<Timeouts> = {}, signal = new AbortController().signal): CallContext {
  return {
    signal,
    requestId: 'req-test-1',
    timeouts: { connectMs: 1000, firstByteMs: 2000, idleMs: 2000, ...timeouts },
  };
}

function chatRequest(extra: Record<string, unknown> = {}): ChatRequest {
  return ChatRequest.parse({
    model: 'client-model',
    messages: [{ role: 'user', content: 'Say hello' }],
    ...extra,
  });
}

async function collect(stream: ChatStream): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UpstreamError) return error;
    throw error;
  }
  throw new Error('expected an UpstreamError');
}

function streamText(parts: readonly StreamPart[]): string {
  let text = '';
  for (const part of parts) {
    if (part.type === 'chunk') text += part.chunk.choices[0]?.delta?.content ?? '';
  }
  return text;
}

let fake: FakeUpstream;
let provider: ProviderV1;
/** Every UpstreamError message seen, checked for the canary key at the end. */
const messages: string[] = [];

beforeAll(async () => {
  fake = await startFakeUpstream();
  provider = createOpenAICompatibleProvider({
    baseUrl: fake.baseUrl,
    upstreamModel: 'upstream-model',
    apiKey: CANARY_KEY,
  });
});
afterEach(() => fake.reset());
afterAll(async () => {
  await provider.close();
  await fake.close();
  for (const message of messages) expect(message).not.toContain(CANARY_KEY);
});

async function upstreamFailure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await failure(promise);
  messages.push(error.message, error.upstreamMessage ?? '');
  return error;
}

describe('createOpenAICompatibleProvider: success', () => {
  it('forwards a non-streaming request with the upstream model and key, and parses the answer', async () => {
    const request = chatRequest({ temperature: 0.2, some_new_openai_field: { kept: true } });
    const result = await provider.doChat(request, context());
    expect(provider.id).toBe('openai-compatible');
    expect(result.status).toBe(200);
    expect(result.completion.choices[0]?.message.content).toBe(DEFAULT_CONTENT);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.cachedInputTokens).toBe(0);
    expect(result.usage.raw).toEqual(result.completion.usage);
    const received = fake.requests[0];
    expect(received?.path).toBe('/v1/chat/completions');
    expect(received?.headers['authorization']).toBe(`Bearer ${CANARY_KEY}`);
    expect(received?.headers['x-request-id']).toBe('req-test-1');
    expect(received?.body).toEqual({
      model: 'upstream-model',
      messages: [{ role: 'user', content: 'Say hello' }],
      temperature: 0.2,
      some_new_openai_field: { kept: true },
    });
    expect(request.model).toBe('client-model');
  });

  it('reuses one keep-alive connection across calls, streams included', async () => {
    const before = fake.connections;
    await provider.doChat(chatRequest(), context());
    await collect(await provider.doStream(chatRequest({ stream: true }), context()));
    await provider.doChat(chatRequest(), context());
    expect(fake.connections - before).toBeLessThanOrEqual(1);
  });

  it('streams chunks, a usage part and done, asking upstream for usage the client did not request', async () => {
    const request = chatRequest({ stream: true });
    const parts = await collect(await provider.doStream(request, context()));
    expect(streamText(parts)).toBe(DEFAULT_CONTENT);
    const usage = parts.filter((part) => part.type === 'usage');
    expect(usage).toHaveLength(1);
    expect(usage[0]?.type === 'usage' && usage[0].usage.outputTokens).toBeGreaterThan(0);
    expect(parts.at(-1)).toEqual({ type: 'done' });
    expect(fake.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(request.stream_options).toBeUndefined();
  });

  it('streams without a usage part when the upstream sends none', async () => {
    fake.script([{ kind: 'no-usage' }]);
    const parts = await collect(await provider.doStream(chatRequest({ stream: true }), context()));
    expect(parts.some((part) => part.type === 'usage')).toBe(false);
    expect(parts.at(-1)).toEqual({ type: 'done' });
  });

  it('passes repeated upstream ids through unchanged', async () => {
    fake.script([{ kind: 'repeat-id' }, { kind: 'repeat-id' }]);
    const first = await provider.doChat(chatRequest(), context());
    const second = await provider.doChat(chatRequest(), context());
    expect(first.completion.id).toBe(second.completion.id);
  });
});

describe('createOpenAICompatibleProvider: tool calls', () => {
  const tools = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather for a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    },
  ];

  it('returns tool calls from a non-streaming answer', async () => {
    const result = await provider.doChat(chatRequest({ tools, tool_choice: 'auto' }), context());
    const choice = result.completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.tool_calls?.[0]?.function).toEqual({
      name: 'get_weather',
      arguments: '{"city":"Paris"}',
    });
  });

  it('streams tool-call deltas: id and name first, then argument fragments', async () => {
    const parts = await collect(await provider.doStream(chatRequest({ tools, stream: true }), context()));
    const deltas = parts.flatMap((part) =>
      part.type === 'chunk' ? (part.chunk.choices[0]?.delta?.tool_calls ?? []) : [],
    );
    expect(deltas[0]).toMatchObject({ index: 0, id: 'call_fake_1', function: { name: 'get_weather' } });
    expect(deltas.map((delta) => delta.function?.arguments ?? '').join('')).toBe('{"city":"Paris"}');
  });

  it('forwards assistant tool calls and tool results unchanged', async () => {
    const messages = [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"sky":"sunny"}' },
    ];
    const result = await provider.doChat(chatRequest({ messages, tools }), context());
    expect(result.completion.choices[0]?.message.content).toBe('The tool says it is sunny.');
    expect(fake.requests[0]?.body).toEqual({ model: 'upstream-model', messages, tools });
  });
});

describe('createOpenAICompatibleProvider: failures', () => {
  it('500 is retryable and carries the upstream message', async () => {
    fake.script([{ kind: 'status', status: 500, message: 'engine crashed' }]);
    const error = await upstreamFailure(provider.doChat(chatRequest(), context()));
    expect(error).toMatchObject({
      kind: 'http',
      status: 500,
      retryable: true,
      upstreamMessage: 'engine crashed',
    });
  });

  it('400 is not retryable', async () => {
    fake.script([{ kind: 'status', status: 400, message: 'context too long' }]);
    const error = await upstreamFailure(provider.doStream(chatRequest({ stream: true }), context()));
    expect(error).toMatchObject({ kind: 'http', status: 400, retryable: false });
    expect(error.message).toContain('context too long');
  });

  it('429 with Retry-After seconds gives retryAfterMs', async () => {
    fake.script([{ kind: 'status', status: 429, retryAfter: '3' }]);
    const error = await upstreamFailure(provider.doChat(chatRequest(), context()));
    expect(error).toMatchObject({ kind: 'http', status: 429, retryable: true, retryAfterMs: 3000 });
  });

  it('a redirect is not followed and not retryable', async () => {
    fake.script([{ kind: 'status', status: 302 }]);
    const error = await upstreamFailure(provider.doChat(chatRequest(), context()));
    expect(error).toMatchObject({ kind: 'http', status: 302, retryable: false });
    expect(fake.requests).toHaveLength(1);
  });

  it('a hanging upstream times out within firstByteMs', async () => {
    fake.script([{ kind: 'hang' }, { kind: 'hang' }]);
    const started = performance.now();
    const error = await upstreamFailure(provider.doChat(chatRequest(), context({ firstByteMs: 150 })));
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    expect(performance.now() - started).toBeLessThan(1000);
    const streamError = await upstreamFailure(
      provider.doStream(chatRequest({ stream: true }), context({ firstByteMs: 150 })),
    );
    expect(streamError.kind).toBe('timeout');
  });

  it('firstByteMs bounds the whole non-streaming body, not just the headers', async () => {
    fake.script([{ kind: 'slow-stream', intervalMs: 400 }]);
    const error = await upstreamFailure(provider.doChat(chatRequest(), context({ firstByteMs: 150 })));
    expect(error.kind).toBe('timeout');
  });

  it('an idle gap longer than idleMs in a stream is a timeout', async () => {
    fake.script([{ kind: 'slow-stream', intervalMs: 400 }]);
    const stream = await provider.doStream(chatRequest({ stream: true }), context({ idleMs: 150 }));
    const error = await upstreamFailure(collect(stream));
    expect(error.kind).toBe('timeout');
  });

  it('a connection reset is retryable, before or during a stream', async () => {
    fake.script([{ kind: 'reset' }, { kind: 'reset', afterChunks: 2 }]);
    const error = await upstreamFailure(provider.doChat(chatRequest(), context()));
    expect(error).toMatchObject({ kind: 'reset', retryable: true });
    const stream = await provider.doStream(chatRequest({ stream: true }), context());
    const midStream = await upstreamFailure(collect(stream));
    expect(midStream.kind).toBe('reset');
  });

  it('a stream that ends without [DONE] is truncated', async () => {
    fake.script([{ kind: 'truncated', afterChunks: 3 }]);
    const stream = await provider.doStream(chatRequest({ stream: true }), context());
    const error = await upstreamFailure(collect(stream));
    expect(error.kind).toBe('truncated');
  });

  it('malformed bodies and chunks are malformed', async () => {
    fake.script([
      { kind: 'malformed' },
      { kind: 'malformed', variant: 'schema' },
      { kind: 'malformed' },
      { kind: 'malformed', variant: 'schema' },
    ]);
    expect((await upstreamFailure(provider.doChat(chatRequest(), context()))).kind).toBe('malformed');
    const schema = await upstreamFailure(provider.doChat(chatRequest(), context()));
    expect(schema.kind).toBe('malformed');
    expect(schema.message).toContain('choices');
    for (let index = 0; index < 2; index++) {
      const stream = await provider.doStream(chatRequest({ stream: true }), context());
      expect((await upstreamFailure(collect(stream))).kind).toBe('malformed');
    }
  });

  it('an error event mid-stream becomes an http error with its message', async () => {
    fake.script([{ kind: 'stream-error', message: 'GPU fell over', afterChunks: 2 }]);
    const stream = await provider.doStream(chatRequest({ stream: true }), context());
    const error = await upstreamFailure(collect(stream));
    expect(error).toMatchObject({ kind: 'http', status: 500, upstreamMessage: 'GPU fell over' });
  });

  it('a refused connection is a connect error', async () => {
    const closed = await startFakeUpstream();
    await closed.close();
    const orphan = createOpenAICompatibleProvider({
      baseUrl: closed.baseUrl,
      upstreamModel: 'm',
      apiKey: CANARY_KEY,
    });
    const error = await upstreamFailure(orphan.doChat(chatRequest(), context()));
    expect(error).toMatchObject({ kind: 'connect', retryable: true });
    await orphan.close();
  });

  it('an aborted signal is aborted and not retryable', async () => {
    fake.script([{ kind: 'hang' }]);
    const controller = new AbortController();
    const pending = provider.doChat(chatRequest(), context({}, controller.signal));
    setTimeout(() => controller.abort(), 50);
    const error = await upstreamFailure(pending);
    expect(error).toMatchObject({ kind: 'aborted', retryable: false });
  });

  it('never puts the API key in an error, even when the upstream echoes it', async () => {
    fake.script([{ kind: 'echo-headers', status: 401 }, { kind: 'echo-headers' }]);
    const error = await upstreamFailure(provider.doChat(chatRequest(), context()));
    expect(error.status).toBe(401);
    expect(error.upstreamMessage).toContain('[redacted]');
    expect(`${error.message} ${error.upstreamMessage} ${error.stack}`).not.toContain(CANARY_KEY);
    // The fake really received (and echoes) the key: the check above is not vacuous.
    const echoed = await provider.doChat(chatRequest(), context());
    expect(echoed.completion.choices[0]?.message.content).toContain(CANARY_KEY);
  });
});

describe('createOpenAICompatibleProvider: cancel', () => {
  it('cancel() releases the connection for the next call', async () => {
    const single = createOpenAICompatibleProvider({
      baseUrl: fake.baseUrl,
      upstreamModel: 'm',
      maxConnections: 1,
    });
    fake.script([{ kind: 'slow-stream', intervalMs: 100 }]);
    const stream = await single.doStream(chatRequest({ stream: true }), context());
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: 'chunk' });
    stream.cancel();
    stream.cancel();
    const result = await single.doChat(chatRequest(), context({ firstByteMs: 1000 }));
    expect(result.completion.choices[0]?.message.content).toBe(DEFAULT_CONTENT);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    await single.close();
  });
});
