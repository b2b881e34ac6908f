/** Ledger entries for tests: deterministic, and varied enough to exercise every column. */
import type { LedgerEntryInput } from '../store/store.js';

/** The n-th sample entry (n >= 0), with `overrides` applied. */
export function sampleLedgerEntry(n: number, overrides: Partial<LedgerEntryInput> = {}): LedgerEntryInput {
  const failed = n % 7 === 3;
  return {
    id: `att_${n.toString().padStart(6, '0')}`,
    requestId: `req_${Math.floor(n / 2)}`,
    attempt: (n % 2) + 1,
    startedAtMs: 1_767_225_600_000 + n * 1_250,
    keyId: `key_${n % 3}`,
    modelRequested: n % 4 === 0 ? 'auto' : 'llama-3.3-70b',
    modelServed: n % 2 === 0 ? 'llama-3.3-70b' : 'gpt-4.1-mini',
    provider: n % 2 === 0 ? 'vllm' : 'openai',
    owned: n % 2 === 0,
    inputTokens: 100 + n,
    cachedInputTokens: n % 5 === 0 ? 64 : 0,
    outputTokens: failed ? 0 : 20 + (n % 50),
    reasoningTokens: n % 9 === 0 ? 12 : 0,
    estimated: n % 11 === 0,
    costUsd: (100 + n) * 1.5e-7 + 0.1 * (n % 3),
    latencyMs: 120.25 + n,
    ttftMs: n % 2 === 0 ? 35.5 : null,
    status: failed ? 'error' : 'ok',
    errorClass: failed ? 'timeout' : null,
    upstreamStatus: failed ? null : 200,
    streamed: n % 2 === 1,
    metadata: n % 3 === 0 ? { task: 'summarize', team: 'search' } : {},
    rawUsage: failed ? null : JSON.stringify({ prompt_tokens: 100 + n, completion_tokens: 20 + (n % 50) }),
    ...overrides,
  };
}

/** `count` sample entries starting at `first`, ids prefixed so that separate runs never collide. */
export function sampleLedgerEntries(count: number, first = 0, prefix = ''): LedgerEntryInput[] {
  return Array.from({ length: count }, (_, index) => {
    const entry = sampleLedgerEntry(first + index);
    return prefix === '' ? entry : { ...entry, id: `${prefix}${entry.id}` };
  });
}
