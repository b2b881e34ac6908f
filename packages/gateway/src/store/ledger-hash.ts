/**
 * The ledger's hash-chain format, version 1. `autocap ledger verify` and external auditors
 * recompute it from an export, so it is frozen: a change means a new version tag (and a column
 * recording each entry's version), never an edit of this one.
 *
 *   hash = lowercase hex SHA-256 of the UTF-8 bytes of
 *          ["autocap-ledger-v1",<prevHash>,<chainId>,<seq>,<content>]     (no whitespace)
 *
 * - prevHash: the previous entry's hash in the same chain, '' for seq 1. chainId: a string. seq: an
 *   integer >= 1. They are framed as a JSON array rather than concatenated, because plain
 *   concatenation is ambiguous (chain "a" seq 12 and chain "a1" seq 2 would hash alike).
 * - content: a JSON object with exactly the keys of LEDGER_HASH_FIELDS, in that order (a fixed,
 *   written-out order, not sorted and not the object's own key order).
 * - strings: as ECMAScript JSON.stringify writes them, which is RFC 8785 §3.2.2.2: `"` and `\`
 *   escaped, U+0008/9/A/C/D as \b \t \n \f \r, other U+0000..U+001F as \u00xx (lowercase hex),
 *   everything else literal. Strings must be well-formed UTF-16 (no lone surrogate), because the
 *   database stores UTF-8 and could not give such a string back.
 * - numbers: finite only, as ECMAScript Number::toString writes them (RFC 8785 §3.2.2.3): the
 *   shortest digits that round-trip, exponent form from 1e21 ("1e+21") and below 1e-6 ("1e-7"),
 *   and -0 as 0. Count fields (kind 'integer') must be integers.
 * - booleans: true / false. Nullable fields: null when absent.
 * - metadata: a JSON object of string values, keys sorted by UTF-16 code units (RFC 8785 §3.2.3).
 * - rawUsage: the JSON string of the stored text, not re-parsed; or null.
 *
 * Any language with SHA-256 and an RFC 8785 number formatter can recompute a hash from an export.
 */
import { hash } from 'node:crypto';
import type { LedgerEntryInput } from './store.js';

export const LEDGER_HASH_FORMAT = 'autocap-ledger-v1';

type FieldKind =
  | 'string'
  | 'nullable-string'
  | 'integer'
  | 'nullable-integer'
  | 'number'
  | 'nullable-number'
  | 'boolean'
  | 'status'
  | 'metadata';

type FieldList = readonly (readonly [keyof LedgerEntryInput, FieldKind])[];
type Unlisted<T extends FieldList> = Exclude<keyof LedgerEntryInput, T[number][0]>;

/**
 * Returns the list unchanged; fails to compile when a field of LedgerEntryInput is not listed, so a
 * new field cannot silently stay outside the hash (adding it is a format change: see above).
 */
function everyField<const T extends FieldList>(
  fields: T & ([Unlisted<T>] extends [never] ? unknown : { notHashed: Unlisted<T> }),
): T {
  return fields;
}

/** The hashed fields of an entry, in hash order, with the kind that decides their encoding. */
export const LEDGER_HASH_FIELDS = everyField([
  ['id', 'string'],
  ['requestId', 'string'],
  ['attempt', 'integer'],
  ['startedAtMs', 'integer'],
  ['keyId', 'string'],
  ['modelRequested', 'string'],
  ['modelServed', 'string'],
  ['provider', 'string'],
  ['owned', 'boolean'],
  ['inputTokens', 'integer'],
  ['cachedInputTokens', 'integer'],
  ['outputTokens', 'integer'],
  ['reasoningTokens', 'integer'],
  ['estimated', 'boolean'],
  ['costUsd', 'number'],
  ['latencyMs', 'number'],
  ['ttftMs', 'nullable-number'],
  ['status', 'status'],
  ['errorClass', 'nullable-string'],
  ['upstreamStatus', 'nullable-integer'],
  ['streamed', 'boolean'],
  ['metadata', 'metadata'],
  ['rawUsage', 'nullable-string'],
]);

