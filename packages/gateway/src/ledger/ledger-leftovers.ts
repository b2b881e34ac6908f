/**
 * Entries a gateway journaled but did not move into the store before it stopped (killed, or its
 * database was down) wait in its spool directory until it starts again. Ledger tools that read the
 * store (`autocap ledger verify|export`) move them in first, so that they see every entry, unless a
 * running gateway still owns the spool: then they leave it alone and say so.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerStore } from '../store/store.js';
import { LedgerWriter } from './ledger-writer.js';
import { liveSpoolOwner } from './spool-owner.js';

export interface LeftoverReport {
  /** Entries moved from spools into the store. */
  readonly ingested: number;
  /** Spools a running gateway owns, left alone: chain id, pid and lines in the file (some replayed). */
  readonly owned: readonly { readonly chainId: string; readonly pid: number; readonly entries: number }[];
}

export async function ingestLeftovers(store: LedgerStore, directory: string): Promise<LeftoverReport> {
  let ingested = 0;
  const owned: { chainId: string; pid: number; entries: number }[] = [];
  if (!existsSync(directory)) return { ingested, owned };
  for (const name of readdirSync(directory)) {
    if (!name.endsWith('.jsonl') || name.endsWith('.dead-letter.jsonl')) continue;
    const chainId = decodeURIComponent(name.slice(0, -'.jsonl'.length));
    const pid = liveSpoolOwner(directory, chainId);
    if (pid !== null) {
      // Read only: opening it as a LedgerSpool would repair (truncate) a line being written.
      const text = readFileSync(join(directory, name), 'utf8');
      owned.push({ chainId, pid, entries: text.split('\n').length - 1 });
      continue;
    }
    let failure: unknown = null;
    const writer = new LedgerWriter(store, {
      chainId,
      spool: { directory, closeTimeoutMs: 120_000, replayDelayMs: { base: 50, max: 500 } },
      onError: (error) => {
        failure = error;
      },
    });
    const waiting = writer.spoolDepth;
    await writer.close();
    if (writer.spoolDepth > 0) {
      throw new Error(
        `could not move ${writer.spoolDepth} journaled ledger entries of chain ${chainId} into the store: ${String(failure)}`,
      );
    }
    ingested += waiting;
  }
  return { ingested, owned };
}
