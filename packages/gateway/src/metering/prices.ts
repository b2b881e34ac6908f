/**
 * The bundled price table (LiteLLM's `model_prices_and_context_window.json` format, curated in
 * `price-table.json`) and a tolerant lookup: clients and configs name models as `gpt-4o`,
 * `openai/gpt-4o`, `gpt-4o-2024-08-06` or `claude-sonnet-4-5-20250929`, and all of these should
 * find the same row. A config's `price:` overrides whatever the table says.
 */
import { z } from 'zod';
import type { ModelPrice } from '../config/config.js';
import type { ProviderId } from '../providers/provider.js';
import bundledTable from './price-table.json' with { type: 'json' };

/** One row as LiteLLM writes it; unknown fields (supports_*, source, ...) pass through unread. */
const PriceTableRow = z.looseObject({
  input_cost_per_token: z.number().nonnegative(),
  output_cost_per_token: z.number().nonnegative(),
  cache_read_input_token_cost: z.number().nonnegative().optional(),
  max_input_tokens: z.number().int().positive().optional(),
  max_output_tokens: z.number().int().positive().optional(),
  litellm_provider: z.string().min(1),
  mode: z.string().optional(),
});

export interface PriceTableEntry {
  /** The key as written in the table, e.g. `deepseek/deepseek-chat`. */
  readonly key: string;
  readonly inputCostPerToken: number;
  readonly outputCostPerToken: number;
  readonly cacheReadInputTokenCost: number | undefined;
  readonly maxInputTokens: number | undefined;
  readonly maxOutputTokens: number | undefined;
  /** LiteLLM's provider name: `openai`, `anthropic`, `deepseek`, `groq`, `together_ai`, ... */
  readonly provider: string;
}

export interface PriceTable {
  /** Keyed by the lower-cased table key. */
  readonly entries: ReadonlyMap<string, PriceTableEntry>;
  /** Every provider named in the table, in first-seen order (used to strip `provider/` prefixes). */
  readonly providers: readonly string[];
  /** The table's `_source` note. */
  readonly source: string;
}

export type PriceTableResult = { ok: true; table: PriceTable } | { ok: false; errors: string[] };

/**
 * Parses a document in LiteLLM's format. Keys starting with `_` (our notes) and LiteLLM's
 * `sample_spec` are skipped, as are rows that are not chat models or lack per-token prices (image
 * and embedding rows in a full LiteLLM file), so the upstream file can be dropped in as it is.
 */
export function parsePriceTable(document: unknown): PriceTableResult {
  const root = z.record(z.string(), z.unknown()).safeParse(document);
  if (!root.success) return { ok: false, errors: ['the price table is not a JSON object of model rows'] };
  const entries = new Map<string, PriceTableEntry>();
  const providers: string[] = [];
  const errors: string[] = [];
  let source = '';
  for (const [key, value] of Object.entries(root.data)) {
    if (key === '_source' && typeof value === 'string') source = value;
    if (key.startsWith('_') || key === 'sample_spec') continue;
    const row = PriceTableRow.safeParse(value);
    if (!row.success) {
      const isChat = typeof value === 'object' && value !== null && Reflect.get(value, 'mode') === 'chat';
      if (isChat) errors.push(`price table row "${key}": ${row.error.issues[0]?.message ?? 'invalid'}`);
      continue;
    }
    if (row.data.mode !== undefined && row.data.mode !== 'chat') continue;
    const entry: PriceTableEntry = {
      key,
      inputCostPerToken: row.data.input_cost_per_token,
      outputCostPerToken: row.data.output_cost_per_token,
      cacheReadInputTokenCost: row.data.cache_read_input_token_cost,
      maxInputTokens: row.data.max_input_tokens,
      maxOutputTokens: row.data.max_output_tokens,
      provider: row.data.litellm_provider,
    };
    entries.set(key.toLowerCase(), entry);
    if (!providers.includes(entry.provider)) providers.push(entry.provider);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, table: { entries, providers, source } };
}

let bundled: PriceTable | undefined;

/** The table shipped with the gateway (parsed once). A malformed bundled table is a bug: it throws. */
export function loadPriceTable(): PriceTable {
  if (bundled) return bundled;
  const result = parsePriceTable(bundledTable);
  if (!result.ok) throw new Error(`bundled price-table.json is invalid: ${result.errors.join('; ')}`);
  bundled = result.table;
  return bundled;
}

/**
 * Hosts of OpenAI-compatible APIs whose prices the table lists, so an `openai-compatible` model
 * pointing at them is priced without a `price:` block. Data, not a branch per provider.
 */
const PRICING_PROVIDER_BY_HOST: ReadonlyMap<string, string> = new Map([
  ['api.openai.com', 'openai'],
  ['api.anthropic.com', 'anthropic'],
  ['api.deepseek.com', 'deepseek'],
  ['api.groq.com', 'groq'],
  ['api.together.xyz', 'together_ai'],
  ['api.together.ai', 'together_ai'],
]);