/** An entry that cannot be hashed (and so cannot be stored): names the entry and the field. */
export class InvalidLedgerEntryError extends TypeError {
  override readonly name = 'InvalidLedgerEntryError';
  constructor(
    readonly entryId: string,
    readonly field: string,
    expected: string,
    value: unknown,
  ) {
    super(`ledger entry ${JSON.stringify(entryId)}: ${field} must be ${expected}, got ${describe(value)}`);
  }
}

/**
 * Canonical texts already computed, per entry object: the writer checks an entry when it is queued
 * and the store hashes it at commit, and both need the same text. Entries are readonly, so the
 * text cannot go stale.
 */
const canonicalTexts = new WeakMap<LedgerEntryInput, string>();

/** The canonical JSON text of an entry's content (the `<content>` above). Throws InvalidLedgerEntryError. */
export function canonicalizeEntry(entry: LedgerEntryInput): string {
  const cached = canonicalTexts.get(entry);
  if (cached !== undefined) return cached;
  const text = computeCanonical(entry);
  canonicalTexts.set(entry, text);
  return text;
}

/**
 * Every field is checked first, allocating nothing unless one is wrong; then one JSON.stringify of
 * the fields in their fixed order writes the text (a plain object in insertion order, strings and
 * numbers exactly as the field-by-field encoding below would), with metadata, whose keys must be
 * sorted, spliced in before `rawUsage`. Field-by-field concatenation allocated ~5 KB an entry.
 */
function computeCanonical(entry: LedgerEntryInput): string {
  if (!plainlyValid(entry)) throwFieldProblem(entry);
  const metadata = encodeMetadata(entry.metadata, {
    entryId: entry.id,
    field: 'metadata',
  });
  const head = JSON.stringify({
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
  } satisfies Omit<Record<(typeof LEDGER_HASH_FIELDS)[number][0], unknown>, 'metadata' | 'rawUsage'>);
  const rawUsage = entry.rawUsage === null ? 'null' : JSON.stringify(entry.rawUsage);
  return `${head.slice(0, -1)},"metadata":${metadata},"rawUsage":${rawUsage}}`;
}

/**
 * Every field but metadata as the checks below want it, read field by field rather than through
 * one `entry[field]` site in a loop (with the empty-metadata shortcut, the canonical text fell
 * from about 8 to 5 us on the request path). Stricter than or equal to fieldProblem, never looser.
 */
function plainlyValid(e: LedgerEntryInput): boolean {
  return (
    wellFormed(e.id) &&
    wellFormed(e.requestId) &&
    Number.isSafeInteger(e.attempt) &&
    Number.isSafeInteger(e.startedAtMs) &&
    wellFormed(e.keyId) &&
    wellFormed(e.modelRequested) &&
    wellFormed(e.modelServed) &&
    wellFormed(e.provider) &&
    typeof e.owned === 'boolean' &&
    Number.isSafeInteger(e.inputTokens) &&
    Number.isSafeInteger(e.cachedInputTokens) &&
    Number.isSafeInteger(e.outputTokens) &&
    Number.isSafeInteger(e.reasoningTokens) &&
    typeof e.estimated === 'boolean' &&
    Number.isFinite(e.costUsd) &&
    Number.isFinite(e.latencyMs) &&
    (e.ttftMs === null || Number.isFinite(e.ttftMs)) &&
    (e.status === 'ok' || e.status === 'error' || e.status === 'client_disconnected') &&
    (e.errorClass === null || wellFormed(e.errorClass)) &&
    (e.upstreamStatus === null || Number.isSafeInteger(e.upstreamStatus)) &&
    typeof e.streamed === 'boolean' &&
    (e.rawUsage === null || wellFormed(e.rawUsage))
  );
}

const wellFormed = (value: unknown): boolean => typeof value === 'string' && !loneSurrogate.test(value);

