/**
 * OpenAI chat completions ⇄ Anthropic Messages, for non-streaming calls (streams: anthropic-stream.ts).
 *
 * Request choices worth knowing:
 * - system and developer messages, wherever they appear, become the top-level `system` (joined by a
 *   blank line): Anthropic has no mid-conversation system turn.
 * - consecutive turns of the same role are merged; `tool` messages become `tool_result` blocks in a
 *   user turn, so a run of tool results plus the next user message is one Anthropic turn.
 * - `response_format` json_schema / json_object is answered through a forced tool named
 *   `json_response` whose input schema is the requested schema: Anthropic then returns the JSON as
 *   the tool's input, which the response mapping turns back into `content` (JSON text) with
 *   finish_reason `stop`. A forced tool is schema-checked by the model; an instruction is not.
 * - `temperature` is clamped to Anthropic's 0–1 range; `max_tokens` (required by Anthropic) is
 *   `max_completion_tokens ?? max_tokens ?? 4096`; `user` becomes `metadata.user_id`.
 * - Options Anthropic has no equivalent for (seed, penalties, logprobs, logit_bias, ...) are dropped.
 * - What cannot be translated faithfully (`n` > 1, audio input, file ids, custom tools, legacy
 *   function calling) is refused with a non-retryable 400-style UpstreamError naming the field.
 */
import type { ChatCompletion, ChatMessage, ChatRequest, ContentPart, OpenAIUsage } from '../chat-schemas.js';
import type { NormalizedUsage } from '../provider.js';
import { UpstreamError } from '../upstream-error.js';
import type {
  AnthropicContentBlock,
  AnthropicMessage,
  AnthropicMessageResponse,
  AnthropicRequest,
  AnthropicSource,
  AnthropicTextBlock,
  AnthropicToolChoice,
  AnthropicUsage,
} from './anthropic-schemas.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';

export const JSON_RESPONSE_TOOL = 'json_response';
export const DEFAULT_MAX_TOKENS = 4096;

export interface TranslatedRequest {
  readonly body: AnthropicRequest;
  /** The answer comes back through the `json_response` tool and must be mapped to `content`. */
  readonly jsonResponse: boolean;
}

/** A request the gateway refuses to translate: non-retryable, like the 400 Anthropic would send. */
export function untranslatable(field: string, detail: string): UpstreamError {
  return new UpstreamError({
    kind: 'http',
    status: 400,
    message: `anthropic cannot accept \`${field}\`: ${detail}`,
  });
}

export function toAnthropicRequest(request: ChatRequest, upstreamModel: string): TranslatedRequest {
  if (request.n != null && request.n > 1) {
    throw untranslatable('n', `Anthropic returns one choice per call; send n = 1 (got ${request.n})`);
  }
  if (request.functions != null || request.function_call != null) {
    throw untranslatable('functions', 'legacy function calling is not supported; use `tools`');
  }
  const { system, messages } = translateMessages(request.messages);
  const body: AnthropicRequest = {
    model: upstreamModel,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system.length > 0) body.system = system.join('\n\n');
  if (request.stop != null)
    body.stop_sequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.temperature != null) body.temperature = Math.min(request.temperature, 1);
  if (request.top_p != null) body.top_p = request.top_p;
  if (request.user != null) body.metadata = { user_id: request.user };

  const tools = (request.tools ?? []).map((tool, index) => {
    if (tool.type !== 'function')
      throw untranslatable(`tools[${index}]`, 'only function tools are supported');
    const { name, description, parameters } = tool.function;
    return {
      name,
      ...(description == null ? {} : { description }),
      input_schema: parameters ?? { type: 'object', properties: {} },
    };
  });
  let toolChoice = tools.length > 0 ? translateToolChoice(request) : undefined;

  const format = request.response_format;
  const jsonResponse = format?.type === 'json_schema' || format?.type === 'json_object';
  if (format?.type === 'json_schema' || format?.type === 'json_object') {
    const schema = format.type === 'json_schema' ? format.json_schema.schema : undefined;
    const described = format.type === 'json_schema' ? format.json_schema.description : undefined;
    tools.push({
      name: JSON_RESPONSE_TOOL,
      description: described ?? 'Respond with a JSON object that follows the input schema.',
      input_schema: schema ?? { type: 'object' },
    });
    toolChoice = { type: 'tool', name: JSON_RESPONSE_TOOL };
  }
  if (tools.length > 0) body.tools = tools;
  if (toolChoice !== undefined) body.tool_choice = toolChoice;
  return { body, jsonResponse };
}

