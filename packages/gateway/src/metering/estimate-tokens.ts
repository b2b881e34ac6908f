/**
 * Token counts for attempts whose upstream reported no usage (a stream without a usage chunk, a
 * client that went away): the ledger entry is then marked `estimated`. Counts use OpenAI's
 * o200k_base encoding (gpt-tokenizer), which is exact for GPT-4o-family models and a close
 * estimate for others (Llama, Claude and DeepSeek tokenizers differ by roughly ±15% on English).
 *
 * The encoding's tables take ~200 ms and several MB to load, so they are loaded on first use (or
 * by `preloadTokenizer()` off the hot path), never at startup. If the package cannot be loaded the
 * functions fall back to the common rule of thumb of 4 characters per token, and
 * `tokenizerStatus()` says so.
 */
import { createRequire } from 'node:module';

interface Encoding {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
}

/** The module path (gpt-tokenizer's package exports map it to its CJS or ESM build). */
const ENCODING_MODULE = 'gpt-tokenizer/encoding/o200k_base';
/** OpenAI cookbook (`num_tokens_from_messages`): each message is wrapped in 3 framing tokens. */
const TOKENS_PER_MESSAGE = 3;
/** ...a `name` costs one more... */
const TOKENS_PER_NAME = 1;
/** ...and every reply is primed with `<|start|>assistant<|message|>`. */
const REPLY_PRIMING_TOKENS = 3;
/** OpenAI bills a low-detail image at 85 tokens; a floor, since detail and size are unknown here. */
const TOKENS_PER_IMAGE = 85;
const CHARACTERS_PER_TOKEN = 4;
/** Text such as `<|endoftext|>` inside a prompt is ordinary text, not a special token. */
const NO_SPECIAL_TOKENS = { disallowedSpecial: new Set<string>() };

let encoding: Encoding | undefined;
let status: 'not loaded' | 'o200k_base' | 'chars/4 heuristic' = 'not loaded';

function isEncoding(value: unknown): value is Encoding {
  return (
    typeof value === 'object' && value !== null && typeof Reflect.get(value, 'countTokens') === 'function'
  );
}

function load(): Encoding | undefined {
  if (status !== 'not loaded') return encoding;
  try {
    const loaded: unknown = createRequire(import.meta.url)(ENCODING_MODULE);
    if (isEncoding(loaded)) {
      encoding = loaded;
      status = 'o200k_base';
      return encoding;
    }
  } catch {
    // Not installed, or a bundle without node_modules: fall through to the heuristic.
  }
  status = 'chars/4 heuristic';
  return undefined;
}

/** Loads the encoding ahead of the first estimate (call once after the server is listening). */
export async function preloadTokenizer(): Promise<void> {
  if (status !== 'not loaded') return;
  try {
    const loaded: unknown = await import('gpt-tokenizer/encoding/o200k_base');
    if (isEncoding(loaded) && status === 'not loaded') {
      encoding = loaded;
      status = 'o200k_base';
    }
  } catch {
    load();
  }
}

/** How counts are being made: the real tokenizer, the fallback heuristic, or not yet decided. */
export function tokenizerStatus(): 'not loaded' | 'o200k_base' | 'chars/4 heuristic' {
  return status;
}

/** Tokens in a piece of text (o200k_base, or ceil(characters / 4) when the tokenizer is missing). */
export function countTextTokens(text: string): number {
  if (text === '') return 0;
  const loaded = load();
  return loaded ? loaded.countTokens(text, NO_SPECIAL_TOKENS) : Math.ceil(text.length / CHARACTERS_PER_TOKEN);
}

/** The fields of a chat message that cost tokens; ChatRequest's messages fit this shape. */
export interface TokenEstimateMessage {
  readonly role: string;
  readonly content?: unknown;
  readonly name?: unknown;
  readonly tool_calls?: unknown;
  readonly function_call?: unknown;
  readonly tool_call_id?: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Counts the tokens of one piece of text. */
type TextCounter = (text: string) => number;

/** UTF-8 bytes: never fewer than the tokens of any byte-level BPE, and much cheaper to count. */
export const utf8Bytes: TextCounter = (text) => Buffer.byteLength(text, 'utf8');

/** Text parts count as text; images at a floor; audio and files are not counted (unknown size). */
function contentTokens(content: unknown, count: TextCounter): number {
  if (typeof content === 'string') return count(content);
  if (!Array.isArray(content)) return 0;
  let total = 0;
  for (const part of content) {
    if (!isRecord(part)) continue;
    const text = part['text'] ?? part['refusal'];
    if (typeof text === 'string') total += count(text);
    else if (part['type'] === 'image_url') total += TOKENS_PER_IMAGE;
  }
  return total;
}

/** A tool call is billed as its name and JSON arguments (plus framing we cannot see: an estimate). */
function callTokens(call: unknown, count: TextCounter): number {
  if (!isRecord(call)) return 0;
  const body = isRecord(call['function'])
    ? call['function']
    : isRecord(call['custom'])
      ? call['custom']
      : call;
  let total = 0;
  for (const key of ['name', 'arguments', 'input']) {
    const value = body[key];
    if (typeof value === 'string') total += count(value);
  }
  return total;
}

/**
 * Prompt tokens of a chat request, after the OpenAI cookbook: 3 per message, the tokens of each
 * field's text, 1 per `name`, and 3 to prime the reply. `tools` (the request's tool definitions)
 * are counted as their JSON text, an approximation of how providers render them. `count` counts
 * each piece of text: the tokenizer by default, `utf8Bytes` for a cheap ceiling of it.
 */
export function estimatePromptTokens(
  messages: readonly TokenEstimateMessage[],
  tools?: unknown,
  count: TextCounter = countTextTokens,
): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + count(message.role) + contentTokens(message.content, count);
    if (typeof message.name === 'string') total += TOKENS_PER_NAME + count(message.name);
    if (typeof message.tool_call_id === 'string') total += count(message.tool_call_id);
    if (Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls) total += callTokens(call, count);
    }
    total += callTokens(message.function_call, count);
  }
  if (Array.isArray(tools) && tools.length > 0) total += count(JSON.stringify(tools));
  return total;
}

/** Tokens of generated text (the concatenated content, reasoning and tool-call deltas of a reply). */
export function estimateCompletionTokens(text: string): number {
  return countTextTokens(text);
}
