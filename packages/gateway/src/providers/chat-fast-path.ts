/**
 * Hand-written checks for the common shapes of a chat request (plain text messages, scalar options)
 * and of a chat.completion (text answers): each returns the value when the zod schema in
 * chat-schemas.ts would accept it unchanged, and undefined for anything else, which then goes to
 * zod. They are only ever stricter than the schemas (property tests compare the two), and save
 * zod's generic walk on every request: about 5 us of the request path for the request and 3 us for
 * the answer on the benchmark machine.
 */
import type { z } from 'zod';
import { ChatCompletion, ChatRequest } from './chat-schemas.js';

type Check = (value: unknown) => boolean;

/** A JSON object; the named fields are the ones read below by name. */
type Fields = Record<string, unknown> &
  Partial<
    Record<
      | 'model'
      | 'messages'
      | 'role'
      | 'tool_call_id'
      | 'include_usage'
      | 'id'
      | 'object'
      | 'created'
      | 'choices'
      | 'index'
      | 'message'
      | 'finish_reason'
      | 'usage'
      | 'system_fingerprint'
      | 'service_tier',
      unknown
    >
  >;

const isRecord = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isString: Check = (value) => typeof value === 'string';
const isBoolean: Check = (value) => typeof value === 'boolean';
const isFiniteNumber: Check = (value) => typeof value === 'number' && Number.isFinite(value);
const isInteger: Check = (value) => Number.isSafeInteger(value);
const atLeast =
  (check: Check, min: number): Check =>
  (value) =>
    check(value) && (value as number) >= min;
const nullish =
  (check: Check): Check =>
  (value) =>
    value === null || value === undefined || check(value);

const nullishString = nullish(isString);
const nullishNumber = nullish(isFiniteNumber);
const nullishBoolean = nullish(isBoolean);

/** Request fields with a scalar (or string-array, or string-record) type, all nullish. */
const REQUEST_SCALARS: Readonly<Record<string, Check>> = {
  max_tokens: nullish(atLeast(isInteger, 0)),
  max_completion_tokens: nullish(atLeast(isInteger, 0)),
  temperature: nullish(atLeast(isFiniteNumber, 0)),
  top_p: nullish((value) => isFiniteNumber(value) && (value as number) >= 0 && (value as number) <= 1),
  presence_penalty: nullishNumber,
  frequency_penalty: nullishNumber,
  seed: nullish(isInteger),
  n: nullish(atLeast(isInteger, 1)),
  top_logprobs: nullish(atLeast(isInteger, 0)),
  logprobs: nullishBoolean,
  stream: nullishBoolean,
  store: nullishBoolean,
  parallel_tool_calls: nullishBoolean,
  user: nullishString,
  reasoning_effort: nullishString,
  service_tier: nullishString,
  stop: nullish((value) => isString(value) || (Array.isArray(value) && value.every(isString))),
  metadata: nullish((value) => isRecord(value) && Object.values(value).every(isString)),
  stream_options: nullish((value) => isRecord(value) && nullishBoolean(value.include_usage)),
};

/** Message keys the fast path knows, per role; any other key (tool calls, parts) goes to zod. */
const MESSAGE_KEYS: Readonly<Record<string, Readonly<Record<string, Check>>>> = {
  system: { content: isString, name: nullishString },
  developer: { content: isString, name: nullishString },
  user: { content: isString, name: nullishString },
  assistant: { content: nullishString, name: nullishString },
  tool: { content: isString, tool_call_id: isString },
};

function isPlainMessage(message: unknown): boolean {
  if (!isRecord(message) || typeof message.role !== 'string') return false;
  const role = message.role;
  const keys = Object.hasOwn(MESSAGE_KEYS, role) ? MESSAGE_KEYS[role] : undefined;
  if (keys === undefined || !Object.hasOwn(message, 'content')) return false;
  for (const key in message) {
    if (key === 'role') continue;
    const check = Object.hasOwn(keys, key) ? keys[key] : undefined;
    if (check === undefined || !check(message[key])) return false;
  }
  return role !== 'tool' || Object.hasOwn(message, 'tool_call_id');
}

