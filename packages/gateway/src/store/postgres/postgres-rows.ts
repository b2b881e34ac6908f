/**
 * Rows of the PostgreSQL store and their mapping to store records. node-postgres returns bigint as
 * a decimal string (it cannot know the value fits a number), double precision as a number (exact:
 * PostgreSQL 12+ prints the shortest text that round-trips), boolean as a boolean and text[] as an
 * array. Readers are strict: a value of the wrong shape throws instead of passing a wrong value on.
 */
import { type DataClass, hasAnyLimit, type Limits, NO_LIMITS } from '../governance-types.js';
import type { ChainHead, LedgerEntry, VerifyResult, VirtualKeyRecord } from '../store.js';

export type PostgresRow = Record<string, unknown>;

/** Ledger columns in table order. */
// biome-ignore format: one column list, read as a table
export const LEDGER_COLUMNS = [
  'chain_id', 'seq', 'id', 'request_id', 'attempt', 'started_at_ms', 'key_id', 'model_requested',
  'model_served', 'provider', 'owned', 'input_tokens', 'cached_input_tokens', 'output_tokens',
  'reasoning_tokens', 'estimated', 'cost_usd', 'latency_ms', 'ttft_ms', 'status', 'error_class',
  'upstream_status', 'streamed', 'metadata', 'raw_usage', 'prev_hash', 'hash',
] as const;

type LedgerColumn = (typeof LEDGER_COLUMNS)[number];
type ColumnValue = string | number | boolean | null;

/** The SELECT list of ledger rows, for `${selectLedger} FROM <table> ...`. */
export const SELECT_LEDGER_COLUMNS = `SELECT ${LEDGER_COLUMNS.join(', ')}`;

/**
 * `COPY <table> (...) FROM STDIN`, fed with ledgerCopyText. COPY is PostgreSQL's bulk-load path: no
 * statement to plan and no array to parse. Against the INSERT ... SELECT FROM unnest(27 arrays) it
 * replaces, in batches of 80 entries, PostgreSQL spends 1.8x and this client 1.5x the CPU an entry
 * (`npm run bench:ledger`).
 */
export function copyLedgerSql(table: string): string {
  return `COPY ${table} (${LEDGER_COLUMNS.join(', ')}) FROM STDIN`;
}

/**
 * A batch in COPY's text format: one line an entry, columns in LEDGER_COLUMNS order separated by
 * tabs, \N for null. In text, backslash, tab, newline and carriage return are escaped with a
 * backslash; every other character goes as it is (U+0000 cannot: PostgreSQL text refuses it, and
 * the append sets the batch aside naming the field).
 */
export function ledgerCopyText(entries: readonly LedgerEntry[]): string {
  let text = '';
  for (const entry of entries) {
    const values = ledgerValues(entry);
    let line = copyField(values[0] ?? null);
    for (let index = 1; index < values.length; index++) line += `\t${copyField(values[index] ?? null)}`;
    text += `${line}\n`;
  }
  return text;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function copyField(value: ColumnValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'string') {
    return COPY_SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] ?? c) : value;
  }
  if (typeof value === 'boolean') return value ? 't' : 'f';
  // Entries are validated before they are chained: numbers are finite, integers safe, so String()
  // never gives an exponent a bigint column would refuse, and gives floats their shortest exact text.
  return String(value);
}

function ledgerValues(entry: LedgerEntry): ColumnValue[] {
  const row: Record<LedgerColumn, ColumnValue> = {
    chain_id: entry.chainId,
    seq: entry.seq,
    id: entry.id,
    request_id: entry.requestId,
    attempt: entry.attempt,
    started_at_ms: entry.startedAtMs,
    key_id: entry.keyId,
    model_requested: entry.modelRequested,
    model_served: entry.modelServed,
    provider: entry.provider,
    owned: entry.owned,
    input_tokens: entry.inputTokens,
    cached_input_tokens: entry.cachedInputTokens,
    output_tokens: entry.outputTokens,
    reasoning_tokens: entry.reasoningTokens,
    estimated: entry.estimated,
    cost_usd: entry.costUsd,
    latency_ms: entry.latencyMs,
    ttft_ms: entry.ttftMs,
    status: entry.status,
    error_class: entry.errorClass,
    upstream_status: entry.upstreamStatus,
    streamed: entry.streamed,
    // The exact text the hash covers is re-derived from the parsed object on read, so any
    // faithful JSON text works; JSON.stringify escapes U+0000, which PostgreSQL text cannot hold.
    metadata: JSON.stringify(entry.metadata),
    raw_usage: entry.rawUsage,
    prev_hash: entry.prevHash,
    hash: entry.hash,
  };
  return LEDGER_COLUMNS.map((column) => row[column]);
}

