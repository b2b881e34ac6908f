import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT, type FakeUpstream, startFakeUpstream } from '../../test-support/fake-upstream.js';
import { ChatRequest } from '../chat-schemas.js';
import type { CallContext, ChatStream, ProviderV1, StreamPart, Timeouts } from '../provider.js';
import { createProvider } from '../registry.js';
import { UpstreamError } from '../upstream-error.js';
import { ANTHROPIC_VERSION, createAnthropicProvider } from './anthropic-provider.js';

const CANARY_KEY = 'sk-ant-canary-5d1e0b7a9c3f4e21';
const NOW = Date.UTC(2025, 0, 1);

function context(timeouts: Partial<Timeouts> = {}): CallContext {
  return {
    signal: new AbortController().signal,
    requestId: 'req-anthropic-1',
    timeouts: { connectMs: 1000, firstByteMs: 2000, idleMs: 2000, ...timeouts },
  };
}

function chatRequest(extra: Record<string, unknown> = {}): ChatRequest {
  return ChatRequest.parse({ model: 'claude', messages: [{ role: 'user', content: 'Say hello' }], ...extra });
}

async function collect(stream: ChatStream): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

const seen: string[] = [];
async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    seen.push(error.message, error.upstreamMessage ?? '');
    return error;
  }
  throw new Error('expected an UpstreamError');
}

function chunks(parts: readonly StreamPart[]) {
  return parts.flatMap((part) => (part.type === 'chunk' ? [part.chunk] : []));
}

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

let fake: FakeUpstream;
let provider: ProviderV1;

beforeAll(async () => {
  fake = await startFakeUpstream();
  provider = createAnthropicProvider(
    { baseUrl: fake.baseUrl, upstreamModel: 'claude-sonnet-4-5', apiKey: CANARY_KEY },
    { now: () => NOW },
  );
});
afterEach(() => fake.reset());
afterAll(async () => {
  await provider.close();
  await fake.close();
  for (const message of seen) expect(message).not.toContain(CANARY_KEY);
});

