import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { sampleLedgerEntry } from '../test-support/ledger-entries.js';
import { SpoolCache } from './spool-cache.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Adds `count` fresh entries of 100 bytes each; returns weak references to them. */
function fill(cache: SpoolCache, count: number): WeakRef<object>[] {
  const entries = Array.from({ length: count }, (_, n) => sampleLedgerEntry(n));
  cache.add(entries, Array(count).fill(100), 0, true);
  return entries.map((entry) => new WeakRef(entry));
}

describe('SpoolCache', () => {
  it('reads from the consumed offset on, and only from there', () => {
    const cache = new SpoolCache(100);
    fill(cache, 5);
    expect(cache.read(0, 2)?.entries.map((entry) => entry.id)).toEqual(['att_000000', 'att_000001']);
    cache.consume(200);
    const rest = cache.read(200, 10);
    expect(rest?.entries.map((entry) => entry.id)).toEqual(['att_000002', 'att_000003', 'att_000004']);
    expect(rest?.end).toBe(500);
    expect(cache.read(100, 10)).toBeNull();
  });

  it('lets go of consumed entries at once, not at the next trim', async () => {
    // Entries held past their replay survive young-generation collections and get promoted: at
    // one connection that tripled the bytes each scavenge copied.
    const cache = new SpoolCache(100);
    const refs = fill(cache, 3);
    cache.consume(200);
    await nextTurn(); // a WeakRef keeps its target alive until the current job ends
    gc();
    expect(refs.map((ref) => ref.deref() !== undefined)).toEqual([false, false, true]);
    expect(cache.read(200, 10)?.entries.map((entry) => entry.id)).toEqual(['att_000002']);
  });
});
