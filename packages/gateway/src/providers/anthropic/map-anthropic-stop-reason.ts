/** OpenAI `finish_reason` values the gateway emits for translated Anthropic answers. */
export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/**
 * Anthropic `stop_reason` → OpenAI `finish_reason`. When the answer was forced through the JSON
 * response tool (`response_format`), its `tool_use` stop is a normal `stop` for the client.
 */
export function mapAnthropicStopReason(
  stopReason: string | null | undefined,
  jsonResponse = false,
): OpenAIFinishReason {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn': // a server tool paused the turn: what came so far is a complete answer
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return jsonResponse ? 'stop' : 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}