/** The body as a ChatRequest when its shape is a common one that the schema accepts, else undefined. */
export function plainChatRequest(body: unknown): ChatRequest | undefined {
  if (!isRecord(body) || Object.hasOwn(body, '__proto__')) return undefined;
  if (typeof body.model !== 'string' || body.model.length === 0) return undefined;
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0 || !messages.every(isPlainMessage)) return undefined;
  for (const key in body) {
    if (key === 'model' || key === 'messages') continue;
    const check = Object.hasOwn(REQUEST_SCALARS, key) ? REQUEST_SCALARS[key] : undefined;
    // Known fields with structure (tools, response_format, ...) and the refused upstream fields
    // are zod's to judge; other unknown fields pass through, as the loose schema lets them.
    if (check === undefined) {
      if (KNOWN_TO_ZOD.has(key)) return undefined;
    } else if (!check(body[key])) return undefined;
  }
  return body as ChatRequest;
}

/**
 * Every other field the schema names (tools, response_format, the refused upstream fields, and any
 * added later), read from the schema itself so that a new field can never slip past unchecked.
 */
const KNOWN_TO_ZOD: ReadonlySet<string> = new Set(
  Object.keys(ChatRequest.shape).filter(
    (key) => key !== 'model' && key !== 'messages' && !Object.hasOwn(REQUEST_SCALARS, key),
  ),
);

const optional =
  (check: Check): Check =>
  (value) =>
    value === undefined || check(value);
// Built once: these run on every answer.
const optionalString = optional(isString);
const optionalNumber = optional(isFiniteNumber);
const optionalInteger = optional(isInteger);

const USAGE_COUNTS = ['prompt_tokens', 'completion_tokens', 'total_tokens'] as const;
/** Usage detail objects and the count each holds. */
const USAGE_DETAILS = [
  ['prompt_tokens_details', 'cached_tokens'],
  ['completion_tokens_details', 'reasoning_tokens'],
] as const;

function isPlainUsage(usage: unknown): boolean {
  if (usage === null || usage === undefined) return true;
  if (!isRecord(usage)) return false;
  for (const key of USAGE_COUNTS) if (!nullishNumber(usage[key])) return false;
  for (const [key, inner] of USAGE_DETAILS) {
    const details = usage[key];
    if (details === null || details === undefined) continue;
    if (!isRecord(details) || !nullishNumber(details[inner])) return false;
  }
  return true;
}

const MESSAGE_FIELDS: readonly (readonly [string, Check])[] = [
  ['role', optionalString],
  ['content', nullishString],
  ['refusal', nullishString],
  ['reasoning_content', nullishString],
  // Tool calls have their own shape: zod's.
  ['tool_calls', (value) => value === null || value === undefined],
];

function isPlainChoice(choice: unknown): boolean {
  if (!isRecord(choice) || !optionalInteger(choice.index)) return false;
  if (!nullishString(choice.finish_reason)) return false;
  const message = choice.message;
  return isRecord(message) && MESSAGE_FIELDS.every(([key, check]) => check(message[key]));
}

/** A chat.completion body of the common (text answer) shape that the schema accepts, else undefined. */
export function plainChatCompletion(body: unknown): ChatCompletion | undefined {
  if (!isRecord(body) || Object.hasOwn(body, '__proto__')) return undefined;
  if (!optionalString(body.id) || !optionalString(body.object)) return undefined;
  if (!optionalNumber(body.created) || !optionalString(body.model)) return undefined;
  if (!nullishString(body.system_fingerprint) || !nullishString(body.service_tier)) return undefined;
  const choices = body.choices;
  if (!Array.isArray(choices) || !choices.every(isPlainChoice) || !isPlainUsage(body.usage)) return undefined;
  return body as ChatCompletion;
}

/** ChatRequest.safeParse, through the fast path when the body has a common shape. */
export function parseChatRequest(body: unknown): z.ZodSafeParseResult<ChatRequest> {
  const plain = plainChatRequest(body);
  return plain === undefined ? ChatRequest.safeParse(body) : { success: true, data: plain };
}

/** ChatCompletion.safeParse, through the fast path when the body has a common shape. */
export function parseChatCompletion(body: unknown): z.ZodSafeParseResult<ChatCompletion> {
  const plain = plainChatCompletion(body);
  return plain === undefined ? ChatCompletion.safeParse(body) : { success: true, data: plain };
}
