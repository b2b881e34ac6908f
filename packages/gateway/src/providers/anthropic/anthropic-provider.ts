/**
 * The Anthropic Messages API behind the OpenAI wire format: requests are translated by
 * anthropic-translate.ts, answers and streams come back as OpenAI chat completions and chunks.
 */
import { NO_USAGE } from '../chat-schemas.js';
import { type EventDecoder, toChatStream } from '../chat-stream.js';
import { createUpstreamPool, postJson, postJsonStream, type UpstreamCall } from '../http-upstream.js';
import { describeIssue, type ErrorScope, upstreamFailure } from '../http-upstream-errors.js';
import type { CallContext, ChatResult, ChatStream, ProviderSettings, ProviderV1 } from '../provider.js';
import { AnthropicMessageResponse, anthropicErrorMessage } from './anthropic-schemas.js';
import { anthropicEventDecoder } from './anthropic-stream.js';
import {
  fromAnthropicMessage,
  toAnthropicRequest,
  toNormalizedAnthropicUsage,
} from './anthropic-translate.js';

export const ANTHROPIC_VERSION = '2023-06-01';

export interface AnthropicProviderOptions {
  /** Clock for `created` (Anthropic sends no timestamp); milliseconds since the epoch. */
  readonly now?: () => number;
}

export function createAnthropicProvider(
  settings: ProviderSettings,
  options: AnthropicProviderOptions = {},
): ProviderV1 {
  const now = options.now ?? Date.now;
  const pool = createUpstreamPool(settings.baseUrl, { maxConnections: settings.maxConnections });
  const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION };
  if (settings.apiKey !== undefined) headers['x-api-key'] = settings.apiKey;
  const scope: ErrorScope = { label: 'anthropic', host: pool.host, secrets: [settings.apiKey] };

  function call(body: unknown, context: CallContext): UpstreamCall {
    return {
      path: '/messages',
      headers,
      body,
      context,
      label: scope.label,
      secrets: scope.secrets,
      errorMessage: anthropicErrorMessage,
      now,
    };
  }

  return {
    specificationVersion: 'v1',
    id: 'anthropic',
    async doChat(request, context): Promise<ChatResult> {
      const { body, jsonResponse } = toAnthropicRequest(request, settings.upstreamModel);
      const response = await postJson(pool, call(body, context));
      const parsed = AnthropicMessageResponse.safeParse(response.body);
      if (!parsed.success) {
        const detail = `response is not a message (${describeIssue(parsed.error.issues)})`;
        throw upstreamFailure(scope, 'malformed', detail);
      }
      const message = parsed.data;
      const completion = fromAnthropicMessage(message, { created: Math.floor(now() / 1000), jsonResponse });
      const usage = message.usage ? toNormalizedAnthropicUsage(message.usage) : NO_USAGE;
      return { completion, usage, status: response.status };
    },
    async doStream(request, context): Promise<ChatStream> {
      const { body, jsonResponse } = toAnthropicRequest(request, settings.upstreamModel);
      const response = await postJsonStream(pool, call({ ...body, stream: true }, context));
      const decoder: EventDecoder = anthropicEventDecoder({
        scope,
        created: Math.floor(now() / 1000),
        jsonResponse,
      });
      return toChatStream(response, decoder, { scope, terminator: 'message_stop' });
    },
    close: () => pool.close(),
  };
}
