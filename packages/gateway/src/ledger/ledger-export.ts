/**
 * Ledger export (JSONL for auditors, CSV for spreadsheets) and verification of a JSONL export
 * without the database: an auditor holding only the file and an anchor can check it.
 */
import { z } from 'zod';
import { LEDGER_HASH_FIELDS } from '../store/ledger-hash.js';
import { LedgerChainVerifier } from '../store/ledger-verifier.js';
import type { ChainHead, LedgerEntry, LedgerStore, VerifyOptions, VerifyResult } from '../store/store.js';

export type LedgerExportFormat = 'jsonl' | 'csv';

/** Export columns: position, the hashed fields in hash order, then the chain links. */
export const LEDGER_EXPORT_COLUMNS: readonly (keyof LedgerEntry)[] = [
  'chainId',
  'seq',
  ...LEDGER_HASH_FIELDS.map(([field]) => field),
  'prevHash',
  'hash',
];

const PAGE_SIZE = 1000;

/**
 * Writes every entry in (chainId, seq) order, one chunk per page of the store. JSONL has one
 * entry per line, with every field needed to recompute its hash. CSV follows RFC 4180 (header row,
 * CRLF line ends, fields with `"`, `,`, CR or LF quoted and `"` doubled); metadata is one column of
 * JSON, and null is an empty field, so CSV is for reading, JSONL for verifying. Cells are written
 * as they are: client metadata may begin with `=`, so open CSV from an untrusted ledger as text.
 * Returns the count and the last entry of each chain: keep those heads as the anchor.
 */
export async function exportLedger(
  store: LedgerStore,
  format: LedgerExportFormat,
  write: (chunk: string) => void,
): Promise<{ entries: number; heads: ChainHead[] }> {
  const heads = new Map<string, ChainHead>();
  let entries = 0;
  if (format === 'csv') write(`${LEDGER_EXPORT_COLUMNS.join(',')}\r\n`);
  let after: string | null = null;
  do {
    const page = await store.pageLedger({ after, limit: PAGE_SIZE });
    let chunk = '';
    for (const entry of page.entries) {
      chunk += format === 'csv' ? csvLine(entry) : jsonLine(entry);
      heads.set(entry.chainId, { chainId: entry.chainId, seq: entry.seq, hash: entry.hash });
    }
    if (chunk !== '') write(chunk);
    entries += page.entries.length;
    after = page.nextCursor;
  } while (after !== null);
  return { entries, heads: [...heads.values()] };
}

function jsonLine(entry: LedgerEntry): string {
  // Built from the column list, so the key order does not depend on the backend.
  return `${JSON.stringify(Object.fromEntries(LEDGER_EXPORT_COLUMNS.map((column) => [column, entry[column]])))}\n`;
}

function csvLine(entry: LedgerEntry): string {
  return `${LEDGER_EXPORT_COLUMNS.map((column) => csvField(entry[column])).join(',')}\r\n`;
}

function csvField(value: LedgerEntry[keyof LedgerEntry]): string {
  if (value === null) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

// zod's record() drops a `__proto__` key, which would then fail the hash: check in place instead.
const stringRecord = z.custom<Record<string, string>>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((item) => typeof item === 'string'),
  'expected an object of strings',
);

const exportedEntry = z.object({
  chainId: z.string(),
  seq: z.number(),
  id: z.string(),
  requestId: z.string(),
  attempt: z.number(),
  startedAtMs: z.number(),
  keyId: z.string(),
  modelRequested: z.string(),
  modelServed: z.string(),
  provider: z.string(),
  owned: z.boolean(),
  inputTokens: z.number(),
  cachedInputTokens: z.number(),
  outputTokens: z.number(),
  reasoningTokens: z.number(),
  estimated: z.boolean(),
  costUsd: z.number(),
  latencyMs: z.number(),
  ttftMs: z.number().nullable(),
  status: z.enum(['ok', 'error', 'client_disconnected']),
  errorClass: z.string().nullable(),
  upstreamStatus: z.number().nullable(),
  streamed: z.boolean(),
  metadata: stringRecord,
  rawUsage: z.string().nullable(),
  prevHash: z.string(),
  hash: z.string(),
});

/**
 * Verifies a JSONL export line by line (constant memory), with the same checks as the store's
 * verifyLedger, except the store's own recorded heads: pass the anchor as `expectedHeads` to
 * detect entries removed from the end. Throws on a line that is not a ledger entry, naming it.
 */
export async function verifyLedgerExport(
  lines: AsyncIterable<string> | Iterable<string>,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const verifier = new LedgerChainVerifier({ expectedHeads: options.expectedHeads ?? [] });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    const parsed = exportedEntry.safeParse(parseJson(line));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
      throw new Error(`line ${lineNumber} is not a ledger entry${where}: ${issue?.message ?? 'invalid'}`);
    }
    const failure = verifier.push(parsed.data);
    if (failure) return failure;
  }
  return verifier.finish();
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
