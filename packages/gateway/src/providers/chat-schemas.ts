/**
 * The OpenAI Chat Completions wire format, as the gateway accepts it from clients (`ChatRequest`) and
 * as it reads it from OpenAI-compatible upstreams (`ChatCompletion`, `ChatCompletionChunk`).
 *
 * Requests: every known field has its type checked; unknown fields pass through unchanged (loose
 * objects), so a new OpenAI option reaches the upstream without a gateway release. Responses are
 * tolerant of real servers (vLLM, llama.cpp, Ollama omit or null many fields) but a body without
 * `choices` is rejected. Schemas are flat (no transforms, no refinements): request validation runs
 * once per request on the hot path.
 */
import { z } from 'zod';
import type { NormalizedUsage } from './provider.js';

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

const TextPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const ImagePart = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.looseObject({ url: z.string(), detail: z.string().nullish() }),
});
const AudioPart = z.looseObject({
  type: z.literal('input_audio'),
  input_audio: z.looseObject({ data: z.string(), format: z.string() }),
});
const FilePart = z.looseObject({
  type: z.literal('file'),
  file: z.looseObject({
    file_data: z.string().nullish(),
    file_id: z.string().nullish(),
    filename: z.string().nullish(),
  }),
});
const RefusalPart = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });

export const ContentPart = z.discriminatedUnion('type', [TextPart, ImagePart, AudioPart, FilePart]);
export type ContentPart = z.infer<typeof ContentPart>;

const TextContent = z.union([z.string(), z.array(TextPart)]);

const ToolCall = z.discriminatedUnion('type', [
  z.looseObject({
    id: z.string(),
    type: z.literal('function'),
    function: z.looseObject({ name: z.string(), arguments: z.string() }),
  }),
  z.looseObject({
    id: z.string(),
    type: z.literal('custom'),
    custom: z.looseObject({ name: z.string(), input: z.string() }),
  }),
]);
export type ToolCall = z.infer<typeof ToolCall>;

const SystemMessage = z.looseObject({
  role: z.literal('system'),
  content: TextContent,
  name: z.string().nullish(),
});
const DeveloperMessage = z.looseObject({
  role: z.literal('developer'),
  content: TextContent,
  name: z.string().nullish(),
});
const UserMessage = z.looseObject({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(ContentPart)]),
  name: z.string().nullish(),
});
const AssistantMessage = z.looseObject({
  role: z.literal('assistant'),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPart, RefusalPart]))]).nullish(),
  refusal: z.string().nullish(),
  name: z.string().nullish(),
  tool_calls: z.array(ToolCall).nullish(),
  function_call: z.looseObject({ name: z.string(), arguments: z.string() }).nullish(),
});
const ToolMessage = z.looseObject({
  role: z.literal('tool'),
  content: TextContent,
  tool_call_id: z.string(),
});
/** Legacy function-calling result (deprecated by OpenAI, still accepted). */
const FunctionMessage = z.looseObject({
  role: z.literal('function'),
  content: z.string().nullable(),
  name: z.string(),
});

export const ChatMessage = z.discriminatedUnion('role', [
  SystemMessage,
  DeveloperMessage,
  UserMessage,
  AssistantMessage,
  ToolMessage,
  FunctionMessage,
]);
export type ChatMessage = z.infer<typeof ChatMessage>;

const FunctionTool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string(),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});
const CustomTool = z.looseObject({
  type: z.literal('custom'),
  custom: z.looseObject({ name: z.string(), description: z.string().nullish() }),
});
export const ChatTool = z.discriminatedUnion('type', [FunctionTool, CustomTool]);
export type ChatTool = z.infer<typeof ChatTool>;

const ToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
  z.looseObject({ type: z.literal('custom'), custom: z.looseObject({ name: z.string() }) }),
  z.looseObject({ type: z.literal('allowed_tools'), allowed_tools: z.looseObject({}) }),
]);
export type ToolChoice = z.infer<typeof ToolChoice>;

const ResponseFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: z.string(),
      description: z.string().nullish(),
      schema: z.record(z.string(), z.unknown()).nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);
export type ResponseFormat = z.infer<typeof ResponseFormat>;

/** A key a client may not send: the gateway, not the caller, chooses the upstream and its key. */
function forbidden(field: string) {
  return z
    .never({ error: `\`${field}\` is not accepted: the gateway chooses the upstream; remove the field` })
    .optional();
}

const tokenCount = z.number().int().nonnegative();

