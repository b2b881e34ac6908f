import { describe, expect, it } from 'vitest';
import type { ModelPrice } from '../config/config.js';
import { preloadTokenizer } from '../metering/estimate-tokens.js';
import { formatInstant, formatUsd } from './limit-messages.js';
import { maxOutputTokens, promptTokensCeiling, promptTokensUpperBound, worstCaseCost } from './worst-case.js';

const price = (input: number, output: number, cached = input / 2): ModelPrice => ({
  inputPerMtokUsd: input,
  outputPerMtokUsd: output,
  cachedInputPerMtokUsd: cached,
  source: 'config',
});
const cheap = { name: 'cheap', price: price(1, 2), maxOutputTokens: undefined };
const dear = { name: 'dear', price: price(3, 15), maxOutputTokens: 200 };
const messages = [{ role: 'user', content: '' }];

describe('worst-case cost of a request', () => {
  it('prices max_tokens at the output rate and the prompt bound at the input rate', () => {
    // (100 * $1 + 500 * $2) / 1e6
    const worst = worstCaseCost({ messages, max_tokens: 500 }, [cheap], 4096, 100);
    expect(worst).toEqual({ promptTokens: 100, costUsd: 0.0011, model: 'cheap', outputTokens: 500 });
  });

  it('takes the most expensive model of the failover chain, capped at its max_output_tokens', () => {
    // dear: min(500, 200) = 200 out: (100 * 3 + 200 * 15) / 1e6 = 0.0033 > cheap's 0.0011
    expect(worstCaseCost({ messages, max_tokens: 500 }, [cheap, dear], 4096, 100)).toMatchObject({
      model: 'dear',
      outputTokens: 200,
      costUsd: 0.0033,
    });
    // Without max_tokens, cheap may write the default 4,096: (100 + 8192) / 1e6 = 0.008292
    expect(worstCaseCost({ messages }, [cheap, dear], 4096, 100)).toMatchObject({
      model: 'cheap',
      outputTokens: 4096,
      costUsd: 0.008292,
    });
  });

  it('prefers max_completion_tokens, multiplies by n, and bills input at the dearer of fresh and cached', () => {
    expect(maxOutputTokens({ messages, max_tokens: 50, max_completion_tokens: 70 }, cheap, 4096)).toBe(70);
    expect(maxOutputTokens({ messages, max_tokens: 50, n: 3 }, cheap, 4096)).toBe(150);
    expect(maxOutputTokens({ messages }, dear, 4096)).toBe(200);
    expect(maxOutputTokens({ messages, max_tokens: null }, cheap, 1000)).toBe(1000);
    const oddCache = { name: 'odd', price: price(1, 0, 4), maxOutputTokens: undefined };
    expect(worstCaseCost({ messages, max_tokens: 1 }, [oddCache], 4096, 1000).costUsd).toBe(0.004);
  });

  it('bounds the prompt at the estimate times 1.2 plus 16 tokens', () => {
    // 3 to prime the reply + 3 for the message + 1 for "user" = 7; ceil(7 * 1.2) + 16 = 25
    expect(promptTokensUpperBound({ messages })).toBe(25);
    expect(worstCaseCost({ messages, max_tokens: 0 }, [cheap], 4096).promptTokens).toBe(25);
  });

  it('an empty chain costs nothing', () => {
    expect(worstCaseCost({ messages }, [], 4096, 10).costUsd).toBe(0);
  });
});

describe('money and time in limit messages', () => {
  it('shows cents when exact and enough digits otherwise', () => {
    expect([49.98, 0.4, 0.005, 0.00201, 1].map(formatUsd)).toEqual([
      '$49.98',
      '$0.40',
      '$0.005',
      '$0.00201',
      '$1.00',
    ]);
  });

  it('spells instants as ISO 8601 UTC without milliseconds', () => {
    expect(formatInstant(Date.UTC(2026, 10, 24))).toBe('2026-11-24T00:00:00Z');
  });

  it('has a tokenizer-free ceiling that is never below the tokenized bound', async () => {
    await preloadTokenizer();
    const texts = [
      'hi',
      'The quick brown fox jumps over the lazy dog. '.repeat(40),
      '数据中心的资本回报率取决于利用率。'.repeat(20),
      '🙂🚀 emoji and ascii mixed 🙂'.repeat(10),
      '{"a":[1,2,3],"b":"x"}'.repeat(30),
      '\u0000 tabs\t and\nnewlines   spaced     out',
    ];
    for (const text of texts) {
      const request = {
        messages: [
          { role: 'system', content: text },
          {
            role: 'user',
            content: [
              { type: 'text', text },
              { type: 'image_url', image_url: { url: 'x' } },
            ],
          },
        ],
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      };
      const bound = promptTokensUpperBound(request);
      const ceiling = promptTokensCeiling(request);
      expect(ceiling).toBeGreaterThanOrEqual(bound);
      // ... and a ceiling, not a guess: UTF-8 bytes, framed as the estimate frames tokens.
      expect(ceiling).toBeLessThanOrEqual(Math.ceil((2 * Buffer.byteLength(text) + 200) * 1.2) + 16);
    }
  });
});
