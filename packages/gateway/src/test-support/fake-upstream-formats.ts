/**
 * The two wire formats the fake upstream speaks. Each turns a format-free `FakePlan` (text or one
 * tool call, usage, id) into a JSON body or a list of serialized SSE events, and reads the few
 * request fields the fake needs. Internal to `fake-upstream.ts`.
 */
import { z } from 'zod';

export interface FakeUsage {
  readonly input: number;
  readonly output: number;
  /** Prompt-cache hits, a subset of `input` (OpenAI) / cache reads (Anthropic). */
  readonly cached?: number;
}

export interface FakeRequestInfo {
  readonly model: string;
  readonly stream: boolean;
  /** OpenAI `stream_options.include_usage`; Anthropic always reports usage. */
  readonly includeUsage: boolean;
  /** Tools offered, with their JSON schema. */
  readonly tools: readonly { readonly name: string; readonly schema: Record<string, unknown> }[];
  /** A tool the request forces (`tool_choice`), if any. */
  readonly forcedTool: string | undefined;
  /** The last message carries tool results: answer in text. */
  readonly afterToolResult: boolean;
}

export interface FakePlan {
  readonly id: string;
  readonly model: string;
  readonly text: string | undefined;
  readonly toolCall: { readonly id: string; readonly name: string; readonly arguments: string } | undefined;
  /** Stream fragments: of `text`, or of the tool call's arguments. */
  readonly pieces: readonly string[];
  /** `undefined`: the stream carries no usage (behaviour `no-usage`). */
  readonly usage: FakeUsage | undefined;
}

export interface WireFormat {
  /** Reads the request; a string is a validation message (answered with a 400). */
  read(body: unknown): FakeRequestInfo | string;
  completion(plan: FakePlan): unknown;
  events(plan: FakePlan, info: FakeRequestInfo): string[];
  errorBody(status: number, message: string): unknown;
  /** A mid-stream error event. */
  streamError(message: string): string;
  /** An event whose data is not JSON (`json`) or is JSON of the wrong shape (`schema`). */
  malformedEvent(variant: 'json' | 'schema'): string;
  malformedBody(variant: 'json' | 'schema'): string;
}

const CREATED = 1_700_000_000;