function translateToolChoice(request: ChatRequest): AnthropicToolChoice | undefined {
  const choice = request.tool_choice;
  const serial = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (choice == null || choice === 'auto') {
    return request.parallel_tool_calls === false ? { type: 'auto', ...serial } : undefined;
  }
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any', ...serial };
  if (choice.type === 'function') return { type: 'tool', name: choice.function.name, ...serial };
  throw untranslatable('tool_choice', `type "${choice.type}" is not supported`);
}

function translateMessages(input: readonly ChatMessage[]): {
  system: string[];
  messages: AnthropicMessage[];
} {
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  const append = (role: AnthropicMessage['role'], blocks: AnthropicContentBlock[]) => {
    if (blocks.length === 0) return;
    const last = messages.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  input.forEach((message, index) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(typeof message.content === 'string' ? message.content : textOf(message.content));
        return;
      case 'user':
        append('user', userBlocks(message.content, index));
        return;
      case 'assistant':
        append('assistant', assistantBlocks(message, index));
        return;
      case 'tool':
        append('user', [
          {
            type: 'tool_result',
            tool_use_id: message.tool_call_id,
            content: typeof message.content === 'string' ? message.content : textBlocks(message.content),
          },
        ]);
        return;
      case 'function':
        throw untranslatable(`messages[${index}]`, "legacy 'function' messages are not supported; use tools");
    }
  });
  if (messages.length === 0) throw untranslatable('messages', 'needs at least one user or assistant message');
  return { system, messages };
}

function textOf(parts: readonly { readonly text: string }[]): string {
  return parts.map((part) => part.text).join('\n');
}

function textBlocks(parts: readonly { readonly text: string }[]): AnthropicTextBlock[] {
  return parts.filter((part) => part.text.length > 0).map((part) => ({ type: 'text', text: part.text }));
}

function userBlocks(content: string | readonly ContentPart[], index: number): AnthropicContentBlock[] {
  if (typeof content === 'string') return content.length > 0 ? [{ type: 'text', text: content }] : [];
  const blocks: AnthropicContentBlock[] = [];
  content.forEach((part, partIndex) => {
    const field = `messages[${index}].content[${partIndex}]`;
    switch (part.type) {
      case 'text':
        if (part.text.length > 0) blocks.push({ type: 'text', text: part.text });
        return;
      case 'image_url':
        blocks.push({ type: 'image', source: imageSource(part.image_url.url, field) });
        return;
      case 'file': {
        const data = part.file.file_data;
        if (data == null) throw untranslatable(field, 'file ids are not supported; send file_data');
        const source = dataUrlSource(data) ?? { type: 'base64', media_type: 'application/pdf', data };
        blocks.push({
          type: 'document',
          source,
          ...(part.file.filename ? { title: part.file.filename } : {}),
        });
        return;
      }
      case 'input_audio':
        throw untranslatable(field, 'audio input is not supported');
    }
  });
  return blocks;
}

function imageSource(url: string, field: string): AnthropicSource {
  const inline = dataUrlSource(url);
  if (inline) return inline;
  if (url.startsWith('https://') || url.startsWith('http://')) return { type: 'url', url };
  throw untranslatable(`${field}.image_url.url`, 'expected a data: URL or an http(s) URL');
}