export function toLedgerEntry(row: PostgresRow): LedgerEntry {
  const status = readText(row, 'status');
  if (status !== 'ok' && status !== 'error' && status !== 'client_disconnected') {
    throw new Error(`ledger row has an unknown status ${JSON.stringify(status)}`);
  }
  return {
    chainId: readText(row, 'chain_id'),
    seq: readInteger(row, 'seq'),
    id: readText(row, 'id'),
    requestId: readText(row, 'request_id'),
    attempt: readInteger(row, 'attempt'),
    startedAtMs: readInteger(row, 'started_at_ms'),
    keyId: readText(row, 'key_id'),
    modelRequested: readText(row, 'model_requested'),
    modelServed: readText(row, 'model_served'),
    provider: readText(row, 'provider'),
    owned: readBoolean(row, 'owned'),
    inputTokens: readInteger(row, 'input_tokens'),
    cachedInputTokens: readInteger(row, 'cached_input_tokens'),
    outputTokens: readInteger(row, 'output_tokens'),
    reasoningTokens: readInteger(row, 'reasoning_tokens'),
    estimated: readBoolean(row, 'estimated'),
    costUsd: readFloat(row, 'cost_usd'),
    latencyMs: readFloat(row, 'latency_ms'),
    ttftMs: row['ttft_ms'] === null ? null : readFloat(row, 'ttft_ms'),
    status,
    errorClass: row['error_class'] === null ? null : readText(row, 'error_class'),
    upstreamStatus: row['upstream_status'] === null ? null : readInteger(row, 'upstream_status'),
    streamed: readBoolean(row, 'streamed'),
    metadata: parseMetadata(readText(row, 'metadata')),
    rawUsage: row['raw_usage'] === null ? null : readText(row, 'raw_usage'),
    prevHash: readText(row, 'prev_hash'),
    hash: readText(row, 'hash'),
  };
}

/** Verify reports a row it cannot even read (metadata that is not JSON) instead of throwing. */
export function readForVerify(row: PostgresRow): LedgerEntry | Extract<VerifyResult, { ok: false }> {
  try {
    return toLedgerEntry(row);
  } catch (error) {
    const chainId = String(row['chain_id']);
    const seq = Number(row['seq']);
    const entryId = typeof row['id'] === 'string' ? row['id'] : null;
    const detail = error instanceof Error ? error.message : String(error);
    const message = `chain ${chainId} seq ${seq} (id ${entryId}): entry cannot be read: ${detail}`;
    return { ok: false, chainId, seq, entryId, problem: 'altered', message };
  }
}

export function toChainHead(row: PostgresRow): ChainHead {
  return { chainId: readText(row, 'chain_id'), seq: readInteger(row, 'seq'), hash: readText(row, 'hash') };
}

// biome-ignore format: one column list, read as a table
export const KEY_COLUMNS = [
  'id', 'hash', 'name', 'created_at_ms', 'expires_at_ms', 'allowed_models', 'revoked', 'team_id',
  'role', 'metadata', 'budget_daily_usd', 'budget_monthly_usd', 'budget_total_usd', 'rpm', 'tpm',
  'max_concurrent', 'data_class', 'created_by',
] as const;

export const SELECT_KEY_COLUMNS = `SELECT ${KEY_COLUMNS.join(', ')}`;