/** Throws InvalidLedgerEntryError naming the first field (in hash order) that is wrong. */
function throwFieldProblem(entry: LedgerEntryInput): void {
  for (const [field, kind] of LEDGER_HASH_FIELDS) {
    if (kind === 'metadata') continue;
    const expected = fieldProblem(entry[field], kind);
    if (expected !== null) {
      const entryId = typeof entry.id === 'string' ? entry.id : '?';
      throw new InvalidLedgerEntryError(entryId, field, expected, entry[field]);
    }
  }
}

/** What a field must be when `value` is not that, else null. */
function fieldProblem(value: unknown, kind: Exclude<FieldKind, 'metadata'>): string | null {
  switch (kind) {
    case 'string':
      return stringProblem(value);
    case 'nullable-string':
      return value === null ? null : stringProblem(value);
    case 'integer':
      return numberProblem(value, true);
    case 'nullable-integer':
      return value === null ? null : numberProblem(value, true);
    case 'number':
      return numberProblem(value, false);
    case 'nullable-number':
      return value === null ? null : numberProblem(value, false);
    case 'boolean':
      return typeof value === 'boolean' ? null : 'a boolean';
    case 'status':
      return value === 'ok' || value === 'error' || value === 'client_disconnected'
        ? null
        : "'ok', 'error' or 'client_disconnected'";
  }
}

function stringProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'a string';
  return loneSurrogate.test(value) ? 'well-formed UTF-16 (no lone surrogate)' : null;
}

function numberProblem(value: unknown, integer: boolean): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'a finite number';
  // JSON.stringify writes numbers as Number::toString does (the RFC 8785 form; -0 as 0).
  return integer && !Number.isSafeInteger(value) ? 'an integer' : null;
}

/** The exact text whose SHA-256 is the entry's hash. */
export function hashPreimage(
  prevHash: string,
  chainId: string,
  seq: number,
  entry: LedgerEntryInput,
): string {
  const entryId = typeof entry.id === 'string' ? entry.id : '?';
  if (prevHash !== '' && !/^[0-9a-f]{64}$/.test(prevHash)) {
    throw new InvalidLedgerEntryError(entryId, 'prevHash', "'' or 64 lowercase hex digits", prevHash);
  }
  if (chainId === '') throw new InvalidLedgerEntryError(entryId, 'chainId', 'a non-empty string', chainId);
  const chain = encodeString(chainId, { entryId, field: 'chainId' });
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new InvalidLedgerEntryError(entryId, 'seq', 'an integer >= 1', seq);
  }
  const content = canonicalizeEntry(entry);
  return `["${LEDGER_HASH_FORMAT}","${prevHash}",${chain},${seq},${content}]`;
}

/** Lowercase hex SHA-256 of hashPreimage(...). */
export function hashEntry(prevHash: string, chainId: string, seq: number, entry: LedgerEntryInput): string {
  // One-shot hash: no Hash object per entry (Node >= 20.12).
  return hash('sha256', hashPreimage(prevHash, chainId, seq, entry), 'hex');
}

interface FieldContext {
  readonly entryId: string;
  readonly field: string;
}

// With the u flag a surrogate pair is one code point, so this matches only lone surrogates.
const loneSurrogate = /[\uD800-\uDFFF]/u;

function encodeString(value: unknown, context: FieldContext): string {
  const expected = stringProblem(value);
  if (expected !== null) throw invalid(context, expected, value);
  return JSON.stringify(value);
}

function encodeMetadata(value: unknown, context: FieldContext): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(context, 'an object of strings', value);
  }
  const pairs: [string, unknown][] = Object.entries(value);
  if (pairs.length === 0) return '{}';
  // `<` on strings compares UTF-16 code units, the order RFC 8785 requires.
  pairs.sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  let text = '{';
  for (const [key, item] of pairs) {
    if (text.length > 1) text += ',';
    const keyContext = { entryId: context.entryId, field: `${context.field}[${JSON.stringify(key)}]` };
    text += `${encodeString(key, keyContext)}:${encodeString(item, keyContext)}`;
  }
  return `${text}}`;
}

function invalid(context: FieldContext, expected: string, value: unknown): InvalidLedgerEntryError {
  return new InvalidLedgerEntryError(context.entryId, context.field, expected, value);
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value.length > 40 ? 'a long string' : JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
