import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { GatewayStore, LedgerEntry } from '../store/store.js';
import { sampleLedgerEntries, sampleLedgerEntry } from '../test-support/ledger-entries.js';
import { exportLedger, LEDGER_EXPORT_COLUMNS, verifyLedgerExport } from './ledger-export.js';

let directory: string;
let store: GatewayStore;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'autocap-export-'));
  store = openSqliteStore(join(directory, 'gateway.db'));
});

afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

async function exported(format: 'jsonl' | 'csv'): Promise<{ text: string; chunks: number }> {
  const chunks: string[] = [];
  await exportLedger(store, format, (chunk) => chunks.push(chunk));
  return { text: chunks.join(''), chunks: chunks.length };
}

function jsonLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** A strict RFC 4180 reader, to check the writer against the standard rather than against itself. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char === '"' && field === '') {
      const end = text.indexOf('"', index + 1);
      let quoted = '';
      let cursor = index + 1;
      let close = end;
      while (text[close + 1] === '"') {
        quoted += `${text.slice(cursor, close)}"`;
        cursor = close + 2;
        close = text.indexOf('"', cursor);
      }
      field = quoted + text.slice(cursor, close);
      index = close + 1;
    } else if (char === ',') {
      record.push(field);
      field = '';
      index += 1;
    } else if (char === '\r' && text[index + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      index += 2;
    } else {
      field += char;
      index += 1;
    }
  }
  return records;
}

describe('exportLedger', () => {
  it('writes JSONL that round-trips and verifies without the database', async () => {
    await store.appendLedger('gw-1', sampleLedgerEntries(1500));
    await store.appendLedger('gw-2', [
      sampleLedgerEntry(1500, { metadata: { ['__proto__']: 'kept', q: '"' } }),
    ]);
    const chunks: string[] = [];
    const result = await exportLedger(store, 'jsonl', (chunk) => chunks.push(chunk));
    expect(result.entries).toBe(1501);
    expect(result.heads).toEqual(await store.chainHeads());
    expect(chunks).toHaveLength(2);
    const lines = jsonLines(chunks.join(''));
    const stored: LedgerEntry[] = [];
    let after: string | null = null;
    do {
      const page = await store.pageLedger({ after, limit: 1000 });
      stored.push(...page.entries);
      after = page.nextCursor;
    } while (after !== null);
    expect(lines.map((line) => JSON.parse(line))).toEqual(stored);
    expect(Object.keys(JSON.parse(lines[0] ?? '{}'))).toEqual(LEDGER_EXPORT_COLUMNS);
    await expect(verifyLedgerExport(lines, { expectedHeads: result.heads })).resolves.toEqual({
      ok: true,
      entries: 1501,
      chains: 2,
    });
  });

  it('lets an auditor catch an edited line and a dropped tail', async () => {
    await store.appendLedger('gw-1', sampleLedgerEntries(10));
    const { text } = await exported('jsonl');
    const heads = await store.chainHeads();
    const lines = jsonLines(text);
    const edited = lines.map((line, index) =>
      index === 6 ? line.replace('"outputTokens":', '"outputTokens":9') : line,
    );
    await expect(verifyLedgerExport(edited)).resolves.toMatchObject({
      ok: false,
      seq: 7,
      problem: 'altered',
    });
    const dropped = lines.slice(0, 8);
    await expect(verifyLedgerExport(dropped)).resolves.toMatchObject({ ok: true, entries: 8 });
    await expect(verifyLedgerExport(dropped, { expectedHeads: heads })).resolves.toMatchObject({
      ok: false,
      seq: 9,
      problem: 'missing',
    });
  });

  it('names a line that is not a ledger entry', async () => {
    await store.appendLedger('gw-1', sampleLedgerEntries(2));
    const lines = jsonLines((await exported('jsonl')).text);
    await expect(verifyLedgerExport([lines[0] ?? '', '{"chainId":"gw-1"}'])).rejects.toThrow(/line 2/);
    await expect(verifyLedgerExport(['not json'])).rejects.toThrow(/line 1 is not a ledger entry/);
  });

  it('writes RFC 4180 CSV with a header row and metadata as JSON', async () => {
    const tricky = sampleLedgerEntry(0, {
      modelServed: 'model, "quoted"',
      errorClass: 'multi\r\nline',
      metadata: { note: 'a,b "c"\nd', emoji: '🦜' },
      ttftMs: null,
    });
    await store.appendLedger('gw-1', [tricky, sampleLedgerEntry(1)]);
    const { text } = await exported('csv');
    expect(text.endsWith('\r\n')).toBe(true);
    const records = parseCsv(text);
    expect(records).toHaveLength(3);
    const [header, first] = records;
    expect(header).toEqual(LEDGER_EXPORT_COLUMNS);
    for (const record of records) expect(record).toHaveLength(LEDGER_EXPORT_COLUMNS.length);
    const cell = (name: string): string | undefined =>
      first?.[LEDGER_EXPORT_COLUMNS.indexOf(name as keyof LedgerEntry)];
    expect(cell('modelServed')).toBe('model, "quoted"');
    expect(cell('errorClass')).toBe('multi\r\nline');
    expect(JSON.parse(cell('metadata') ?? '')).toEqual(tricky.metadata);
    expect(cell('ttftMs')).toBe('');
    expect(cell('owned')).toBe('true');
    expect(cell('seq')).toBe('1');
  });

  it('writes only a header for an empty ledger', async () => {
    expect(await exported('csv')).toEqual({ text: `${LEDGER_EXPORT_COLUMNS.join(',')}\r\n`, chunks: 1 });
    expect(await exported('jsonl')).toEqual({ text: '', chunks: 0 });
  });
});
