/**
 * Any server that speaks OpenAI Chat Completions: OpenAI itself, vLLM, llama.cpp, Ollama, SGLang,
 * TGI. The client's request is forwarded as is, with `model` replaced by the upstream's name. For
 * streams `stream_options.include_usage` is always set so the gateway can meter every stream; the
 * client's own choice stays on its (unmodified) request, see `requestedStreamUsage`, and the
 * gateway decides whether to forward the usage chunk.
 */
import { parseChatCompletion } from '../chat-fast-path.js';
import {
  ChatCompletionChunk,
  NO_USAGE,
  OpenAIErrorBody,
  openAIErrorMessage,
  toNormalizedUsage,
} from '../chat-schemas.js';
import { type EventDecoder, toChatStream } from '../chat-stream.js';
import { createUpstreamPool, postJson, postJsonStream, type UpstreamCall } from '../http-upstream.js';
import {
  clip,
  describeIssue,
  type ErrorScope,
  scrubSecrets,
  upstreamFailure,
} from '../http-upstream-errors.js';
import type {
  CallContext,
  ChatResult,
  ChatStream,
  ProviderSettings,
  ProviderV1,
  StreamPart,
} from '../provider.js';
import { UpstreamError } from '../upstream-error.js';

export function createOpenAICompatibleProvider(
  settings: ProviderSettings,
  id: 'openai-compatible' | 'openai' = 'openai-compatible',
): ProviderV1 {
  const pool = createUpstreamPool(settings.baseUrl, { maxConnections: settings.maxConnections });
  const headers: Record<string, string> =
    settings.apiKey === undefined ? {} : { authorization: `Bearer ${settings.apiKey}` };
  const scope: ErrorScope = { label: id, host: pool.host, secrets: [settings.apiKey] };

  function call(body: unknown, context: CallContext): UpstreamCall {
    return {
      path: '/chat/completions',
      headers,
      body,
      context,
      label: id,
      secrets: scope.secrets,
      errorMessage: openAIErrorMessage,
    };
  }

  return {
    specificationVersion: 'v1',
    id,
    async doChat(request, context): Promise<ChatResult> {
      // OpenAI rejects stream_options on a non-streaming call.
      const { stream: _stream, stream_options: _streamOptions, ...rest } = request;
      const response = await postJson(pool, call({ ...rest, model: settings.upstreamModel }, context));
      const parsed = parseChatCompletion(response.body);
      if (!parsed.success) {
        const detail = `response is not a chat.completion (${describeIssue(parsed.error.issues)})`;
        throw upstreamFailure(scope, 'malformed', detail);
      }
      const completion = parsed.data;
      const usage = completion.usage ? toNormalizedUsage(completion.usage) : NO_USAGE;
      return { completion, usage, status: response.status, body: response.bytes };
    },
    async doStream(request, context): Promise<ChatStream> {
      const body = {
        ...request,
        model: settings.upstreamModel,
        stream: true,
        stream_options: { ...request.stream_options, include_usage: true },
      };
      const response = await postJsonStream(pool, call(body, context));
      return toChatStream(response, openAIEventDecoder(scope), { scope, terminator: '[DONE]' });
    },
    close: () => pool.close(),
  };
}

const DONE: readonly StreamPart[] = [{ type: 'done' }];

/** `data: {chunk}` → a chunk part (and a usage part when it carries usage); `data: [DONE]` → done. */
export function openAIEventDecoder(scope: ErrorScope): EventDecoder {
  return {
    decode(event) {
      if (event.data === '[DONE]') return DONE;
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        throw upstreamFailure(scope, 'malformed', `stream chunk is not JSON (${event.data.length} chars)`);
      }
      const parsed = ChatCompletionChunk.safeParse(json);
      if (!parsed.success) {
        const error = OpenAIErrorBody.safeParse(json);
        if (error.success) throw streamError(error.data, scope);
        const detail = `stream chunk is not a chat.completion.chunk (${describeIssue(parsed.error.issues)})`;
        throw upstreamFailure(scope, 'malformed', detail);
      }
      const chunk = parsed.data;
      if (!chunk.usage) return [{ type: 'chunk', chunk }];
      return [
        { type: 'chunk', chunk },
        { type: 'usage', usage: toNormalizedUsage(chunk.usage) },
      ];
    },
  };
}

/** `{"error": …}` after a 2xx: vLLM and OpenAI send it when generation fails midway. */
function streamError(body: OpenAIErrorBody, scope: ErrorScope): UpstreamError {
  const { code, type } = body.error;
  const status =
    typeof code === 'number' && code >= 400 && code < 600
      ? code
      : type === 'server_error' || type === 'internal_error'
        ? 500
        : undefined;
  const message = clip(scrubSecrets(body.error.message, scope.secrets));
  return new UpstreamError({
    kind: 'http',
    status,
    upstreamMessage: message,
    message: `${scope.label} upstream ${scope.host} failed mid-stream: ${message}`,
  });
}