/** `data:<media type>;base64,<data>` without running a regex over megabytes of base64. */
function dataUrlSource(url: string): AnthropicSource | undefined {
  if (!url.startsWith('data:')) return undefined;
  const comma = url.indexOf(',');
  const header = comma === -1 ? '' : url.slice(5, comma);
  if (!header.endsWith(';base64')) return undefined;
  return { type: 'base64', media_type: header.slice(0, -7), data: url.slice(comma + 1) };
}

function assistantBlocks(
  message: Extract<ChatMessage, { role: 'assistant' }>,
  index: number,
): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  const content = message.content;
  if (typeof content === 'string') {
    if (content.length > 0) blocks.push({ type: 'text', text: content });
  } else if (content != null) {
    for (const part of content) {
      const text = part.type === 'text' ? part.text : part.refusal;
      if (text.length > 0) blocks.push({ type: 'text', text });
    }
  }
  if (message.function_call != null) {
    throw untranslatable(`messages[${index}].function_call`, 'legacy function calling is not supported');
  }
  (message.tool_calls ?? []).forEach((call, callIndex) => {
    const field = `messages[${index}].tool_calls[${callIndex}]`;
    if (call.type !== 'function') throw untranslatable(field, 'only function tool calls are supported');
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: toolInput(call.function.arguments, field),
    });
  });
  return blocks;
}

function toolInput(argumentsJson: string, field: string): Record<string, unknown> {
  if (argumentsJson.trim() === '') return {};
  let input: unknown;
  try {
    input = JSON.parse(argumentsJson);
  } catch {
    throw untranslatable(`${field}.function.arguments`, 'is not valid JSON');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw untranslatable(`${field}.function.arguments`, 'must be a JSON object');
  }
  return { ...input };
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

export function fromAnthropicMessage(
  message: AnthropicMessageResponse,
  options: { readonly created: number; readonly jsonResponse: boolean },
): ChatCompletion {
  let text = '';
  let reasoning = '';
  const toolCalls: { id: string; type: 'function'; function: { name: string; arguments: string } }[] = [];
  for (const block of message.content) {
    if (block.type === 'text' && block.text !== undefined) text += block.text;
    else if (block.type === 'thinking' && block.thinking !== undefined) reasoning += block.thinking;
    else if (block.type === 'tool_use' && block.id !== undefined && block.name !== undefined) {
      const args = JSON.stringify(block.input ?? {});
      if (options.jsonResponse && block.name === JSON_RESPONSE_TOOL) text = args;
      else
        toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: args } });
    }
  }
  const usage = message.usage ? toOpenAIUsage(message.usage) : undefined;
  return {
    id: message.id,
    object: 'chat.completion',
    created: options.created,
    model: message.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text.length > 0 || toolCalls.length === 0 ? text : null,
          refusal: null,
          ...(reasoning.length > 0 ? { reasoning_content: reasoning } : {}),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: mapAnthropicStopReason(message.stop_reason, options.jsonResponse),
        logprobs: null,
      },
    ],
    ...(usage ? { usage } : {}),
  };
}

/**
 * Anthropic reports uncached, cache-read and cache-write input separately; OpenAI's prompt_tokens
 * (and the gateway's inputTokens) is their sum, with cache reads as the cached subset.
 */
export function toNormalizedAnthropicUsage(usage: AnthropicUsage): NormalizedUsage {
  const cacheRead = usage.cache_read_input_tokens ?? undefined;
  const input =
    usage.input_tokens == null
      ? undefined
      : usage.input_tokens + (cacheRead ?? 0) + (usage.cache_creation_input_tokens ?? 0);
  return {
    inputTokens: input,
    cachedInputTokens: cacheRead,
    outputTokens: usage.output_tokens ?? undefined,
    reasoningTokens: undefined,
    raw: usage,
  };
}

export function toOpenAIUsage(usage: AnthropicUsage): OpenAIUsage {
  const normalized = toNormalizedAnthropicUsage(usage);
  const input = normalized.inputTokens ?? 0;
  const output = normalized.outputTokens ?? 0;
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    prompt_tokens_details: { cached_tokens: normalized.cachedInputTokens ?? 0 },
  };
}
