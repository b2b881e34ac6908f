/**
 * Rows of the SQLite store and their mapping to store records. Readers are strict: a column that
 * holds the wrong type (a hand-edited file) throws instead of passing a wrong value on.
 */
import { type DataClass, hasAnyLimit, type KeyRole, type Limits, NO_LIMITS } from '../governance-types.js';
import type { ChainHead, LedgerEntry, VerifyResult, VirtualKeyRecord } from '../store.js';

export type SqlValue = string | number | bigint | Buffer | null;
type LedgerColumn = (typeof LEDGER_COLUMNS)[number];
export type LedgerRow = Record<LedgerColumn, SqlValue>;
export type KeyRow = Record<(typeof KEY_COLUMNS)[number], SqlValue>;

// biome-ignore format: one column list, read as a table
export const KEY_COLUMNS = [
  'id', 'hash', 'name', 'created_at_ms', 'expires_at_ms', 'allowed_models', 'revoked', 'team_id',
  'role', 'metadata', 'budget_daily_usd', 'budget_monthly_usd', 'budget_total_usd', 'rpm', 'tpm',
  'max_concurrent', 'data_class', 'created_by',
] as const;
/** Limits fields and their columns, shared by keys and teams. */
export const LIMIT_COLUMNS = [
  ['budgetDailyUsd', 'budget_daily_usd'],
  ['budgetMonthlyUsd', 'budget_monthly_usd'],
  ['budgetTotalUsd', 'budget_total_usd'],
  ['rpm', 'rpm'],
  ['tpm', 'tpm'],
  ['maxConcurrent', 'max_concurrent'],
] as const satisfies readonly (readonly [keyof Limits, string])[];
export type HeadRow = Record<'chain_id' | 'seq' | 'hash', SqlValue>;

// biome-ignore format: one column list, read as a table
export const LEDGER_COLUMNS = [
  'chain_id', 'seq', 'id', 'request_id', 'attempt', 'started_at_ms', 'key_id', 'model_requested',
  'model_served', 'provider', 'owned', 'input_tokens', 'cached_input_tokens', 'output_tokens',
  'reasoning_tokens', 'estimated', 'cost_usd', 'latency_ms', 'ttft_ms', 'status', 'error_class',
  'upstream_status', 'streamed', 'metadata', 'raw_usage', 'prev_hash', 'hash',
] as const;
export const SELECT_LEDGER = `SELECT ${LEDGER_COLUMNS.join(', ')} FROM ledger`;
export const SELECT_HEADS = 'SELECT chain_id, seq, hash FROM chain_heads ORDER BY chain_id';

/** An entry's values in LEDGER_COLUMNS order: bound by position, which is cheaper than by name. */
export function toLedgerValues(entry: LedgerEntry): SqlValue[] {
  return [
    entry.chainId,
    entry.seq,
    entry.id,
    entry.requestId,
    entry.attempt,
    entry.startedAtMs,
    entry.keyId,
    entry.modelRequested,
    entry.modelServed,
    entry.provider,
    entry.owned ? 1 : 0,
    entry.inputTokens,
    entry.cachedInputTokens,
    entry.outputTokens,
    entry.reasoningTokens,
    entry.estimated ? 1 : 0,
    entry.costUsd,
    entry.latencyMs,
    entry.ttftMs,
    entry.status,
    entry.errorClass,
    entry.upstreamStatus,
    entry.streamed ? 1 : 0,
    JSON.stringify(entry.metadata),
    entry.rawUsage,
    entry.prevHash,
    entry.hash,
  ];
}

export function toLedgerEntry(row: LedgerRow): LedgerEntry {
  const status = readText(row, 'status');
  if (status !== 'ok' && status !== 'error' && status !== 'client_disconnected') {
    throw new Error(`ledger row has an unknown status ${JSON.stringify(status)}`);
  }
  return {
    chainId: readText(row, 'chain_id'),
    seq: readNumber(row, 'seq'),
    id: readText(row, 'id'),
    requestId: readText(row, 'request_id'),
    attempt: readNumber(row, 'attempt'),
    startedAtMs: readNumber(row, 'started_at_ms'),
    keyId: readText(row, 'key_id'),
    modelRequested: readText(row, 'model_requested'),
    modelServed: readText(row, 'model_served'),
    provider: readText(row, 'provider'),
    owned: readBoolean(row, 'owned'),
    inputTokens: readNumber(row, 'input_tokens'),
    cachedInputTokens: readNumber(row, 'cached_input_tokens'),
    outputTokens: readNumber(row, 'output_tokens'),
    reasoningTokens: readNumber(row, 'reasoning_tokens'),
    estimated: readBoolean(row, 'estimated'),
    costUsd: readNumber(row, 'cost_usd'),
    latencyMs: readNumber(row, 'latency_ms'),
    ttftMs: row.ttft_ms === null ? null : readNumber(row, 'ttft_ms'),
    status,
    errorClass: row.error_class === null ? null : readText(row, 'error_class'),
    upstreamStatus: row.upstream_status === null ? null : readNumber(row, 'upstream_status'),
    streamed: readBoolean(row, 'streamed'),
    metadata: parseMetadata(readText(row, 'metadata')),
    rawUsage: row.raw_usage === null ? null : readText(row, 'raw_usage'),
    prevHash: readText(row, 'prev_hash'),
    hash: readText(row, 'hash'),
  };
}

/** Verify reports a row it cannot even read (a tampered column type) instead of throwing. */
export function readForVerify(row: LedgerRow): LedgerEntry | Extract<VerifyResult, { ok: false }> {
  try {
    return toLedgerEntry(row);
  } catch (error) {
    const chainId = String(row.chain_id);
    const seq = Number(row.seq);
    const entryId = typeof row.id === 'string' ? row.id : null;
    const detail = error instanceof Error ? error.message : String(error);
    const message = `chain ${chainId} seq ${seq} (id ${entryId}): entry cannot be read: ${detail}`;
    return { ok: false, chainId, seq, entryId, problem: 'altered', message };
  }
}