const PRICING_PROVIDER_BY_ID: Readonly<Record<ProviderId, string | undefined>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  // Any server speaking the OpenAI protocol: the host (if known) says whose prices apply.
  'openai-compatible': undefined,
};

/** The LiteLLM provider whose prices apply to a configured model, if one can be told. */
export function pricingProvider(provider: ProviderId, baseUrl: string): string | undefined {
  const byId = PRICING_PROVIDER_BY_ID[provider];
  if (byId) return byId;
  try {
    return PRICING_PROVIDER_BY_HOST.get(new URL(baseUrl).hostname.toLowerCase());
  } catch {
    return undefined;
  }
}

/** Dated and alias suffixes vendors append to a model family's name. */
const VERSION_SUFFIXES: readonly RegExp[] = [
  /-\d{4}-\d{2}-\d{2}$/, // gpt-4o-2024-08-06
  /[-@]\d{8}$/, // claude-sonnet-4-5-20250929, claude-3-5-haiku@20241022 (Vertex)
  /-\d{4}$/, // gpt-4-0613, gpt-3.5-turbo-0125
  /-latest$/, // claude-3-5-haiku-latest
  /-0$/, // claude-sonnet-4-0, Anthropic's alias for claude-sonnet-4
];

/** The name, then the name without each suffix in turn (a dated name may end in `-latest` too). */
function nameVariants(name: string): string[] {
  const variants = [name];
  let current = name;
  for (let changed = true; changed; ) {
    changed = false;
    for (const suffix of VERSION_SUFFIXES) {
      const stripped = current.replace(suffix, '');
      if (stripped !== current && stripped.length > 0) {
        variants.push(stripped);
        current = stripped;
        changed = true;
      }
    }
  }
  return variants;
}

export interface PriceMatch {
  readonly entry: PriceTableEntry;
  /** The entry's figures per million tokens (cached input at the input price when not listed). */
  readonly price: ModelPrice;
}

/** Per-token USD to per-Mtok USD, without float noise such as 2.4999999999999996. */
const perMtok = (perToken: number): number => Number((perToken * 1e6).toPrecision(12));

export function priceFromEntry(entry: PriceTableEntry): ModelPrice {
  return {
    inputPerMtokUsd: perMtok(entry.inputCostPerToken),
    outputPerMtokUsd: perMtok(entry.outputCostPerToken),
    cachedInputPerMtokUsd: perMtok(entry.cacheReadInputTokenCost ?? entry.inputCostPerToken),
    source: 'price-table',
  };
}

/**
 * Finds a model's row. `provider` is a LiteLLM provider name (`openai`, `deepseek`, ...), one of
 * our ProviderIds, or undefined for "any". Tried in order, case-insensitively: the exact key; the
 * name without a leading `provider/`; `provider/name`; then each with dated or alias suffixes
 * stripped (`gpt-4o-2024-08-06` -> `gpt-4o`). An exact dated row (`gpt-4o-2024-05-13`, priced
 * differently) wins over its family because exact keys are tried first.
 */
export function lookupPrice(
  table: PriceTable,
  upstreamModel: string,
  provider: string | undefined,
): PriceMatch | undefined {
  // Our ProviderIds `openai` and `anthropic` are also LiteLLM's names; `openai-compatible` means any.
  const providerFilter = provider === 'openai-compatible' ? undefined : provider?.toLowerCase();
  const name = upstreamModel.trim().toLowerCase();
  if (name === '') return undefined;

  // `openai/gpt-4o`: a leading segment naming a provider is a hint, not part of the model's name.
  const bases: { name: string; provider: string | undefined }[] = [{ name, provider: providerFilter }];
  const slash = name.indexOf('/');
  if (slash > 0) {
    const prefix = name.slice(0, slash);
    const known = table.providers.find((candidate) => candidate.toLowerCase() === prefix);
    if (known && (providerFilter === undefined || providerFilter === known)) {
      bases.push({ name: name.slice(slash + 1), provider: known });
    }
  }

  const accepts = (entry: PriceTableEntry, filter: string | undefined): boolean =>
    filter === undefined || entry.provider.toLowerCase() === filter.toLowerCase();

  for (const base of bases) {
    for (const variant of nameVariants(base.name)) {
      const exact = table.entries.get(variant);
      if (exact && accepts(exact, base.provider)) return { entry: exact, price: priceFromEntry(exact) };
      const prefixes = base.provider === undefined ? table.providers : [base.provider];
      for (const prefix of prefixes) {
        const prefixed = table.entries.get(`${prefix.toLowerCase()}/${variant}`);
        if (prefixed && accepts(prefixed, base.provider)) {
          return { entry: prefixed, price: priceFromEntry(prefixed) };
        }
      }
    }
  }
  return undefined;
}
