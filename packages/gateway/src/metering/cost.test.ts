import { describe, expect, it } from 'vitest';
import type { ModelPrice } from '../config/config.js';
import { costUsd } from './cost.js';

const GPT_4O: ModelPrice = {
  inputPerMtokUsd: 2.5,
  outputPerMtokUsd: 10,
  cachedInputPerMtokUsd: 1.25,
  source: 'price-table',
};

describe('costUsd', () => {
  it('bills fresh input, cached input and output at their own rates', () => {
    // 1,000 input of which 400 cached, 500 output:
    // (600 x 2.5 + 400 x 1.25 + 500 x 10) / 1e6 = (1500 + 500 + 5000) / 1e6 = $0.007
    const cost = costUsd(GPT_4O, { inputTokens: 1000, cachedInputTokens: 400, outputTokens: 500 });
    expect(cost).toBeCloseTo(0.007, 15);
  });

  it('is zero for no tokens and for an unpriced model', () => {
    expect(costUsd(GPT_4O, { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 })).toBe(0);
    const unpriced: ModelPrice = {
      inputPerMtokUsd: 0,
      outputPerMtokUsd: 0,
      cachedInputPerMtokUsd: 0,
      source: 'unpriced',
    };
    expect(costUsd(unpriced, { inputTokens: 1e6, cachedInputTokens: 0, outputTokens: 1e6 })).toBe(0);
  });

  it('prices a million tokens at the per-Mtok rate', () => {
    expect(costUsd(GPT_4O, { inputTokens: 1e6, cachedInputTokens: 0, outputTokens: 1e6 })).toBeCloseTo(
      12.5,
      12,
    );
  });

  it('never bills negative fresh input when a provider reports more cached than input', () => {
    // Cached is capped at input: 100 cached x 1.25 / 1e6.
    expect(costUsd(GPT_4O, { inputTokens: 100, cachedInputTokens: 500, outputTokens: 0 })).toBeCloseTo(
      0.000125,
      15,
    );
  });
});
