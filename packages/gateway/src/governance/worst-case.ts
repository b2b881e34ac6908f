/**
 * The most a request can cost, reserved against its budgets before it is forwarded.
 *
 * Prompt: the gateway's token estimate (o200k, or characters / 4 before the tokenizer has loaded)
 * times 1.2 plus 16 tokens, a margin for upstreams whose tokenizers count more than o200k and for
 * framing we cannot see. Output: `max_completion_tokens`, else `max_tokens`, else the model's
 * `max_output_tokens`, else `governance.default_max_output_tokens` (4,096), never more than the
 * model's `max_output_tokens`, times `n`. Priced at each model of the failover chain (input at the
 * dearer of the fresh and cached rates), the worst model counts: only one attempt of a request
 * can return billable tokens, because failed attempts before the first byte bill nothing and a
 * stream that has started is never retried.
 *
 * An estimate, not a proof: a settle charges the real cost, so a prompt that tokenizes larger than
 * estimated (or an upstream that ignores max_tokens) can take spend past a budget by that excess.
 */
import type { ModelConfig } from '../config/config.js';
import { estimatePromptTokens, type TokenEstimateMessage, utf8Bytes } from '../metering/estimate-tokens.js';

export const PROMPT_MARGIN = 1.2;
export const PROMPT_FRAMING_TOKENS = 16;

export interface WorstCaseRequest {
  readonly messages: readonly TokenEstimateMessage[];
  readonly tools?: unknown;
  readonly max_tokens?: number | null | undefined;
  readonly max_completion_tokens?: number | null | undefined;
  readonly n?: number | null | undefined;
}

export interface WorstCase {
  /** Upper estimate of prompt tokens. */
  readonly promptTokens: number;
  readonly costUsd: number;
  /** The model of the chain the cost was priced at, and the output tokens assumed there. */
  readonly model: string;
  readonly outputTokens: number;
}

/** Prompt tokens with the margin above: what rate limits count and budgets price. */
export function promptTokensUpperBound(request: WorstCaseRequest): number {
  const estimate = estimatePromptTokens(request.messages, request.tools ?? undefined);
  return Math.ceil(estimate * PROMPT_MARGIN) + PROMPT_FRAMING_TOKENS;
}

/**
 * A ceiling of `promptTokensUpperBound` with no tokenizer run: UTF-8 bytes in place of tokens. The
 * guard admits with it when a lease has room for it, and tokenizes only when it has not.
 */
export function promptTokensCeiling(request: WorstCaseRequest): number {
  const bytes = estimatePromptTokens(request.messages, request.tools ?? undefined, utf8Bytes);
  return Math.ceil(bytes * PROMPT_MARGIN) + PROMPT_FRAMING_TOKENS;
}

/** Output tokens a request may produce on `model` (all `n` choices together). */
export function maxOutputTokens(
  request: WorstCaseRequest,
  model: Pick<ModelConfig, 'maxOutputTokens'>,
  defaultMaxOutputTokens: number,
): number {
  const asked = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  const cap = model.maxOutputTokens;
  const perChoice =
    asked === undefined ? (cap ?? defaultMaxOutputTokens) : cap === undefined ? asked : Math.min(asked, cap);
  return perChoice * (request.n ?? 1);
}

export function worstCaseCost(
  request: WorstCaseRequest,
  chain: readonly Pick<ModelConfig, 'name' | 'price' | 'maxOutputTokens'>[],
  defaultMaxOutputTokens: number,
  promptTokens: number = promptTokensUpperBound(request),
): WorstCase {
  let worst: WorstCase = { promptTokens, costUsd: 0, model: chain[0]?.name ?? '', outputTokens: 0 };
  for (const model of chain) {
    const outputTokens = maxOutputTokens(request, model, defaultMaxOutputTokens);
    const inputRate = Math.max(model.price.inputPerMtokUsd, model.price.cachedInputPerMtokUsd);
    const costUsd = (promptTokens * inputRate + outputTokens * model.price.outputPerMtokUsd) / 1e6;
    if (costUsd > worst.costUsd) worst = { promptTokens, costUsd, model: model.name, outputTokens };
  }
  return worst;
}
