import type { LedgerEntry, LedgerEntryInput } from './store.js';

/**
 * The stored form of an entry: its content plus its place in the chain. Written out field by field
 * (not spread) so that every stored entry has one object shape, which keeps the row writers fast.
 */
export function chainEntry(
  entry: LedgerEntryInput,
  chainId: string,
  seq: number,
  prevHash: string,
  hash: string,
): LedgerEntry {
  return {
    id: entry.id,
    requestId: entry.requestId,
    attempt: entry.attempt,
    startedAtMs: entry.startedAtMs,
    keyId: entry.keyId,
    modelRequested: entry.modelRequested,
    modelServed: entry.modelServed,
    provider: entry.provider,
    owned: entry.owned,
    inputTokens: entry.inputTokens,
    cachedInputTokens: entry.cachedInputTokens,
    outputTokens: entry.outputTokens,
    reasoningTokens: entry.reasoningTokens,
    estimated: entry.estimated,
    costUsd: entry.costUsd,
    latencyMs: entry.latencyMs,
    ttftMs: entry.ttftMs,
    status: entry.status,
    errorClass: entry.errorClass,
    upstreamStatus: entry.upstreamStatus,
    streamed: entry.streamed,
    metadata: entry.metadata,
    rawUsage: entry.rawUsage,
    chainId,
    seq,
    prevHash,
    hash,
  };
}