function sse(data: unknown, event?: string): string {
  const line = `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
  return event === undefined ? line : `event: ${event}\n${line}`;
}

const JsonSchema = z.record(z.string(), z.unknown());

const OpenAIRequest = z.looseObject({
  model: z.string(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  messages: z.array(z.looseObject({ role: z.string() })).min(1),
  tools: z
    .array(z.looseObject({ function: z.looseObject({ name: z.string(), parameters: JsonSchema.nullish() }) }))
    .nullish(),
  tool_choice: z
    .union([z.string(), z.looseObject({ function: z.looseObject({ name: z.string() }) })])
    .nullish(),
});

export const openAIFormat: WireFormat = {
  read(body) {
    const parsed = OpenAIRequest.safeParse(body);
    if (!parsed.success) return `invalid request: ${parsed.error.issues[0]?.message ?? 'bad body'}`;
    const request = parsed.data;
    const choice = request.tool_choice;
    return {
      model: request.model,
      stream: request.stream === true,
      includeUsage: request.stream_options?.include_usage === true,
      tools: (request.tools ?? []).map((tool) => ({
        name: tool.function.name,
        schema: tool.function.parameters ?? {},
      })),
      forcedTool: typeof choice === 'object' && choice !== null ? choice.function.name : undefined,
      afterToolResult: request.messages.at(-1)?.role === 'tool',
    };
  },
  completion(plan) {
    const toolCalls = plan.toolCall
      ? [
          {
            id: plan.toolCall.id,
            type: 'function',
            function: { name: plan.toolCall.name, arguments: plan.toolCall.arguments },
          },
        ]
      : undefined;
    return {
      id: plan.id,
      object: 'chat.completion',
      created: CREATED,
      model: plan.model,
      system_fingerprint: 'fp_fake',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: plan.text ?? null, refusal: null, tool_calls: toolCalls },
          logprobs: null,
          finish_reason: plan.toolCall ? 'tool_calls' : 'stop',
        },
      ],
      usage: plan.usage ? openAIUsage(plan.usage) : undefined,
    };
  },
  events(plan, info) {
    const base = { id: plan.id, object: 'chat.completion.chunk', created: CREATED, model: plan.model };
    const chunk = (delta: unknown, finish: string | null = null) =>
      sse({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
    const events = [chunk({ role: 'assistant', content: plan.toolCall ? null : '' })];
    const call = plan.toolCall;
    if (call) {
      events.push(
        chunk({
          tool_calls: [
            { index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
          ],
        }),
      );
      for (const piece of plan.pieces)
        events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    } else {
      for (const piece of plan.pieces) events.push(chunk({ content: piece }));
    }
    events.push(chunk({}, call ? 'tool_calls' : 'stop'));
    if (info.includeUsage && plan.usage)
      events.push(sse({ ...base, choices: [], usage: openAIUsage(plan.usage) }));
    events.push(sse('[DONE]'));
    return events;
  },
  errorBody(status, message) {
    const type =
      status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
    return { error: { message, type, param: null, code: status === 429 ? 'rate_limit_exceeded' : null } };
  },
  streamError(message) {
    return sse({ error: { message, type: 'server_error', param: null, code: 500 } });
  },
  malformedEvent(variant) {
    return variant === 'json'
      ? sse('{"id": "chatcmpl-bad", "choices": [')
      : sse({ id: 'chatcmpl-bad', object: 'x' });
  },
  malformedBody(variant) {
    return variant === 'json'
      ? '{"id": "chatcmpl-bad", "choices": ['
      : JSON.stringify({ id: 'chatcmpl-bad' });
  },
};

function openAIUsage(usage: FakeUsage) {
  return {
    prompt_tokens: usage.input,
    completion_tokens: usage.output,
    total_tokens: usage.input + usage.output,
    prompt_tokens_details: { cached_tokens: usage.cached ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };
}

const AnthropicRequest = z.looseObject({
  model: z.string(),
  max_tokens: z.number().int().positive(),
  stream: z.boolean().nullish(),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['user', 'assistant']),
        content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
      }),
    )
    .min(1),
  tools: z.array(z.looseObject({ name: z.string(), input_schema: JsonSchema })).nullish(),
  tool_choice: z.looseObject({ type: z.string(), name: z.string().nullish() }).nullish(),
});

export const anthropicFormat: WireFormat = {
  read(body) {
    const parsed = AnthropicRequest.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return `${issue?.path.join('.') ?? 'body'}: ${issue?.message ?? 'invalid'}`;
    }
    const request = parsed.data;
    const last = request.messages.at(-1)?.content;
    return {
      model: request.model,
      stream: request.stream === true,
      includeUsage: true,
      tools: (request.tools ?? []).map((tool) => ({ name: tool.name, schema: tool.input_schema })),
      forcedTool: request.tool_choice?.type === 'tool' ? (request.tool_choice.name ?? undefined) : undefined,
      afterToolResult: Array.isArray(last) && last.some((block) => block.type === 'tool_result'),
    };
  },
  completion(plan) {
    const call = plan.toolCall;
    const content: unknown[] = [];
    if (plan.text !== undefined) content.push({ type: 'text', text: plan.text });
    if (call)
      content.push({ type: 'tool_use', id: call.id, name: call.name, input: JSON.parse(call.arguments) });
    return {
      id: plan.id,
      type: 'message',
      role: 'assistant',
      model: plan.model,
      content,
      stop_reason: call ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: anthropicUsage(plan.usage ?? { input: 0, output: 0 }),
    };
  },
  events(plan) {
    const call = plan.toolCall;
    const usage = plan.usage;
    const start = {
      type: 'message_start',
      message: {
        id: plan.id,
        type: 'message',
        role: 'assistant',
        model: plan.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage ? { ...anthropicUsage(usage), output_tokens: 1 } : undefined,
      },
    };
    const events = [sse(start, 'message_start')];
    let index = 0;
    const textBlock = (text: string, pieces: readonly string[]) => {
      events.push(
        sse(
          { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
          'content_block_start',
        ),
      );
      if (index === 0) events.push(sse({ type: 'ping' }, 'ping'));
      for (const piece of pieces.length > 0 ? pieces : [text]) {
        events.push(
          sse(
            { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } },
            'content_block_delta',
          ),
        );
      }
      events.push(sse({ type: 'content_block_stop', index }, 'content_block_stop'));
      index++;
    };
    if (call) {
      if (plan.text !== undefined) textBlock(plan.text, []);
      const block = { type: 'tool_use', id: call.id, name: call.name, input: {} };
      events.push(sse({ type: 'content_block_start', index, content_block: block }, 'content_block_start'));
      for (const piece of plan.pieces) {
        const delta = { type: 'input_json_delta', partial_json: piece };
        events.push(sse({ type: 'content_block_delta', index, delta }, 'content_block_delta'));
      }
      events.push(sse({ type: 'content_block_stop', index }, 'content_block_stop'));
    } else {
      textBlock(plan.text ?? '', plan.pieces);
    }
    const delta = { stop_reason: call ? 'tool_use' : 'end_turn', stop_sequence: null };
    const endUsage = usage ? { output_tokens: usage.output } : undefined;
    events.push(sse({ type: 'message_delta', delta, usage: endUsage }, 'message_delta'));
    events.push(sse({ type: 'message_stop' }, 'message_stop'));
    return events;
  },
  errorBody(status, message) {
    return { type: 'error', error: { type: anthropicErrorType(status), message } };
  },
  streamError(message) {
    return sse({ type: 'error', error: { type: 'overloaded_error', message } }, 'error');
  },
  malformedEvent(variant) {
    return variant === 'json'
      ? sse('{"type": "content_block_delta", "index": 0, "delta": {', 'content_block_delta')
      : sse({ type: 'content_block_delta', index: 'zero' }, 'content_block_delta');
  },
  malformedBody(variant) {
    return variant === 'json'
      ? '{"id": "msg_bad", "content": ['
      : JSON.stringify({ id: 'msg_bad', type: 'message' });
  },
};

function anthropicUsage(usage: FakeUsage) {
  const cached = usage.cached ?? 0;
  return {
    input_tokens: usage.input - cached,
    output_tokens: usage.output,
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: 0,
  };
}

function anthropicErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 529) return 'overloaded_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}