export function toChainHead(row: HeadRow): ChainHead {
  return { chainId: readText(row, 'chain_id'), seq: readNumber(row, 'seq'), hash: readText(row, 'hash') };
}

export function toKeyRecord(row: KeyRow): VirtualKeyRecord {
  const limits = readLimits(row);
  const role = readRole(row);
  return {
    id: readText(row, 'id'),
    hash: readText(row, 'hash'),
    name: readText(row, 'name'),
    createdAtMs: readNumber(row, 'created_at_ms'),
    expiresAtMs: row.expires_at_ms === null ? null : readNumber(row, 'expires_at_ms'),
    allowedModels: row.allowed_models === null ? null : parseStringArray(readText(row, 'allowed_models')),
    revoked: readBoolean(row, 'revoked'),
    ...(row.team_id === null ? {} : { teamId: readText(row, 'team_id') }),
    ...(role === 'user' ? {} : { role }),
    ...(row.metadata === null ? {} : { metadata: parseMetadata(readText(row, 'metadata')) }),
    ...(hasAnyLimit(limits) ? { limits } : {}),
    ...(row.data_class === null ? {} : { dataClass: readDataClass(row) }),
    ...(row.created_by === null ? {} : { createdBy: readText(row, 'created_by') }),
  };
}

/** The row to insert for a key: absent governance fields are NULL (role: `user`). */
export function toKeyRow(key: VirtualKeyRecord): KeyRow {
  const limits = key.limits ?? NO_LIMITS;
  return {
    id: key.id,
    hash: key.hash,
    name: key.name,
    created_at_ms: key.createdAtMs,
    expires_at_ms: key.expiresAtMs,
    allowed_models: key.allowedModels === null ? null : JSON.stringify(key.allowedModels),
    revoked: key.revoked ? 1 : 0,
    team_id: key.teamId ?? null,
    role: key.role ?? 'user',
    metadata: key.metadata === undefined ? null : JSON.stringify(key.metadata),
    budget_daily_usd: limits.budgetDailyUsd,
    budget_monthly_usd: limits.budgetMonthlyUsd,
    budget_total_usd: limits.budgetTotalUsd,
    rpm: limits.rpm,
    tpm: limits.tpm,
    max_concurrent: limits.maxConcurrent,
    data_class: key.dataClass ?? null,
    created_by: key.createdBy ?? null,
  };
}

export function readLimits(row: Readonly<Record<string, SqlValue>>): Limits {
  const read = (column: string): number | null => {
    const value = row[column];
    if (value === null || value === undefined) return null;
    if (typeof value !== 'number')
      throw new Error(`column ${column} holds ${typeof value}, expected a number`);
    return value;
  };
  return {
    budgetDailyUsd: read('budget_daily_usd'),
    budgetMonthlyUsd: read('budget_monthly_usd'),
    budgetTotalUsd: read('budget_total_usd'),
    rpm: read('rpm'),
    tpm: read('tpm'),
    maxConcurrent: read('max_concurrent'),
  };
}

export function readDataClass(row: Readonly<Record<string, SqlValue>>): DataClass {
  const value = row['data_class'];
  if (value !== 'private') throw new Error(`column data_class holds ${String(value)}, expected 'private'`);
  return value;
}

function readRole(row: KeyRow): KeyRole {
  const value = row.role;
  if (value !== 'admin' && value !== 'team_admin' && value !== 'user') {
    throw new Error(`column role holds ${String(value)}, expected admin, team_admin or user`);
  }
  return value;
}

export function readText<Column extends string>(row: Record<Column, SqlValue>, column: Column): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`column ${column} holds ${typeof value}, expected text`);
  return value;
}

export function readNumber<Column extends string>(row: Record<Column, SqlValue>, column: Column): number {
  const value = row[column];
  if (typeof value !== 'number') throw new Error(`column ${column} holds ${typeof value}, expected a number`);
  return value;
}

export function readBoolean<Column extends string>(row: Record<Column, SqlValue>, column: Column): boolean {
  const value = row[column];
  if (value !== 0 && value !== 1) throw new Error(`column ${column} holds ${String(value)}, expected 0 or 1`);
  return value === 1;
}

export function parseMetadata(text: string): Readonly<Record<string, string>> {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('column metadata is not a JSON object');
  }
  const pairs: [string, unknown][] = Object.entries(parsed);
  const strings: [string, string][] = [];
  for (const [key, value] of pairs) {
    if (typeof value !== 'string') throw new Error(`metadata ${JSON.stringify(key)} is not a string`);
    strings.push([key, value]);
  }
  // fromEntries defines properties, so a `__proto__` key stays a plain key.
  return Object.fromEntries(strings);
}

function parseStringArray(text: string): readonly string[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === 'string')) {
    throw new Error('column allowed_models is not a JSON array of strings');
  }
  return parsed;
}

/** Opaque to callers: base64url of [chainId, seq]. */
export function encodeCursor(entry: LedgerEntry): string {
  return Buffer.from(JSON.stringify([entry.chainId, entry.seq]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { chainId: string; seq: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (Array.isArray(parsed) && parsed.length === 2) {
    const [chainId, seq]: unknown[] = parsed;
    if (typeof chainId === 'string' && typeof seq === 'number' && Number.isSafeInteger(seq))
      return { chainId, seq };
  }
  throw new Error('invalid ledger cursor: pass the nextCursor of a previous page unchanged');
}
