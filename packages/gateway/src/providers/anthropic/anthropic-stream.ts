/**
 * Anthropic's streaming events → OpenAI `chat.completion.chunk`s:
 * - message_start        → a first chunk with `role: 'assistant'`
 * - content_block_start  → for tool_use, a tool-call delta with index, id, name and empty arguments
 * - content_block_delta  → text_delta: `content`; input_json_delta: tool-call `arguments` fragments
 *                          (or `content` for the JSON response tool); thinking_delta: `reasoning_content`
 * - message_delta        → a chunk with `finish_reason`, then (when usage is known) a usage-only
 *                          chunk (`choices: []`, as OpenAI sends with include_usage) and a usage part
 * - message_stop         → done;  ping → nothing;  error → UpstreamError;  unknown types → ignored
 */
import type { ChatCompletionChunk } from '../chat-schemas.js';
import type { EventDecoder } from '../chat-stream.js';
import {
  clip,
  describeIssue,
  type ErrorScope,
  scrubSecrets,
  upstreamFailure,
} from '../http-upstream-errors.js';
import type { StreamPart } from '../provider.js';
import type { SseEvent } from '../sse.js';
import { UpstreamError } from '../upstream-error.js';
import {
  AnthropicEventEnvelope,
  type AnthropicUsage,
  ContentBlockDeltaEvent,
  ContentBlockStartEvent,
  ErrorEvent,
  MessageDeltaEvent,
  MessageStartEvent,
  statusForAnthropicErrorType,
} from './anthropic-schemas.js';
import { JSON_RESPONSE_TOOL, toNormalizedAnthropicUsage, toOpenAIUsage } from './anthropic-translate.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';

type BlockKind = 'text' | 'tool' | 'json' | 'thinking' | 'other';
type Delta = NonNullable<ChatCompletionChunk['choices'][number]['delta']>;

const NOTHING: readonly StreamPart[] = [];
const DONE: readonly StreamPart[] = [{ type: 'done' }];

export interface AnthropicStreamOptions {
  readonly scope: ErrorScope;
  /** `created` for every chunk (Anthropic sends no timestamp), in Unix seconds. */
  readonly created: number;
  readonly jsonResponse: boolean;
}

export function anthropicEventDecoder(options: AnthropicStreamOptions): EventDecoder {
  let id = '';
  let model = '';
  let usage: AnthropicUsage | undefined;
  const blocks = new Map<number, { kind: BlockKind; toolIndex: number }>();
  let nextToolIndex = 0;

  const chunk = (delta: Delta, finishReason: string | null = null): StreamPart => ({
    type: 'chunk',
    chunk: {
      id,
      object: 'chat.completion.chunk',
      created: options.created,
      model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    },
  });

  function parse<T>(schema: { safeParse(value: unknown): ParseResult<T> }, json: unknown, type: string): T {
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    throw upstreamFailure(options.scope, 'malformed', `${type} event: ${describeIssue(parsed.error.issues)}`);
  }

  return {
    decode(event: SseEvent): readonly StreamPart[] {
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        throw upstreamFailure(
          options.scope,
          'malformed',
          `stream event is not JSON (${event.data.length} chars)`,
        );
      }
      const { type } = parse(AnthropicEventEnvelope, json, event.event ?? 'message');
      switch (type) {
        case 'message_start': {
          const { message } = parse(MessageStartEvent, json, type);
          id = message.id;
          model = message.model;
          usage = message.usage ?? undefined;
          return [chunk({ role: 'assistant', content: '' })];
        }
        case 'content_block_start': {
          const { index, content_block: block } = parse(ContentBlockStartEvent, json, type);
          if (block.type === 'tool_use' && block.id !== undefined && block.name !== undefined) {
            if (options.jsonResponse && block.name === JSON_RESPONSE_TOOL) {
              blocks.set(index, { kind: 'json', toolIndex: -1 });
              return NOTHING;
            }
            const toolIndex = nextToolIndex++;
            blocks.set(index, { kind: 'tool', toolIndex });
            const call = {
              index: toolIndex,
              id: block.id,
              type: 'function',
              function: { name: block.name, arguments: '' },
            };
            return [chunk({ tool_calls: [call] })];
          }
          // In JSON mode the content is the tool's input alone: any prose around it is dropped.
          const kind: BlockKind =
            block.type === 'text' && !options.jsonResponse
              ? 'text'
              : block.type === 'thinking'
                ? 'thinking'
                : 'other';
          blocks.set(index, { kind, toolIndex: -1 });
          return kind === 'text' && block.text ? [chunk({ content: block.text })] : NOTHING;
        }
        case 'content_block_delta': {
          const { index, delta } = parse(ContentBlockDeltaEvent, json, type);
          const block = blocks.get(index);
          if (block === undefined) {
            throw upstreamFailure(options.scope, 'malformed', `delta for unknown content block ${index}`);
          }
          if (delta.type === 'text_delta' && delta.text !== undefined && block.kind === 'text') {
            return [chunk({ content: delta.text })];
          }
          if (delta.type === 'input_json_delta' && delta.partial_json !== undefined) {
            if (block.kind === 'json') return [chunk({ content: delta.partial_json })];
            if (block.kind === 'tool') {
              return [
                chunk({
                  tool_calls: [{ index: block.toolIndex, function: { arguments: delta.partial_json } }],
                }),
              ];
            }
          }
          if (delta.type === 'thinking_delta' && delta.thinking !== undefined) {
            return [chunk({ reasoning_content: delta.thinking })];
          }
          return NOTHING;
        }
        case 'message_delta': {
          const message = parse(MessageDeltaEvent, json, type);
          const finish = mapAnthropicStopReason(message.delta.stop_reason, options.jsonResponse);
          const parts: StreamPart[] = [chunk({}, finish)];
          if (message.usage) usage = mergeUsage(usage, message.usage);
          if (usage) {
            const usageChunk = {
              id,
              object: 'chat.completion.chunk',
              created: options.created,
              model,
              choices: [],
            };
            parts.push({ type: 'chunk', chunk: { ...usageChunk, usage: toOpenAIUsage(usage) } });
            parts.push({ type: 'usage', usage: toNormalizedAnthropicUsage(usage) });
          }
          return parts;
        }
        case 'message_stop':
          return DONE;
        case 'error': {
          const { error } = parse(ErrorEvent, json, type);
          throw streamError(error, options.scope);
        }
        default:
          return NOTHING; // ping, content_block_stop and event types newer than this code
      }
    },
  };
}

type ParseResult<T> =
  | { success: true; data: T }
  | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };

/** message_delta carries cumulative counts: its fields win over message_start's where present. */
function mergeUsage(start: AnthropicUsage | undefined, end: AnthropicUsage): AnthropicUsage {
  const merged: AnthropicUsage = { ...start };
  for (const [key, value] of Object.entries(end)) {
    if (value !== null && value !== undefined) merged[key] = value;
  }
  return merged;
}

function streamError(error: { type: string; message: string }, scope: ErrorScope): UpstreamError {
  const message = clip(scrubSecrets(error.message, scope.secrets));
  return new UpstreamError({
    kind: 'http',
    status: statusForAnthropicErrorType(error.type),
    upstreamMessage: message,
    message: `${scope.label} upstream ${scope.host} failed mid-stream (${error.type}): ${message}`,
  });
}
