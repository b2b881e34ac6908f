import { describe, expect, it } from 'vitest';
import { loadPriceTable, lookupPrice, parsePriceTable, pricingProvider } from './prices.js';

const table = loadPriceTable();
const keyOf = (model: string, provider: string | undefined): string | undefined =>
  lookupPrice(table, model, provider)?.entry.key;

describe('the bundled price table', () => {
  it('parses, says where its figures come from, and lists the models the gateway defaults to', () => {
    expect(table.source).toMatch(/litellm/i);
    for (const model of [
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4.1',
      'gpt-4.1-mini',
      'gpt-4.1-nano',
      'o3',
      'o4-mini',
      'gpt-5',
      'gpt-5-mini',
    ]) {
      expect(keyOf(model, 'openai'), model).toBe(model);
    }
    for (const model of [
      'claude-3-5-haiku',
      'claude-sonnet-4',
      'claude-opus-4',
      'claude-sonnet-4-5',
      'claude-haiku-4-5',
    ]) {
      expect(keyOf(model, 'anthropic'), model).toBe(model);
    }
  });

  it('converts per-token costs to per-Mtok prices without float noise', () => {
    expect(lookupPrice(table, 'gpt-4o', 'openai')?.price).toEqual({
      inputPerMtokUsd: 2.5,
      outputPerMtokUsd: 10,
      cachedInputPerMtokUsd: 1.25,
      source: 'price-table',
    });
    // No cached rate listed: cached input costs what input costs.
    expect(lookupPrice(table, 'llama-3.1-8b-instant', 'groq')?.price.cachedInputPerMtokUsd).toBe(0.05);
  });
});

describe('lookupPrice', () => {
  it('strips provider prefixes', () => {
    expect(keyOf('openai/gpt-4o', 'openai')).toBe('gpt-4o');
    expect(keyOf('openai/gpt-4o', undefined)).toBe('gpt-4o');
    expect(keyOf('anthropic/claude-sonnet-4-5', 'anthropic')).toBe('claude-sonnet-4-5');
  });

  it('strips dated and alias suffixes', () => {
    expect(keyOf('gpt-4o-2024-08-06', 'openai')).toBe('gpt-4o');
    expect(keyOf('gpt-4o-mini-2024-07-18', 'openai')).toBe('gpt-4o-mini');
    expect(keyOf('claude-sonnet-4-5-20250929', 'anthropic')).toBe('claude-sonnet-4-5');
    expect(keyOf('claude-sonnet-4-20250514', 'anthropic')).toBe('claude-sonnet-4');
    expect(keyOf('claude-3-5-haiku-latest', 'anthropic')).toBe('claude-3-5-haiku');
    expect(keyOf('claude-3-5-haiku@20241022', 'anthropic')).toBe('claude-3-5-haiku');
    expect(keyOf('claude-opus-4-0', 'anthropic')).toBe('claude-opus-4');
    expect(keyOf('openai/gpt-4.1-mini-2025-04-14', 'openai-compatible')).toBe('gpt-4.1-mini');
  });

  it('does not mistake a version number for a date', () => {
    // claude-sonnet-4-5 must not fall to claude-sonnet-4 (different model, same price today).
    expect(keyOf('claude-sonnet-4-5', 'anthropic')).toBe('claude-sonnet-4-5');
    expect(keyOf('claude-opus-4-1-20250805', 'anthropic')).toBe('claude-opus-4-1');
  });

  it('prefers an exact dated row priced differently from its family', () => {
    expect(lookupPrice(table, 'gpt-4o-2024-05-13', 'openai')?.price.inputPerMtokUsd).toBe(5);
  });

  it('finds provider-keyed rows by the bare name', () => {
    expect(keyOf('deepseek-chat', 'deepseek')).toBe('deepseek/deepseek-chat');
    expect(keyOf('deepseek-chat', undefined)).toBe('deepseek/deepseek-chat');
    expect(keyOf('meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo', 'together_ai')).toBe(
      'together_ai/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo',
    );
    expect(keyOf('GPT-4O', 'openai')).toBe('gpt-4o');
  });

  it('keeps to the provider asked for', () => {
    expect(keyOf('deepseek-chat', 'openai')).toBeUndefined();
    expect(keyOf('gpt-4o', 'anthropic')).toBeUndefined();
    expect(keyOf('deepseek/deepseek-chat', 'groq')).toBeUndefined();
  });

  it('returns undefined for unknown models', () => {
    expect(lookupPrice(table, 'llama3.2:latest', undefined)).toBeUndefined();
    expect(lookupPrice(table, '', undefined)).toBeUndefined();
    expect(lookupPrice(table, 'constructor', undefined)).toBeUndefined();
  });
});

describe('pricingProvider', () => {
  it('maps providers and known API hosts to LiteLLM provider names', () => {
    expect(pricingProvider('openai', 'https://api.openai.com/v1')).toBe('openai');
    expect(pricingProvider('anthropic', 'https://api.anthropic.com/v1')).toBe('anthropic');
    expect(pricingProvider('openai-compatible', 'https://api.deepseek.com/v1')).toBe('deepseek');
    expect(pricingProvider('openai-compatible', 'https://api.groq.com/openai/v1')).toBe('groq');
    expect(pricingProvider('openai-compatible', 'http://127.0.0.1:8000/v1')).toBeUndefined();
    expect(pricingProvider('openai-compatible', 'http://constructor/v1')).toBeUndefined();
  });
});

describe('parsePriceTable', () => {
  it('skips notes, the sample spec and non-chat rows, and refuses malformed chat rows', () => {
    const parsed = parsePriceTable({
      _source: 'test',
      sample_spec: { input_cost_per_token: 'n/a' },
      'dall-e-3': { output_cost_per_image: 0.04, litellm_provider: 'openai', mode: 'image_generation' },
      'text-embedding-3-small': {
        input_cost_per_token: 2e-8,
        output_cost_per_token: 0,
        litellm_provider: 'openai',
        mode: 'embedding',
      },
      'my-model': {
        input_cost_per_token: 1e-6,
        output_cost_per_token: 2e-6,
        litellm_provider: 'openai',
        mode: 'chat',
      },
    });
    expect(parsed.ok && [...parsed.table.entries.keys()]).toEqual(['my-model']);
    expect(parsed.ok && parsed.table.source).toBe('test');
    const bad = parsePriceTable({
      broken: { input_cost_per_token: -1, litellm_provider: 'x', mode: 'chat' },
    });
    expect(bad.ok).toBe(false);
    expect(parsePriceTable([]).ok).toBe(false);
  });
});
