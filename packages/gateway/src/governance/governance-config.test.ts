import { describe, expect, it } from 'vitest';
import { config, errors, VALID } from '../config/test-helpers.js';

describe('governance: in autocap.yaml', () => {
  it('defaults to a 4,096-token output cap, a 2 s store timeout, and rate limits failing closed', () => {
    expect(config(VALID).governance).toEqual({
      defaultMaxOutputTokens: 4096,
      storeTimeoutMs: 2000,
      rateLimitsOnStoreFailure: 'closed',
    });
  });

  it('reads each setting, and names a bad one', () => {
    const text = `${VALID}governance: {default_max_output_tokens: 1024, store_timeout_ms: 500, rate_limits_on_store_failure: open}\n`;
    expect(config(text).governance).toEqual({
      defaultMaxOutputTokens: 1024,
      storeTimeoutMs: 500,
      rateLimitsOnStoreFailure: 'open',
    });
    expect(errors(`${VALID}governance: {store_timeout_ms: -1}\n`).join('\n')).toMatch(
      /governance\.store_timeout_ms/,
    );
    expect(errors(`${VALID}governance: {rate_limits_on_store_failure: maybe}\n`).join('\n')).toMatch(
      /governance\.rate_limits_on_store_failure/,
    );
    expect(errors(`${VALID}governance: {store_timeout: 5}\n`).join('\n')).toMatch(
      /did you mean governance\.store_timeout_ms/,
    );
  });
});
