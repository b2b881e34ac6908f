/**
 * The Anthropic Messages API (`POST /v1/messages`, `anthropic-version: 2023-06-01`): the request
 * the gateway builds (plain types: we construct it) and zod schemas for everything Anthropic sends
 * back. Response schemas are loose: new block and event types appear without a version bump.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Request (built by anthropic-translate.ts)
// ---------------------------------------------------------------------------------------------

export type AnthropicSource =
  | { readonly type: 'base64'; readonly media_type: string; readonly data: string }
  | { readonly type: 'url'; readonly url: string };

export type AnthropicTextBlock = { readonly type: 'text'; readonly text: string };

export type AnthropicContentBlock =
  | AnthropicTextBlock
  | { readonly type: 'image'; readonly source: AnthropicSource }
  | { readonly type: 'document'; readonly source: AnthropicSource; readonly title?: string }
  | { readonly type: 'tool_use'; readonly id: string; readonly name: string; readonly input: unknown }
  | {
      readonly type: 'tool_result';
      readonly tool_use_id: string;
      readonly content: string | readonly AnthropicTextBlock[];
    };

export interface AnthropicMessage {
  readonly role: 'user' | 'assistant';
  readonly content: AnthropicContentBlock[];
}

export interface AnthropicTool {
  readonly name: string;
  readonly description?: string;
  readonly input_schema: Record<string, unknown>;
}

export type AnthropicToolChoice =
  | { readonly type: 'auto' | 'any'; readonly disable_parallel_tool_use?: boolean }
  | { readonly type: 'none' }
  | { readonly type: 'tool'; readonly name: string; readonly disable_parallel_tool_use?: boolean };

export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  metadata?: { user_id: string };
  stream?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

export const AnthropicUsage = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
});
export type AnthropicUsage = z.infer<typeof AnthropicUsage>;

/** One flat schema for every block type: unknown types (server tools, citations) are skipped by type. */
export const AnthropicResponseBlock = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  thinking: z.string().optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  input: z.unknown().optional(),
});
export type AnthropicResponseBlock = z.infer<typeof AnthropicResponseBlock>;

export const AnthropicMessageResponse = z.looseObject({
  id: z.string(),
  type: z.string().optional(),
  role: z.string().optional(),
  model: z.string(),
  content: z.array(AnthropicResponseBlock),
  stop_reason: z.string().nullish(),
  stop_sequence: z.string().nullish(),
  usage: AnthropicUsage.nullish(),
});
export type AnthropicMessageResponse = z.infer<typeof AnthropicMessageResponse>;

export const AnthropicErrorBody = z.looseObject({
  type: z.string().optional(),
  error: z.looseObject({ type: z.string(), message: z.string() }),
});
export type AnthropicErrorBody = z.infer<typeof AnthropicErrorBody>;

export function anthropicErrorMessage(body: unknown): string | undefined {
  const parsed = AnthropicErrorBody.safeParse(body);
  return parsed.success ? parsed.data.error.message : undefined;
}

/**
 * The HTTP status an error `type` stands for: a mid-stream `error` event has no status of its own,
 * and the router needs one to decide whether another attempt may help.
 */
export function statusForAnthropicErrorType(type: string): number | undefined {
  switch (type) {
    case 'invalid_request_error':
      return 400;
    case 'authentication_error':
      return 401;
    case 'permission_error':
      return 403;
    case 'not_found_error':
      return 404;
    case 'request_too_large':
      return 413;
    case 'rate_limit_error':
      return 429;
    case 'api_error':
      return 500;
    case 'overloaded_error':
      return 529;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Stream events
// ---------------------------------------------------------------------------------------------

/** Read first: its `type` picks the specific schema; unknown types are ignored (Anthropic's policy). */
export const AnthropicEventEnvelope = z.looseObject({ type: z.string() });

export const MessageStartEvent = z.looseObject({
  type: z.literal('message_start'),
  message: z.looseObject({ id: z.string(), model: z.string(), usage: AnthropicUsage.nullish() }),
});

export const ContentBlockStartEvent = z.looseObject({
  type: z.literal('content_block_start'),
  index: z.number().int().nonnegative(),
  content_block: AnthropicResponseBlock,
});

export const ContentBlockDeltaEvent = z.looseObject({
  type: z.literal('content_block_delta'),
  index: z.number().int().nonnegative(),
  delta: z.looseObject({
    type: z.string(),
    text: z.string().optional(),
    partial_json: z.string().optional(),
    thinking: z.string().optional(),
  }),
});

export const MessageDeltaEvent = z.looseObject({
  type: z.literal('message_delta'),
  delta: z.looseObject({ stop_reason: z.string().nullish(), stop_sequence: z.string().nullish() }),
  usage: AnthropicUsage.nullish(),
});

export const ErrorEvent = z.looseObject({
  type: z.literal('error'),
  error: z.looseObject({ type: z.string(), message: z.string() }),
});