describe('createAnthropicProvider: success', () => {
  it('is what the registry builds for "anthropic"', async () => {
    const built = createProvider('anthropic', { baseUrl: fake.baseUrl, upstreamModel: 'm' });
    expect(built.id).toBe('anthropic');
    await built.close();
  });

  it('translates a non-streaming call both ways, with headers', async () => {
    const result = await provider.doChat(chatRequest(), context());
    expect(result.completion).toMatchObject({
      id: 'msg_fake_1',
      object: 'chat.completion',
      created: NOW / 1000,
      model: 'claude-sonnet-4-5',
      choices: [
        { index: 0, message: { role: 'assistant', content: DEFAULT_CONTENT }, finish_reason: 'stop' },
      ],
    });
    expect(result.usage).toMatchObject({ cachedInputTokens: 0, outputTokens: 5 });
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    const received = fake.requests[0];
    expect(received?.path).toBe('/v1/messages');
    expect(received?.headers['x-api-key']).toBe(CANARY_KEY);
    expect(received?.headers['anthropic-version']).toBe(ANTHROPIC_VERSION);
    expect(received?.headers['authorization']).toBeUndefined();
    expect(received?.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello' }] }],
    });
  });

  it('sends the exact translated body for a multi-turn conversation with tool results', async () => {
    const messages = [
      { role: 'system', content: 'You are a weather bot.' },
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Let me check both.',
        tool_calls: [
          {
            id: 'toolu_a',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'toolu_b',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_a', content: 'sunny' },
      { role: 'tool', tool_call_id: 'toolu_b', content: [{ type: 'text', text: 'rainy' }] },
      { role: 'user', content: 'Thanks, summarise.' },
    ];
    const result = await provider.doChat(
      chatRequest({ messages, tools: [weatherTool], max_tokens: 300, stop: ['###'], temperature: 0.5 }),
      context(),
    );
    expect(fake.requests[0]?.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 300,
      system: 'You are a weather bot.',
      stop_sequences: ['###'],
      temperature: 0.5,
      tools: [
        {
          name: 'get_weather',
          description: 'Weather for a city',
          input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      ],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me check both.' },
            { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_b', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_a', content: 'sunny' },
            { type: 'tool_result', tool_use_id: 'toolu_b', content: [{ type: 'text', text: 'rainy' }] },
            { type: 'text', text: 'Thanks, summarise.' },
          ],
        },
      ],
    });
    expect(result.completion.choices[0]?.message.content).toBe('The tool says it is sunny.');
  });

  it('returns tool_use as OpenAI tool_calls', async () => {
    const result = await provider.doChat(chatRequest({ tools: [weatherTool] }), context());
    const choice = result.completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBe('Let me call get_weather.');
    expect(choice?.message.tool_calls).toEqual([
      {
        id: 'call_fake_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
    ]);
  });

  it('streams role, text, finish_reason, a usage chunk and part, then done', async () => {
    const parts = await collect(await provider.doStream(chatRequest(), context()));
    const all = chunks(parts);
    expect(all[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(all.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('')).toBe(DEFAULT_CONTENT);
    expect(all.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.id === 'msg_fake_1')).toBe(
      true,
    );
    expect(all.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(all.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 5 } });
    const usage = parts.find((part) => part.type === 'usage');
    expect(usage?.type === 'usage' && usage.usage.outputTokens).toBe(5);
    expect(parts.at(-1)).toEqual({ type: 'done' });
    expect(fake.requests[0]?.body).toMatchObject({ stream: true });
  });

  it('streams without a usage part when the upstream reports none', async () => {
    fake.script([{ kind: 'no-usage' }]);
    const parts = await collect(await provider.doStream(chatRequest(), context()));
    expect(parts.some((part) => part.type === 'usage')).toBe(false);
    expect(parts.at(-1)).toEqual({ type: 'done' });
  });

  it('streams a tool call: index, id and name first, then argument fragments', async () => {
    const parts = await collect(await provider.doStream(chatRequest({ tools: [weatherTool] }), context()));
    const all = chunks(parts);
    const calls = all.flatMap((chunk) => chunk.choices[0]?.delta?.tool_calls ?? []);
    expect(calls[0]).toEqual({
      index: 0,
      id: 'call_fake_1',
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(calls.slice(1).every((call) => call.id == null && call.index === 0)).toBe(true);
    expect(calls.map((call) => call.function?.arguments ?? '').join('')).toBe('{"city":"Paris"}');
    expect(all.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe(
      'tool_calls',
    );
  });

  it('answers response_format json_schema with JSON content, streamed or not', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const request = chatRequest({
      response_format: { type: 'json_schema', json_schema: { name: 'c', schema } },
    });
    const result = await provider.doChat(request, context());
    expect(JSON.parse(result.completion.choices[0]?.message.content ?? '')).toEqual({ city: 'Paris' });
    expect(result.completion.choices[0]?.finish_reason).toBe('stop');
    const parts = await collect(await provider.doStream(request, context()));
    const text = chunks(parts)
      .map((chunk) => chunk.choices[0]?.delta?.content ?? '')
      .join('');
    expect(JSON.parse(text)).toEqual({ city: 'Paris' });
  });
});

describe('createAnthropicProvider: failures', () => {
  it('maps statuses: 529 retryable, 400 not, 429 with Retry-After', async () => {
    fake.script([
      { kind: 'status', status: 529, message: 'Overloaded' },
      { kind: 'status', status: 400, message: 'max_tokens: too large' },
      { kind: 'status', status: 429, retryAfter: '7' },
    ]);
    const overloaded = await failure(provider.doChat(chatRequest(), context()));
    expect(overloaded).toMatchObject({
      kind: 'http',
      status: 529,
      retryable: true,
      upstreamMessage: 'Overloaded',
    });
    const invalid = await failure(provider.doStream(chatRequest(), context()));
    expect(invalid).toMatchObject({ kind: 'http', status: 400, retryable: false });
    const limited = await failure(provider.doChat(chatRequest(), context()));
    expect(limited).toMatchObject({ status: 429, retryable: true, retryAfterMs: 7000 });
  });

  it('refuses n > 1 before calling the upstream', async () => {
    const error = await failure(provider.doChat(chatRequest({ n: 3 }), context()));
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect(fake.requests).toHaveLength(0);
  });

  it('times out a hanging upstream, and a stalled stream', async () => {
    fake.script([{ kind: 'hang' }, { kind: 'slow-stream', intervalMs: 400 }]);
    const started = performance.now();
    expect((await failure(provider.doChat(chatRequest(), context({ firstByteMs: 150 })))).kind).toBe(
      'timeout',
    );
    expect(performance.now() - started).toBeLessThan(1000);
    const stream = await provider.doStream(chatRequest(), context({ idleMs: 150 }));
    expect((await failure(collect(stream))).kind).toBe('timeout');
  });

  it('reports a reset, a truncated stream and malformed events', async () => {
    fake.script([
      { kind: 'reset', afterChunks: 3 },
      { kind: 'truncated', afterChunks: 4 },
      { kind: 'malformed' },
      { kind: 'malformed', variant: 'schema' },
      { kind: 'malformed', variant: 'schema' },
    ]);
    expect((await failure(collect(await provider.doStream(chatRequest(), context())))).kind).toBe('reset');
    const truncated = await failure(collect(await provider.doStream(chatRequest(), context())));
    expect(truncated.kind).toBe('truncated');
    expect(truncated.message).toContain('message_stop');
    expect((await failure(collect(await provider.doStream(chatRequest(), context())))).kind).toBe(
      'malformed',
    );
    expect((await failure(collect(await provider.doStream(chatRequest(), context())))).kind).toBe(
      'malformed',
    );
    expect((await failure(provider.doChat(chatRequest(), context()))).kind).toBe('malformed');
  });

  it('turns an error event mid-stream into an http error with its status and message', async () => {
    fake.script([{ kind: 'stream-error', message: 'Overloaded', afterChunks: 3 }]);
    const stream = await provider.doStream(chatRequest(), context());
    const error = await failure(collect(stream));
    expect(error).toMatchObject({
      kind: 'http',
      status: 529,
      retryable: true,
      upstreamMessage: 'Overloaded',
    });
  });

  it('never puts the API key in an error, even when the upstream echoes it', async () => {
    fake.script([{ kind: 'echo-headers', status: 401 }, { kind: 'echo-headers' }]);
    const error = await failure(provider.doChat(chatRequest(), context()));
    expect(error.status).toBe(401);
    expect(`${error.message} ${error.upstreamMessage} ${error.stack}`).not.toContain(CANARY_KEY);
    const echoed = await provider.doChat(chatRequest(), context());
    expect(echoed.completion.choices[0]?.message.content).toContain(CANARY_KEY);
  });

  it('cancel() releases the connection', async () => {
    const single = createAnthropicProvider({ baseUrl: fake.baseUrl, upstreamModel: 'm', maxConnections: 1 });
    fake.script([{ kind: 'slow-stream', intervalMs: 100 }]);
    const stream = await single.doStream(chatRequest(), context());
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: 'chunk' });
    stream.cancel();
    const result = await single.doChat(chatRequest(), context({ firstByteMs: 1000 }));
    expect(result.completion.choices[0]?.message.content).toBe(DEFAULT_CONTENT);
    await single.close();
  });
});
