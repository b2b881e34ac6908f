import { describe, expect, it } from 'vitest';
import {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  OpenAIErrorBody,
  openAIErrorMessage,
  requestedStreamUsage,
  toNormalizedUsage,
} from './chat-schemas.js';

const fullRequest = {
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
    {
      role: 'user',
      name: 'ana',
      content: [
        { type: 'text', text: 'Look:' },
        { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'high' } },
        { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
        { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
    },
    { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
    { role: 'function', name: 'legacy', content: 'old style' },
  ],
  tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' }, strict: true } }],
  tool_choice: { type: 'function', function: { name: 'f' } },
  parallel_tool_calls: false,
  response_format: {
    type: 'json_schema',
    json_schema: { name: 'x', schema: { type: 'object' }, strict: true },
  },
  n: 1,
  stop: ['\n\n'],
  max_tokens: 100,
  max_completion_tokens: 200,
  temperature: 0.7,
  top_p: 1,
  presence_penalty: 0.5,
  frequency_penalty: -0.5,
  seed: 42,
  logprobs: true,
  top_logprobs: 3,
  logit_bias: { '50256': -100 },
  user: 'user-1',
  metadata: { team: 'search' },
  stream: true,
  stream_options: { include_usage: true },
  reasoning_effort: 'low',
  service_tier: 'auto',
  store: false,
  modalities: ['text'],
  prediction: { type: 'content', content: 'unknown to us, forwarded' },
};

describe('ChatRequest', () => {
  it('accepts every role and content part, and keeps unknown fields', () => {
    const parsed = ChatRequest.parse(fullRequest);
    expect(parsed).toEqual(fullRequest);
    expect(requestedStreamUsage(parsed)).toBe(true);
  });

  it('accepts the null that clients send for unset options', () => {
    const parsed = ChatRequest.parse({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: null,
      tools: null,
      stop: null,
    });
    expect(requestedStreamUsage(parsed)).toBe(false);
  });

  it('rejects wrong types of known fields with the path', () => {
    const cases: [Record<string, unknown>, (string | number)[]][] = [
      [{ temperature: 'hot' }, ['temperature']],
      [{ n: 1.5 }, ['n']],
      [{ stop: [1] }, ['stop']], // a union reports at its own path
      [{ metadata: { a: 1 } }, ['metadata', 'a']],
      [{ messages: [] }, ['messages']],
      [{ messages: [{ role: 'robot', content: 'x' }] }, ['messages', 0, 'role']],
      [{ messages: [{ role: 'tool', content: 'x' }] }, ['messages', 0, 'tool_call_id']],
      [{ response_format: { type: 'yaml' } }, ['response_format', 'type']],
    ];
    for (const [patch, path] of cases) {
      const result = ChatRequest.safeParse({
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
        ...patch,
      });
      expect(result.success, JSON.stringify(patch)).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(path);
    }
  });

  it.each(['api_base', 'base_url', 'baseURL', 'api_key', 'custom_host'])('refuses `%s`', (field) => {
    const result = ChatRequest.safeParse({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      [field]: 'https://evil.example',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
    expect(result.error?.issues[0]?.message).toContain(field);
  });
});

describe('response schemas', () => {
  it('accept the sparse bodies of llama.cpp / Ollama / vLLM', () => {
    const sparse = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: 'llama',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop', logprobs: null },
      ],
    };
    expect(ChatCompletion.parse(sparse).usage).toBeUndefined();
    const nulls = { ...sparse, created: 1, system_fingerprint: null, usage: null };
    expect(ChatCompletion.safeParse(nulls).success).toBe(true);
    const chunk = {
      id: 'c',
      choices: [{ index: 0, delta: { content: 'x', tool_calls: null }, finish_reason: null }],
    };
    expect(ChatCompletionChunk.safeParse(chunk).success).toBe(true);
    const usageOnly = {
      id: 'c',
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    };
    expect(ChatCompletionChunk.parse(usageOnly).usage?.total_tokens).toBe(7);
  });

  it('reject bodies without choices', () => {
    expect(ChatCompletion.safeParse({ id: 'x', object: 'chat.completion' }).success).toBe(false);
    expect(ChatCompletionChunk.safeParse({ id: 'x' }).success).toBe(false);
  });

  it('normalize usage, undefined where the server said nothing', () => {
    expect(
      toNormalizedUsage({
        prompt_tokens: 100,
        completion_tokens: 20,
        prompt_tokens_details: { cached_tokens: 60 },
        completion_tokens_details: { reasoning_tokens: 5 },
      }),
    ).toMatchObject({ inputTokens: 100, cachedInputTokens: 60, outputTokens: 20, reasoningTokens: 5 });
    expect(toNormalizedUsage({ prompt_tokens: 1, completion_tokens: null })).toMatchObject({
      inputTokens: 1,
      cachedInputTokens: undefined,
      outputTokens: undefined,
      reasoningTokens: undefined,
    });
  });

  it('extract error messages from OpenAI and OpenAI-compatible error bodies', () => {
    const canonical = { error: { message: 'bad', type: 'invalid_request_error', param: null, code: null } };
    expect(OpenAIErrorBody.parse(canonical).error.message).toBe('bad');
    expect(openAIErrorMessage(canonical)).toBe('bad');
    expect(openAIErrorMessage({ error: 'model "x" not found' })).toBe('model "x" not found');
    expect(openAIErrorMessage({ object: 'error', message: 'too long', code: 400 })).toBe('too long');
    expect(openAIErrorMessage({ detail: 'Not Found' })).toBe('Not Found');
    expect(openAIErrorMessage('nope')).toBeUndefined();
  });
});
