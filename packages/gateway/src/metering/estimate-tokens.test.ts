import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  countTextTokens,
  estimateCompletionTokens,
  estimatePromptTokens,
  preloadTokenizer,
  tokenizerStatus,
} from './estimate-tokens.js';

describe('token estimates (o200k_base)', () => {
  it('loads the tokenizer lazily', async () => {
    await preloadTokenizer();
    expect(tokenizerStatus()).toBe('o200k_base');
  });

  it('counts text with the GPT-4o encoding', () => {
    // o200k_base: "Hello" "," " world" "!" = 4 tokens.
    expect(countTextTokens('Hello, world!')).toBe(4);
    expect(estimateCompletionTokens('')).toBe(0);
    expect(estimateCompletionTokens('Hello, world!')).toBe(4);
  });

  it('treats special-token text in a prompt as ordinary text', () => {
    expect(countTextTokens('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('adds 3 tokens per message and 3 to prime the reply, as in the OpenAI cookbook', () => {
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Hello, world!' },
    ];
    const expected =
      3 + // reply priming
      (3 + countTextTokens('system') + countTextTokens('You are terse.')) +
      (3 + countTextTokens('user') + countTextTokens('Hello, world!'));
    expect(estimatePromptTokens(messages)).toBe(expected);
  });

  it('counts names, text parts, images, tool calls and tool definitions', () => {
    const base = estimatePromptTokens([{ role: 'user', content: 'hi' }]);
    expect(estimatePromptTokens([{ role: 'user', content: 'hi', name: 'ann' }])).toBe(
      base + 1 + countTextTokens('ann'),
    );
    expect(estimatePromptTokens([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }])).toBe(base);
    expect(
      estimatePromptTokens([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image_url', image_url: { url: 'data:...' } },
          ],
        },
      ]),
    ).toBe(base + 85);
    const withCall = estimatePromptTokens([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
    ]);
    expect(withCall).toBe(
      3 +
        3 +
        countTextTokens('assistant') +
        countTextTokens('get_weather') +
        countTextTokens('{"city":"Oslo"}'),
    );
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
    expect(estimatePromptTokens([{ role: 'user', content: 'hi' }], tools)).toBe(
      base + countTextTokens(JSON.stringify(tools)),
    );
  });

  it('is in the right range for ordinary English (about 4 characters per token)', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(20);
    const tokens = estimateCompletionTokens(text);
    expect(tokens).toBeGreaterThan(text.length / 6);
    expect(tokens).toBeLessThan(text.length / 3);
  });
});

describe('loading the tokenizer', () => {
  afterEach(() => {
    vi.doUnmock('node:module');
    vi.resetModules();
  });

  it('loads on the first count when nothing preloaded it', async () => {
    vi.resetModules();
    const fresh = await import('./estimate-tokens.js');
    expect(fresh.tokenizerStatus()).toBe('not loaded');
    expect(fresh.countTextTokens('Hello, world!')).toBe(4);
    expect(fresh.tokenizerStatus()).toBe('o200k_base');
  });

  it('falls back to 4 characters per token when gpt-tokenizer cannot be loaded', async () => {
    vi.resetModules();
    vi.doMock('node:module', () => ({
      createRequire: () => () => {
        throw new Error('Cannot find module gpt-tokenizer');
      },
    }));
    const fresh = await import('./estimate-tokens.js');
    expect(fresh.countTextTokens('abcdefghi')).toBe(3);
    expect(fresh.tokenizerStatus()).toBe('chars/4 heuristic');
  });
});
