import { describe, expect, it } from 'vitest';
import { sampleLedgerEntries } from '../../test-support/ledger-entries.js';
import { chainEntries, prepareBatch } from './postgres-append.js';
import { ledgerCopyText } from './postgres-rows.js';

const head = { seq: 7, hash: 'a'.repeat(64) };

describe('prepareBatch', () => {
  it.each([0, 1, 16, 17, 50])('chains %i entries exactly as one pass would', async (count) => {
    const entries = sampleLedgerEntries(count);
    const whole = chainEntries('gw:1', head, entries);
    const prepared = await prepareBatch('gw:1', head, entries);
    expect(prepared.entries).toEqual(whole);
    expect(prepared.copyText.join('')).toBe(ledgerCopyText(whole));
    expect(prepared.copyText).toHaveLength(Math.ceil(count / 16));
  });

  it('gives the event loop a turn between slices of a large batch, not within a small one', async () => {
    const turns = async (count: number): Promise<boolean> => {
      let turned = false;
      setImmediate(() => {
        turned = true;
      });
      await prepareBatch('gw:1', head, sampleLedgerEntries(count));
      return turned;
    };
    expect(await turns(16)).toBe(false);
    expect(await turns(17)).toBe(true);
  });

  it('refuses an entry that cannot be hashed before any SQL', async () => {
    const entries = sampleLedgerEntries(20);
    const broken = { ...entries[18], costUsd: Number.NaN } as (typeof entries)[number];
    entries[18] = broken;
    await expect(prepareBatch('gw:1', head, entries)).rejects.toThrow(/costUsd must be a finite number/);
  });
});