export const ChatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(ChatMessage).min(1),
  tools: z.array(ChatTool).nullish(),
  tool_choice: ToolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  functions: z.array(z.looseObject({ name: z.string() })).nullish(),
  function_call: z.union([z.string(), z.looseObject({ name: z.string() })]).nullish(),
  response_format: ResponseFormat.nullish(),
  n: z.number().int().min(1).nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  max_tokens: tokenCount.nullish(),
  max_completion_tokens: tokenCount.nullish(),
  temperature: z.number().min(0).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  seed: z.number().int().nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  user: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  reasoning_effort: z.string().nullish(),
  service_tier: z.string().nullish(),
  store: z.boolean().nullish(),
  modalities: z.array(z.string()).nullish(),
  api_base: forbidden('api_base'),
  base_url: forbidden('base_url'),
  baseURL: forbidden('baseURL'),
  api_key: forbidden('api_key'),
  custom_host: forbidden('custom_host'),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

/** Whether the client asked for a usage chunk at the end of its stream (providers always ask upstream). */
export function requestedStreamUsage(request: ChatRequest): boolean {
  return request.stream_options?.include_usage === true;
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

export const OpenAIUsage = z.looseObject({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  total_tokens: z.number().nullish(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().nullish() }).nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().nullish() }).nullish(),
});
export type OpenAIUsage = z.infer<typeof OpenAIUsage>;

const ResponseToolCall = z.looseObject({
  id: z.string(),
  type: z.string().nullish(),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

export const ChatCompletion = z.looseObject({
  id: z.string().optional(),
  object: z.string().optional(),
  created: z.number().optional(),
  model: z.string().optional(),
  choices: z.array(
    z.looseObject({
      index: z.number().int().optional(),
      message: z.looseObject({
        role: z.string().optional(),
        content: z.string().nullish(),
        refusal: z.string().nullish(),
        reasoning_content: z.string().nullish(),
        tool_calls: z.array(ResponseToolCall).nullish(),
      }),
      finish_reason: z.string().nullish(),
      logprobs: z.unknown().optional(),
    }),
  ),
  usage: OpenAIUsage.nullish(),
  system_fingerprint: z.string().nullish(),
  service_tier: z.string().nullish(),
});
export type ChatCompletion = z.infer<typeof ChatCompletion>;

const ChunkToolCall = z.looseObject({
  index: z.number().int(),
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.looseObject({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
});

export const ChatCompletionChunk = z.looseObject({
  id: z.string().optional(),
  object: z.string().optional(),
  created: z.number().optional(),
  model: z.string().optional(),
  choices: z.array(
    z.looseObject({
      index: z.number().int().optional(),
      delta: z
        .looseObject({
          role: z.string().nullish(),
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          reasoning_content: z.string().nullish(),
          tool_calls: z.array(ChunkToolCall).nullish(),
        })
        .optional(),
      finish_reason: z.string().nullish(),
      logprobs: z.unknown().optional(),
    }),
  ),
  usage: OpenAIUsage.nullish(),
  system_fingerprint: z.string().nullish(),
  service_tier: z.string().nullish(),
});
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunk>;

/** OpenAI's error envelope; also the shape the gateway answers its own clients with. */
export const OpenAIErrorBody = z.looseObject({
  error: z.looseObject({
    message: z.string(),
    type: z.string().nullish(),
    param: z.string().nullish(),
    code: z.union([z.string(), z.number()]).nullish(),
  }),
});
export type OpenAIErrorBody = z.infer<typeof OpenAIErrorBody>;

/** Variants seen from OpenAI-compatible servers: Ollama `{error: "…"}`, old vLLM `{message}`, FastAPI `{detail}`. */
const LooseErrorBody = z.looseObject({
  error: z.string().optional(),
  message: z.string().optional(),
  detail: z.string().optional(),
});

/** The human message in an OpenAI-compatible error body, or `undefined` when there is none. */
export function openAIErrorMessage(body: unknown): string | undefined {
  const canonical = OpenAIErrorBody.safeParse(body);
  if (canonical.success) return canonical.data.error.message;
  const loose = LooseErrorBody.safeParse(body);
  if (!loose.success) return undefined;
  return loose.data.error ?? loose.data.message ?? loose.data.detail;
}

/** OpenAI usage to the gateway's normalized form; absent or null fields stay `undefined`. */
export function toNormalizedUsage(usage: OpenAIUsage): NormalizedUsage {
  return {
    inputTokens: usage.prompt_tokens ?? undefined,
    cachedInputTokens: usage.prompt_tokens_details?.cached_tokens ?? undefined,
    outputTokens: usage.completion_tokens ?? undefined,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? undefined,
    raw: usage,
  };
}

/** What a provider reports when the upstream sent no usage at all. */
export const NO_USAGE: NormalizedUsage = Object.freeze({
  inputTokens: undefined,
  cachedInputTokens: undefined,
  outputTokens: undefined,
  reasoningTokens: undefined,
  raw: undefined,
});
