import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleLedgerEntries, sampleLedgerEntry } from '../test-support/ledger-entries.js';
import {
  canonicalizeEntry,
  hashEntry,
  hashPreimage,
  InvalidLedgerEntryError,
  LEDGER_HASH_FIELDS,
} from './ledger-hash.js';
import { LedgerChainVerifier } from './ledger-verifier.js';
import type { LedgerEntry, LedgerEntryInput } from './store.js';

const reference: LedgerEntryInput = {
  id: 'att_1',
  requestId: 'req_1',
  attempt: 1,
  startedAtMs: 1767225600000,
  keyId: 'key_1',
  modelRequested: 'auto',
  modelServed: 'llama-3.3-70b',
  provider: 'vllm',
  owned: true,
  inputTokens: 1200,
  cachedInputTokens: 0,
  outputTokens: 345,
  reasoningTokens: 0,
  estimated: false,
  costUsd: 0.000123,
  latencyMs: 812.5,
  ttftMs: null,
  status: 'ok',
  errorClass: null,
  upstreamStatus: 200,
  streamed: true,
  metadata: { team: 'search', task: 'summarize "q"' },
  rawUsage: '{"prompt_tokens":1200}',
};

describe('ledger hash format v1', () => {
  it('matches the reference vector (preimage written by hand, hash from Python hashlib)', () => {
    expect(hashPreimage('', 'gw-1', 1, reference)).toBe(
      '["autocap-ledger-v1","","gw-1",1,{"id":"att_1","requestId":"req_1","attempt":1,' +
        '"startedAtMs":1767225600000,"keyId":"key_1","modelRequested":"auto","modelServed":"llama-3.3-70b",' +
        '"provider":"vllm","owned":true,"inputTokens":1200,"cachedInputTokens":0,"outputTokens":345,' +
        '"reasoningTokens":0,"estimated":false,"costUsd":0.000123,"latencyMs":812.5,"ttftMs":null,' +
        '"status":"ok","errorClass":null,"upstreamStatus":200,"streamed":true,' +
        '"metadata":{"task":"summarize \\"q\\"","team":"search"},"rawUsage":"{\\"prompt_tokens\\":1200}"}]',
    );
    expect(hashEntry('', 'gw-1', 1, reference)).toBe(
      '45760048b683067806063accebe27b877e672c470bf774db43ccfb3bc9ac4eef',
    );
  });

  it('ignores the order of the entry object and of its metadata keys', () => {
    const reordered: LedgerEntryInput = {
      ...Object.fromEntries(Object.entries(reference).reverse()),
      ...reference,
      metadata: { task: 'summarize "q"', team: 'search' },
    };
    expect(canonicalizeEntry(reordered)).toBe(canonicalizeEntry(reference));
  });

  it('writes every field as field-by-field JSON would, in the fixed order, for awkward values', () => {
    const byField = (entry: LedgerEntryInput): string => {
      const sortedMetadata = Object.keys(entry.metadata)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${JSON.stringify(entry.metadata[key])}`);
      const parts = LEDGER_HASH_FIELDS.map(([field]) =>
        field === 'metadata'
          ? `"metadata":{${sortedMetadata.join(',')}}`
          : `"${field}":${JSON.stringify(entry[field])}`,
      );
      return `{${parts.join(',')}}`;
    };
    const awkward = [
      '',
      'tab\there',
      'nul\u0000',
      'é ü 数据',
      '🙂 emoji',
      '"quoted" \\ back',
      '\u2028\u2029',
    ];
    for (const [index, text] of awkward.entries()) {
      const entry: LedgerEntryInput = {
        ...reference,
        id: `att_${text}`,
        keyId: text,
        errorClass: index % 2 === 0 ? null : text,
        costUsd: index / 7,
        latencyMs: 10 ** (index * 4 - 8),
        ttftMs: index % 3 === 0 ? null : -index * 0.1,
        metadata: { [text || 'empty']: text, '10': 'ten', '9': 'nine', zeta: text, alpha: 'a' },
        rawUsage: index % 2 === 0 ? null : `{"x":"${text}"}`,
      };
      expect(canonicalizeEntry(entry)).toBe(byField(entry));
      expect(JSON.parse(canonicalizeEntry(entry))).toBeTypeOf('object');
    }
  });

  it('writes numbers in the RFC 8785 form', () => {
    const content = canonicalizeEntry({ ...reference, costUsd: -0, latencyMs: 1e21, ttftMs: 1e-7 });
    expect(content).toContain('"costUsd":0,"latencyMs":1e+21,"ttftMs":1e-7,');
  });

  it('frames chain id and seq so that they cannot run together', () => {
    expect(hashEntry('', 'a', 12, reference)).not.toBe(hashEntry('', 'a1', 2, reference));
  });

  it.each<[string, Partial<Record<keyof LedgerEntryInput, unknown>>, RegExp]>([
    ['NaN cost', { costUsd: Number.NaN }, /costUsd must be a finite number/],
    ['infinite latency', { latencyMs: Number.POSITIVE_INFINITY }, /latencyMs must be a finite number/],
    ['fractional tokens', { outputTokens: 1.5 }, /outputTokens must be an integer/],
    ['a missing field', { keyId: undefined }, /keyId must be a string/],
    ['an unknown status', { status: 'maybe' }, /status must be/],
    ['a lone surrogate', { modelServed: 'x\uDC00' }, /lone surrogate/],
    ['a non-string metadata value', { metadata: { n: 1 } }, /metadata\["n"\] must be a string/],
    ['metadata that is an array', { metadata: [] }, /metadata must be an object/],
  ])('rejects %s, naming the field', (_, change, message) => {
    const entry = { ...reference, ...change } as LedgerEntryInput;
    expect(() => canonicalizeEntry(entry)).toThrow(InvalidLedgerEntryError);
    expect(() => canonicalizeEntry(entry)).toThrow(message);
  });

  it('accepts a field only when it has its kind (any value, in any field but metadata)', () => {
    // Written apart from ledger-hash.ts's own checks: what each kind of field may hold.
    const string = (v: unknown) => typeof v === 'string' && !/[\uD800-\uDFFF]/u.test(v);
    const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
    const kinds: Record<string, (v: unknown) => boolean> = {
      string,
      'nullable-string': (v) => v === null || string(v),
      integer: (v) => Number.isSafeInteger(v),
      'nullable-integer': (v) => v === null || Number.isSafeInteger(v),
      number: finite,
      'nullable-number': (v) => v === null || finite(v),
      boolean: (v) => typeof v === 'boolean',
      status: (v) => v === 'ok' || v === 'error' || v === 'client_disconnected',
    };
    const fields = LEDGER_HASH_FIELDS.filter(([, kind]) => kind !== 'metadata');
    const value = fc.oneof(
      fc.anything(),
      fc.double(),
      fc.integer(),
      fc.string({ unit: 'binary' }),
      fc.constantFrom('ok', 'error', 'client_disconnected', null, true, 2 ** 53, -0),
    );
    fc.assert(
      fc.property(fc.constantFrom(...fields), value, ([field, kind], junk) => {
        const entry = { ...reference, [field]: junk } as LedgerEntryInput;
        const valid = (kinds[kind] as (v: unknown) => boolean)(junk);
        let text: string | undefined;
        try {
          text = canonicalizeEntry(entry);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidLedgerEntryError);
          expect((error as Error).message).toContain(`${field} must be`);
        }
        expect(text !== undefined).toBe(valid);
      }),
      { numRuns: 1000, seed: 20261204 },
    );
  });

  it('rejects a malformed prevHash and seq', () => {
    expect(() => hashEntry('ABC', 'gw-1', 2, reference)).toThrow(/prevHash/);
    expect(() => hashEntry('', 'gw-1', 0, reference)).toThrow(/seq/);
    expect(() => hashEntry('', '', 1, reference)).toThrow(/chainId/);
  });
});

describe('LedgerChainVerifier', () => {
  function chain(chainId: string, inputs: readonly LedgerEntryInput[]): LedgerEntry[] {
    let prevHash = '';
    return inputs.map((input, index) => {
      const seq = index + 1;
      const hash = hashEntry(prevHash, chainId, seq, input);
      const entry = { ...input, chainId, seq, prevHash, hash };
      prevHash = hash;
      return entry;
    });
  }

  function run(entries: readonly LedgerEntry[], options = {}) {
    const verifier = new LedgerChainVerifier(options);
    for (const entry of entries) if (verifier.push(entry)) break;
    return verifier.finish();
  }

  it('accepts intact chains', () => {
    const entries = [...chain('a', sampleLedgerEntries(5)), ...chain('b', sampleLedgerEntries(3, 5))];
    expect(run(entries)).toEqual({ ok: true, entries: 8, chains: 2 });
  });

  it('reports a repeated seq and a chain that comes back as reordered', () => {
    const a = chain('a', sampleLedgerEntries(4));
    const b = chain('b', sampleLedgerEntries(2, 4));
    const [first, second] = a;
    if (!first || !second) throw new Error('short chain');
    expect(run([first, second, second])).toMatchObject({ ok: false, seq: 2, problem: 'reordered' });
    expect(run([...a.slice(0, 2), ...b, ...a.slice(2)])).toMatchObject({
      ok: false,
      chainId: 'a',
      seq: 3,
      problem: 'reordered',
    });
  });

  it('reports a first entry that lost its predecessors as missing from seq 1', () => {
    expect(run(chain('a', sampleLedgerEntries(4)).slice(2))).toMatchObject({
      ok: false,
      seq: 1,
      entryId: null,
      problem: 'missing',
    });
  });

  it('reports a chain that ends before its recorded head', () => {
    const entries = chain('a', [sampleLedgerEntry(0), sampleLedgerEntry(1)]);
    const last = entries[1];
    if (!last) throw new Error('short chain');
    const recordedHeads = [{ chainId: 'a', seq: 3, hash: last.hash }];
    expect(run(entries, { recordedHeads })).toMatchObject({ ok: false, seq: 3, problem: 'missing' });
  });
});