/** Limits fields and their columns, shared by keys and teams. */
export const LIMIT_COLUMNS = [
  ['budgetDailyUsd', 'budget_daily_usd'],
  ['budgetMonthlyUsd', 'budget_monthly_usd'],
  ['budgetTotalUsd', 'budget_total_usd'],
  ['rpm', 'rpm'],
  ['tpm', 'tpm'],
  ['maxConcurrent', 'max_concurrent'],
] as const satisfies readonly (readonly [keyof Limits, string])[];

export function toKeyRecord(row: PostgresRow): VirtualKeyRecord {
  const limits = readLimits(row);
  const role = readText(row, 'role');
  if (role !== 'admin' && role !== 'team_admin' && role !== 'user') {
    throw new Error(`column role holds ${role}, expected admin, team_admin or user`);
  }
  return {
    id: readText(row, 'id'),
    hash: readText(row, 'hash'),
    name: readText(row, 'name'),
    createdAtMs: readInteger(row, 'created_at_ms'),
    expiresAtMs: row['expires_at_ms'] === null ? null : readInteger(row, 'expires_at_ms'),
    allowedModels: row['allowed_models'] === null ? null : readTextArray(row, 'allowed_models'),
    revoked: readBoolean(row, 'revoked'),
    ...(row['team_id'] === null ? {} : { teamId: readText(row, 'team_id') }),
    ...(role === 'user' ? {} : { role }),
    ...(row['metadata'] === null ? {} : { metadata: parseMetadata(readText(row, 'metadata')) }),
    ...(hasAnyLimit(limits) ? { limits } : {}),
    ...(row['data_class'] === null ? {} : { dataClass: readDataClass(row) }),
    ...(row['created_by'] === null ? {} : { createdBy: readText(row, 'created_by') }),
  };
}

/** The parameters of `INSERT INTO virtual_keys (KEY_COLUMNS) VALUES ($1..$18)`, in KEY_COLUMNS order. */
export function keyValues(key: VirtualKeyRecord): unknown[] {
  const limits = key.limits ?? NO_LIMITS;
  return [
    key.id,
    key.hash,
    key.name,
    key.createdAtMs,
    key.expiresAtMs,
    key.allowedModels,
    key.revoked,
    key.teamId ?? null,
    key.role ?? 'user',
    key.metadata === undefined ? null : JSON.stringify(key.metadata),
    ...LIMIT_COLUMNS.map(([field]) => limits[field]),
    key.dataClass ?? null,
    key.createdBy ?? null,
  ];
}

/** double precision arrives as a number, bigint as a decimal string. */
export function readLimits(row: PostgresRow): Limits {
  const read = (column: string): number | null => {
    const value = row[column];
    if (value === null || value === undefined) return null;
    const number = typeof value === 'string' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number)) {
      throw new Error(`column ${column} holds ${String(value)}, expected a number`);
    }
    return number;
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

export function readDataClass(row: PostgresRow): DataClass {
  const value = row['data_class'];
  if (value !== 'private') throw new Error(`column data_class holds ${String(value)}, expected 'private'`);
  return value;
}

export function readText(row: PostgresRow, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`column ${column} holds ${typeof value}, expected text`);
  return value;
}

/** bigint arrives as a decimal string, integer as a number; either must be a safe integer. */
export function readInteger(row: PostgresRow, column: string): number {
  const value = row[column];
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw new Error(`column ${column} holds ${String(value)}, expected a safe integer`);
  }
  return number;
}

export function readFloat(row: PostgresRow, column: string): number {
  const value = row[column];
  if (typeof value !== 'number') throw new Error(`column ${column} holds ${typeof value}, expected a number`);
  return value;
}

function readBoolean(row: PostgresRow, column: string): boolean {
  const value = row[column];
  if (typeof value !== 'boolean')
    throw new Error(`column ${column} holds ${typeof value}, expected a boolean`);
  return value;
}

function readTextArray(row: PostgresRow, column: string): readonly string[] {
  const value = row[column];
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw new Error(`column ${column} is not an array of strings`);
  }
  return value;
}

function parseMetadata(text: string): Readonly<Record<string, string>> {
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
