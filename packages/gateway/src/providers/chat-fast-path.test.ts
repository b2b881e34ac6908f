import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseChatRequest, plainChatCompletion, plainChatRequest } from './chat-fast-path.js';
import { ChatCompletion, ChatRequest } from './chat-schemas.js';

/** Values of every JSON kind, near and far from what each field takes. */
const anyValue = fc.oneof(
  fc.integer({ min: -3, max: 300 }),
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 6 }),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
  fc.record({ include_usage: fc.oneof(fc.boolean(), fc.constant(null), fc.integer()) }),
  fc.anything({ maxDepth: 2 }),
);

/** Mostly `likely` (values near what the field takes), sometimes any JSON value. */
const mostly = <T>(likely: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: likely, weight: 6 }, { arbitrary: anyValue, weight: 1 });
const text = fc.string({ maxLength: 6 });
const count = fc.integer({ min: -2, max: 200 });
const nullable = <T>(likely: fc.Arbitrary<T>) => mostly(fc.oneof(likely, fc.constant(null)));

const wellFormedMessage = fc.oneof(
  fc.record(
    { role: fc.constantFrom('system', 'developer', 'user'), content: text, name: nullable(text) },
    { requiredKeys: ['role', 'content'] },
  ),
  fc.record({ role: fc.constant('assistant'), content: nullable(text) }),
  fc.record({ role: fc.constant('tool'), content: text, tool_call_id: mostly(text) }),
);
const message = fc.oneof(
  { arbitrary: wellFormedMessage, weight: 5 },
  {
    arbitrary: fc.record(
      {
        role: mostly(fc.constantFrom('user', 'assistant', 'tool', 'function', 'constructor')),
        content: nullable(text),
        name: nullable(text),
        tool_call_id: mostly(text),
        refusal: anyValue,
      },
      { requiredKeys: ['role'] },
    ),
    weight: 1,
  },
);

const options: Record<string, fc.Arbitrary<unknown>> = {
  max_tokens: nullable(count),
  max_completion_tokens: nullable(count),
  temperature: nullable(fc.double({ min: -1, max: 3 })),
  top_p: nullable(fc.double({ min: -0.5, max: 1.5 })),
  presence_penalty: nullable(fc.double()),
  frequency_penalty: nullable(fc.double({ min: -2, max: 2 })),
  seed: nullable(fc.oneof(fc.integer(), fc.double())),
  n: nullable(count),
  top_logprobs: nullable(count),
  logprobs: nullable(fc.boolean()),
  stream: nullable(fc.boolean()),
  store: nullable(fc.boolean()),
  parallel_tool_calls: nullable(fc.boolean()),
  user: nullable(text),
  reasoning_effort: nullable(text),
  service_tier: nullable(text),
  stop: nullable(fc.oneof(text, fc.array(mostly(text), { maxLength: 3 }))),
  metadata: nullable(fc.dictionary(text, mostly(text), { maxKeys: 3 })),
  stream_options: nullable(fc.record({ include_usage: nullable(fc.boolean()) }, { requiredKeys: [] })),
  tools: fc.constant([]),
  response_format: fc.constant({ type: 'text' }),
  api_base: text,
  x_unknown_option: anyValue,
};
const optionKeys = Object.keys(options);

const request = fc
  .record({
    model: mostly(fc.constantFrom('gpt-4o-mini', '')),
    messages: mostly(fc.array(message, { minLength: 1, maxLength: 3 })),
    picked: fc.subarray(optionKeys, { maxLength: 5 }),
    values: fc.record(options),
  })
  .map(({ model, messages, picked, values }) => ({
    model,
    messages,
    ...Object.fromEntries(picked.map((key) => [key, values[key]])),
  }));

const choice = fc.record(
  {
    index: mostly(fc.integer({ min: -1, max: 3 })),
    message: mostly(
      fc.record(
        {
          role: mostly(fc.constant('assistant')),
          content: nullable(text),
          refusal: nullable(text),
          reasoning_content: nullable(text),
          tool_calls: fc.oneof(
            { arbitrary: fc.constant(null), weight: 4 },
            { arbitrary: anyValue, weight: 1 },
          ),
        },
        { requiredKeys: [] },
      ),
    ),
    finish_reason: nullable(fc.constant('stop')),
    logprobs: anyValue,
  },
  { requiredKeys: ['message'] },
);

const tokens = nullable(fc.oneof(fc.nat(100), fc.double()));
const usage = fc.record(
  {
    prompt_tokens: tokens,
    completion_tokens: tokens,
    total_tokens: tokens,
    prompt_tokens_details: nullable(fc.record({ cached_tokens: tokens }, { requiredKeys: [] })),
    completion_tokens_details: nullable(fc.record({ reasoning_tokens: tokens }, { requiredKeys: [] })),
  },
  { requiredKeys: [] },
);

const completion = fc.record(
  {
    id: mostly(fc.constant('chatcmpl-1')),
    object: mostly(fc.constant('chat.completion')),
    created: mostly(fc.oneof(fc.nat(), fc.double())),
    model: mostly(fc.constant('m')),
    choices: mostly(fc.array(choice, { maxLength: 2 })),
    usage: nullable(usage),
    system_fingerprint: nullable(text),
    service_tier: nullable(text),
    extra_field: anyValue,
  },
  { requiredKeys: ['choices'] },
);

/**
 * Whatever `fast` accepts, `schema` accepts unchanged; the fast path must be taken often enough
 * (over 100 of 4,000 samples) for that to say something.
 */
function expectOnlyWhatTheSchemaAccepts(
  samples: fc.Arbitrary<Record<string, unknown>>,
  fast: (body: unknown) => unknown,
  schema: { safeParse(body: unknown): { success: boolean; data?: unknown } },
): void {
  let taken = 0;
  fc.assert(
    fc.property(samples, (body) => {
      if (fast(body) === undefined) return;
      taken += 1;
      const parsed = schema.safeParse(body);
      expect(parsed.success).toBe(true);
      expect(parsed.data).toEqual(body);
    }),
    { numRuns: 4000, seed: 20261204 },
  );
  expect(taken).toBeGreaterThan(100);
}

describe('chat fast paths', () => {
  it('accept a request only when the schema accepts it unchanged', () => {
    expectOnlyWhatTheSchemaAccepts(request, plainChatRequest, ChatRequest);
  });

  it('accept a chat.completion only when the schema accepts it unchanged', () => {
    expectOnlyWhatTheSchemaAccepts(completion, plainChatCompletion, ChatCompletion);
  });

  it('take the common shapes, and leave the rest to zod with its messages', () => {
    const common = {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello.', name: 'ada' },
      ],
      max_tokens: 32,
      temperature: 0.2,
      stream: false,
      metadata: { task: 'greeting' },
    };
    expect(plainChatRequest(common)).toBe(common);
    const answer = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 },
    };
    expect(plainChatCompletion(answer)).toBe(answer);

    const refused = parseChatRequest({ ...common, api_base: 'http://169.254.169.254' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toContain('`api_base` is not accepted');
    const parts = { ...common, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] };
    expect(plainChatRequest(parts)).toBeUndefined();
    expect(parseChatRequest(parts).success).toBe(true);
    expect(plainChatRequest({ ...common, max_tokens: -1 })).toBeUndefined();
    expect(parseChatRequest({ ...common, max_tokens: -1 }).success).toBe(false);
  });
});
