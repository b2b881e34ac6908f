/**
 * The contract every GatewayStore backend passes (after Kysely's per-dialect test loop). A backend's
 * test file calls `describeStoreContract` once; all cases run against a real database, never a mock.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleLedgerEntries, sampleLedgerEntry } from '../test-support/ledger-entries.js';
import { describeBudgetContract } from './budget-contract.js';
import { describeGovernanceContract } from './governance-contract.js';
import { hashEntry, InvalidLedgerEntryError } from './ledger-hash.js';
import type { GatewayStore, LedgerEntry, LedgerEntryInput, VirtualKeyRecord } from './store.js';

/**
 * @param open returns a fresh, empty, migrated store (a new file, a new schema) on every call.
 * @param cleanup runs after each case, once the suite has closed the store.
 */
export function describeStoreContract(
  name: string,
  open: () => Promise<GatewayStore>,
  cleanup: () => Promise<void> | void,
): void {
  describe(`${name}: store contract`, () => {
    let store: GatewayStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it('starts empty', async () => {
      await expect(store.pageLedger({ limit: 10 })).resolves.toEqual({ entries: [], nextCursor: null });
      await expect(store.chainHeads()).resolves.toEqual([]);
      await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 0, chains: 0 });
      await expect(store.listKeys()).resolves.toEqual([]);
    });

    it('migrates twice without harm', async () => {
      await store.appendLedger('chain-a', sampleLedgerEntries(3));
      await store.migrate();
      await store.migrate();
      await store.appendLedger('chain-a', sampleLedgerEntries(2, 3));
      await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 5, chains: 1 });
    });

    it('assigns seq 1..n and chains hashes, continuing across appends', async () => {
      const inputs = sampleLedgerEntries(8);
      const first = await store.appendLedger('chain-a', inputs.slice(0, 5));
      const second = await store.appendLedger('chain-a', inputs.slice(5));
      const appended = [...first, ...second];
      expect(appended.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      let prevHash = '';
      for (const [index, entry] of appended.entries()) {
        const input = inputs[index] as LedgerEntryInput;
        expect(entry.prevHash).toBe(prevHash);
        // Recomputed from the format module, not read back from the store.
        expect(entry.hash).toBe(hashEntry(prevHash, 'chain-a', index + 1, input));
        prevHash = entry.hash;
      }
      const page = await store.pageLedger({ limit: 100 });
      expect(page.entries).toEqual(
        appended.map((entry, index) => ({ ...inputs[index], ...chainFields(entry) })),
      );
      await expect(store.chainHeads()).resolves.toEqual([{ chainId: 'chain-a', seq: 8, hash: prevHash }]);
    });

    it('keeps two chains independent', async () => {
      await store.appendLedger('chain-a', sampleLedgerEntries(3, 0));
      await store.appendLedger('chain-b', sampleLedgerEntries(2, 3));
      const more = await store.appendLedger('chain-a', sampleLedgerEntries(2, 5));
      expect(more.map((entry) => entry.seq)).toEqual([4, 5]);
      const { entries } = await store.pageLedger({ limit: 100 });
      expect(entries.map((entry) => `${entry.chainId}:${entry.seq}`)).toEqual([
        'chain-a:1',
        'chain-a:2',
        'chain-a:3',
        'chain-a:4',
        'chain-a:5',
        'chain-b:1',
        'chain-b:2',
      ]);
      expect((entries[5] as LedgerEntry).prevHash).toBe('');
      const heads = await store.chainHeads();
      expect(heads.map((head) => [head.chainId, head.seq])).toEqual([
        ['chain-a', 5],
        ['chain-b', 2],
      ]);
      await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 7, chains: 2 });
    });

    it('pages through 2,500 entries in pages of 100 with no duplicate and no gap', async () => {
      for (let batch = 0; batch < 8; batch += 1) {
        await store.appendLedger('chain-a', sampleLedgerEntries(250, batch * 250));
      }
      for (let batch = 0; batch < 2; batch += 1) {
        await store.appendLedger('chain-b', sampleLedgerEntries(250, 2000 + batch * 250));
      }
      const seen: LedgerEntry[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await store.pageLedger({ after: cursor, limit: 100 });
        expect(page.entries.length).toBeLessThanOrEqual(100);
        seen.push(...page.entries);
        cursor = page.nextCursor;
        pages += 1;
        expect(pages).toBeLessThanOrEqual(26);
      } while (cursor !== null);
      expect(seen).toHaveLength(2500);
      expect(new Set(seen.map((entry) => entry.id)).size).toBe(2500);
      const positions = seen.map((entry) => `${entry.chainId}:${entry.seq}`);
      const expected = [
        ...Array.from({ length: 2000 }, (_, index) => `chain-a:${index + 1}`),
        ...Array.from({ length: 500 }, (_, index) => `chain-b:${index + 1}`),
      ];
      expect(positions).toEqual(expected);
      await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 2500, chains: 2 });
    });

    it('rejects a bad cursor and a bad limit', async () => {
      await expect(store.pageLedger({ after: 'not-a-cursor', limit: 10 })).rejects.toThrow(/cursor/);
      await expect(store.pageLedger({ limit: 0 })).rejects.toThrow(/limit/);
    });

    it('checks expected heads kept outside the store', async () => {
      await store.appendLedger('chain-a', sampleLedgerEntries(5));
      const anchor = await store.chainHeads();
      await store.appendLedger('chain-a', sampleLedgerEntries(3, 5));
      // The chain may grow past an anchor.
      await expect(store.verifyLedger({ expectedHeads: anchor })).resolves.toMatchObject({ ok: true });
      const [head] = await store.chainHeads();
      if (!head) throw new Error('no head');
      await expect(store.verifyLedger({ expectedHeads: [{ ...head, seq: 12 }] })).resolves.toMatchObject({
        ok: false,
        chainId: 'chain-a',
        seq: 9,
        problem: 'missing',
      });
      await expect(
        store.verifyLedger({ expectedHeads: [{ ...head, hash: sha256('forged') }] }),
      ).resolves.toMatchObject({ ok: false, seq: 8, problem: 'altered' });
      await expect(
        store.verifyLedger({ expectedHeads: [{ chainId: 'chain-z', seq: 1, hash: head.hash }] }),
      ).resolves.toMatchObject({ ok: false, chainId: 'chain-z', problem: 'missing' });
    });

    it('rejects a batch with an invalid entry and stores none of it', async () => {
      const batch = [sampleLedgerEntry(0), sampleLedgerEntry(1, { costUsd: Number.NaN })];
      await expect(store.appendLedger('chain-a', batch)).rejects.toThrow(InvalidLedgerEntryError);
      await expect(store.appendLedger('chain-a', [sampleLedgerEntry(2, { id: 'a\uD800b' })])).rejects.toThrow(
        /lone surrogate/,
      );
      await expect(store.chainHeads()).resolves.toEqual([]);
      const [entry] = await store.appendLedger('chain-a', [sampleLedgerEntry(0)]);
      expect(entry?.seq).toBe(1);
    });

    it('rejects a duplicate entry id and keeps the chain as it was', async () => {
      await store.appendLedger('chain-a', [sampleLedgerEntry(0)]);
      await expect(
        store.appendLedger('chain-a', [sampleLedgerEntry(1), sampleLedgerEntry(0)]),
      ).rejects.toThrow(/already in the ledger/);
      const [entry] = await store.appendLedger('chain-a', [sampleLedgerEntry(1)]);
      expect(entry?.seq).toBe(2);
      await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 2, chains: 1 });
    });

    it('tells which entry ids are stored, in any chain', async () => {
      await expect(store.ledgerEntryIds([])).resolves.toEqual(new Set());
      await expect(store.ledgerEntryIds(['att_000000'])).resolves.toEqual(new Set());
      await store.appendLedger('chain-a', sampleLedgerEntries(3));
      await store.appendLedger('chain-b', [sampleLedgerEntry(3, { id: 'it\'s "quoted", 🦜' })]);
      const asked = [
        'att_000002',
        'att_000009',
        'att_000000',
        'it\'s "quoted", 🦜',
        'ATT_000001',
        '%',
        "' OR 1=1 --",
      ];
      await expect(store.ledgerEntryIds(asked)).resolves.toEqual(
        new Set(['att_000000', 'att_000002', 'it\'s "quoted", 🦜']),
      );
      const many = Array.from({ length: 5000 }, (_, index) => `att_${index.toString().padStart(6, '0')}`);
      await expect(store.ledgerEntryIds(many)).resolves.toEqual(
        new Set(['att_000000', 'att_000001', 'att_000002']),
      );
    });

    it('round-trips unicode, emoji, quotes, control characters and exact numbers', async () => {
      const input = sampleLedgerEntry(0, {
        id: 'att_ünï_🦜',
        modelServed: 'модель "quoted" \\ back',
        // Characters a bulk-load format must escape (PostgreSQL's COPY text: \\, tab, newline,
        // carriage return), its null marker and end-of-data line as plain text, and a lone backslash.
        modelRequested: 'tab\tnewline\nreturn\rend',
        provider: '\\N',
        errorClass: '\\.\n\\.',
        requestId: 'ends in a backslash \\',
        metadata: {
          quote: `he said "hi", it's 'fine'`,
          emoji: '🦜👩🏽‍💻🇯🇵',
          ключ: 'значение',
          rtl: 'עברית ‏mixed',
          controls: 'tab\tnewline\nreturn\rnul\u0000end',
          separators: 'line\u2028para\u2029',
          ['__proto__']: 'a plain key',
          '': 'empty key',
        },
        rawUsage: JSON.stringify({ note: 'ünïcödé 🦜', prompt_tokens: 3 }),
        costUsd: 0.1 + 0.2,
        latencyMs: 1e-7,
        ttftMs: 123456.789,
        startedAtMs: 8_640_000_000_000,
      });
      const [appended] = await store.appendLedger('chain-ü', [input]);
      const { entries } = await store.pageLedger({ limit: 10 });
      expect(entries).toHaveLength(1);
      const [stored] = entries;
      expect(stored).toEqual({ ...input, ...chainFields(appended as LedgerEntry) });
      expect(Object.keys(stored?.metadata ?? {}).sort()).toEqual(Object.keys(input.metadata).sort());
      expect(Object.entries(stored?.metadata ?? {})).toContainEqual(['__proto__', 'a plain key']);
      expect(stored?.costUsd).toBe(0.30000000000000004);
      await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 1, chains: 1 });
    });

    it('inserts, finds, lists and revokes keys', async () => {
      const first = sampleKey('key_1', { createdAtMs: 1000, allowedModels: ['llama-3.3-70b', 'auto'] });
      const second = sampleKey('key_2', { createdAtMs: 2000, expiresAtMs: 9000 });
      await store.insertKey(second);
      await store.insertKey(first);
      await expect(store.findKeyByHash(first.hash)).resolves.toEqual(first);
      await expect(store.listKeys()).resolves.toEqual([first, second]);
      await expect(store.revokeKey('key_1')).resolves.toBe(true);
      await expect(store.revokeKey('key_missing')).resolves.toBe(false);
      await expect(store.findKeyByHash(first.hash)).resolves.toEqual({ ...first, revoked: true });
      await expect(store.insertKey({ ...first, hash: sha256('other') })).rejects.toThrow(/already exists/);
      await expect(store.insertKey({ ...first, id: 'key_3' })).rejects.toThrow(/already exists/);
    });

    it('finds a key only by its exact hash', async () => {
      const key = sampleKey('key_1');
      await store.insertKey(key);
      const last = key.hash.at(-1) === '0' ? '1' : '0';
      const near = [
        key.hash.toUpperCase(),
        key.hash.slice(0, -1),
        `${key.hash.slice(0, -1)}${last}`,
        `${key.hash} `,
        ` ${key.hash}`,
        `${key.hash}0`,
        '',
        '%',
        '*',
        `${key.hash.slice(0, 10)}%`,
      ];
      for (const hash of near) await expect(store.findKeyByHash(hash)).resolves.toBeNull();
      await expect(store.findKeyByHash(key.hash)).resolves.toEqual(key);
    });
  });
  describeGovernanceContract(name, open, cleanup);
  describeBudgetContract(name, open, cleanup);
}

function chainFields(entry: LedgerEntry): Pick<LedgerEntry, 'chainId' | 'seq' | 'prevHash' | 'hash'> {
  return { chainId: entry.chainId, seq: entry.seq, prevHash: entry.prevHash, hash: entry.hash };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function sampleKey(id: string, overrides: Partial<VirtualKeyRecord> = {}): VirtualKeyRecord {
  return {
    id,
    hash: sha256(`sk-autocap-${id}`),
    name: `team ${id}`,
    createdAtMs: 1_767_225_600_000,
    expiresAtMs: null,
    allowedModels: null,
    revoked: false,
    ...overrides,
  };
}
