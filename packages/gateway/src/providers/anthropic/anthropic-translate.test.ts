import { describe, expect, it } from 'vitest';
import { ChatRequest } from '../chat-schemas.js';
import { UpstreamError } from '../upstream-error.js';
import { AnthropicMessageResponse } from './anthropic-schemas.js';
import {
  DEFAULT_MAX_TOKENS,
  fromAnthropicMessage,
  JSON_RESPONSE_TOOL,
  toAnthropicRequest,
  toNormalizedAnthropicUsage,
} from './anthropic-translate.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';

function request(extra: Record<string, unknown>): ChatRequest {
  return ChatRequest.parse({ model: 'claude', messages: [{ role: 'user', content: 'hi' }], ...extra });
}

function refusal(run: () => unknown): UpstreamError {
  try {
    run();
  } catch (error) {
    if (error instanceof UpstreamError) return error;
    throw error;
  }
  throw new Error('expected an UpstreamError');
}

describe('toAnthropicRequest', () => {
  it('hoists system and developer messages, merges same-role turns, maps images', () => {
    const { body } = toAnthropicRequest(
      request({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
          { role: 'user', content: 'First.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } },
            ],
          },
        ],
      }),
      'claude-sonnet-4-5',
    );
    expect(body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: DEFAULT_MAX_TOKENS,
      system: 'Be brief.\n\nAnswer in French.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'First.' },
            { type: 'text', text: 'What is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
  });

  it('maps sampling options, stop sequences, the token limit and the user', () => {
    const { body } = toAnthropicRequest(
      request({
        max_tokens: 50,
        max_completion_tokens: 100,
        stop: 'END',
        temperature: 1.7,
        top_p: 0.9,
        user: 'u-1',
      }),
      'm',
    );
    expect(body).toMatchObject({
      max_tokens: 100,
      stop_sequences: ['END'],
      temperature: 1,
      top_p: 0.9,
      metadata: { user_id: 'u-1' },
    });
    expect(toAnthropicRequest(request({ max_tokens: 50, stop: ['a', 'b'] }), 'm').body).toMatchObject({
      max_tokens: 50,
      stop_sequences: ['a', 'b'],
    });
  });

  it('maps every tool_choice form, and parallel_tool_calls: false', () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
    const choice = (extra: Record<string, unknown>) =>
      toAnthropicRequest(request({ tools, ...extra }), 'm').body.tool_choice;
    expect(choice({})).toBeUndefined();
    expect(choice({ tool_choice: 'auto' })).toBeUndefined();
    expect(choice({ tool_choice: 'none' })).toEqual({ type: 'none' });
    expect(choice({ tool_choice: 'required' })).toEqual({ type: 'any' });
    expect(choice({ tool_choice: { type: 'function', function: { name: 'f' } } })).toEqual({
      type: 'tool',
      name: 'f',
    });
    expect(choice({ parallel_tool_calls: false })).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(choice({ tool_choice: 'required', parallel_tool_calls: false })).toEqual({
      type: 'any',
      disable_parallel_tool_use: true,
    });
    // no tools: Anthropic rejects a tool_choice without tools
    expect(toAnthropicRequest(request({ tool_choice: 'required' }), 'm').body.tool_choice).toBeUndefined();
  });

  it('answers response_format json_schema through a forced tool', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const translated = toAnthropicRequest(
      request({
        response_format: { type: 'json_schema', json_schema: { name: 'city', schema, strict: true } },
      }),
      'm',
    );
    expect(translated.jsonResponse).toBe(true);
    expect(translated.body.tools).toEqual([
      { name: JSON_RESPONSE_TOOL, description: expect.any(String), input_schema: schema },
    ]);
    expect(translated.body.tool_choice).toEqual({ type: 'tool', name: JSON_RESPONSE_TOOL });
    expect(toAnthropicRequest(request({ response_format: { type: 'text' } }), 'm').jsonResponse).toBe(false);
  });

  it('refuses what it cannot translate, naming the field, non-retryable', () => {
    const n = refusal(() => toAnthropicRequest(request({ n: 2 }), 'm'));
    expect(n).toMatchObject({ kind: 'http', status: 400, retryable: false });
    expect(n.message).toContain('`n`');
    const audio = refusal(() =>
      toAnthropicRequest(
        request({
          messages: [
            { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAA', format: 'wav' } }] },
          ],
        }),
        'm',
      ),
    );
    expect(audio.message).toContain('messages[0].content[0]');
    const args = refusal(() =>
      toAnthropicRequest(
        request({
          messages: [
            { role: 'user', content: 'x' },
            {
              role: 'assistant',
              tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{' } }],
            },
          ],
        }),
        'm',
      ),
    );
    expect(args.message).toContain('messages[1].tool_calls[0].function.arguments');
  });
});

describe('fromAnthropicMessage', () => {
  const message = AnthropicMessageResponse.parse({
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-x',
    content: [
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
    ],
    stop_reason: 'tool_use',
    usage: {
      input_tokens: 10,
      output_tokens: 5,
      cache_read_input_tokens: 90,
      cache_creation_input_tokens: 20,
    },
  });

  it('maps text, tool calls, finish reason and usage (cache reads and writes count as input)', () => {
    const completion = fromAnthropicMessage(message, { created: 1234, jsonResponse: false });
    expect(completion).toEqual({
      id: 'msg_1',
      object: 'chat.completion',
      created: 1234,
      model: 'claude-x',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Checking.',
            refusal: null,
            tool_calls: [
              {
                id: 'toolu_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          finish_reason: 'tool_calls',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 120,
        completion_tokens: 5,
        total_tokens: 125,
        prompt_tokens_details: { cached_tokens: 90 },
      },
    });
    expect(
      toNormalizedAnthropicUsage({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 90 }),
    ).toMatchObject({
      inputTokens: 100,
      cachedInputTokens: 90,
      outputTokens: 5,
    });
  });

  it('turns the JSON response tool back into JSON content with finish_reason stop', () => {
    const json = AnthropicMessageResponse.parse({
      id: 'msg_2',
      model: 'claude-x',
      content: [{ type: 'tool_use', id: 'toolu_2', name: JSON_RESPONSE_TOOL, input: { city: 'Paris' } }],
      stop_reason: 'tool_use',
    });
    const choice = fromAnthropicMessage(json, { created: 0, jsonResponse: true }).choices[0];
    expect(choice?.message.content).toBe('{"city":"Paris"}');
    expect(choice?.message.tool_calls).toBeUndefined();
    expect(choice?.finish_reason).toBe('stop');
  });
});

describe('mapAnthropicStopReason', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    [null, 'stop'],
  ] as const)('%s → %s', (reason, expected) => {
    expect(mapAnthropicStopReason(reason)).toBe(expected);
  });
});
