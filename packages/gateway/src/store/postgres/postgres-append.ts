/**
 * One ledger append: the batch is chained and written out as COPY text first (prepareBatch), then,
 * inside the transaction postgres-store.ts opens, the chain's head row is locked and checked to be
 * the head this store last wrote, the batch is COPYed in and the head moved.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { chainEntry } from '../chain-entry.js';
import { hashEntry } from '../ledger-hash.js';
import type { LedgerEntry, LedgerEntryInput } from '../store.js';
import { LedgerConflictError } from './postgres-errors.js';
import type { PostgresQueryable } from './postgres-migrations.js';
import { copyLedgerSql, ledgerCopyText, toChainHead } from './postgres-rows.js';

export interface ChainPosition {
  readonly seq: number;
  readonly hash: string;
}

export const EMPTY_CHAIN: ChainPosition = { seq: 0, hash: '' };

/** The batch as it will be stored after `head`: seq and hashes assigned in order. Throws InvalidLedgerEntryError. */
export function chainEntries(
  chainId: string,
  head: ChainPosition,
  entries: readonly LedgerEntryInput[],
): LedgerEntry[] {
  const chained: LedgerEntry[] = [];
  let prevHash = head.hash;
  let seq = head.seq;
  for (const entry of entries) {
    seq += 1;
    const hash = hashEntry(prevHash, chainId, seq, entry);
    chained.push(chainEntry(entry, chainId, seq, prevHash, hash));
    prevHash = hash;
  }
  return chained;
}

/** Entries hashed and written out between two yields to the event loop (about 0.1 ms of work). */
const SLICE = 16;

/** A batch ready to append: chained, and in COPY's text format, one piece a slice. */
export interface PreparedBatch {
  readonly entries: readonly LedgerEntry[];
  readonly copyText: readonly string[];
}

/**
 * chainEntries and ledgerCopyText over a whole batch, in slices with a turn of the event loop
 * between them (and copyIn sends the text a slice at a time too). Hashing, writing out and sending
 * cost about 10 us an entry; in one piece, a batch of a few hundred entries would hold every
 * request that arrives meanwhile for a millisecond or more, and at one connection such stalls are
 * what moves the latency percentiles. Throws InvalidLedgerEntryError.
 */
export async function prepareBatch(
  chainId: string,
  head: ChainPosition,
  entries: readonly LedgerEntryInput[],
): Promise<PreparedBatch> {
  const chained: LedgerEntry[] = [];
  const copyText: string[] = [];
  let position = head;
  for (let start = 0; start < entries.length; start += SLICE) {
    if (start > 0) await nextTurn();
    const slice = chainEntries(chainId, position, entries.slice(start, start + SLICE));
    copyText.push(ledgerCopyText(slice));
    for (const entry of slice) chained.push(entry);
    position = slice[slice.length - 1] ?? position;
  }
  return { entries: chained, copyText };
}

/**
 * Stores `entries` (chained after `expected`) when the chain's head in the database is `expected`;
 * returns them unchanged, storing nothing, when they are all already stored exactly there (a retry
 * after a lost COMMIT answer); throws LedgerConflictError otherwise. Runs inside a transaction.
 */
export async function appendChainedBatch(
  client: pg.ClientBase,
  tables: { readonly ledger: string; readonly heads: string },
  batch: {
    readonly chainId: string;
    readonly expected: ChainPosition;
    readonly prepared: PreparedBatch;
  },
): Promise<LedgerEntry[]> {
  const { chainId, expected, prepared } = batch;
  const { entries } = prepared;
  const selectHead = `SELECT chain_id, seq, hash FROM ${tables.heads} WHERE chain_id = $1 FOR UPDATE`;
  let found = (await client.query(selectHead, [chainId])).rows[0];
  if (!found) {
    // A first append: create the head row, then lock it. Two appenders racing to create it both
    // end up locking the one row that won (the loser's insert waits, then does nothing).
    await client.query(
      `INSERT INTO ${tables.heads} (chain_id, seq, hash) VALUES ($1, 0, '') ON CONFLICT (chain_id) DO NOTHING`,
      [chainId],
    );
    found = (await client.query(selectHead, [chainId])).rows[0];
    if (!found) throw new Error(`the head row of ledger chain ${JSON.stringify(chainId)} vanished`);
  }
  const current = toChainHead(found);
  if (current.seq !== expected.seq || current.hash !== expected.hash) {
    if (await isStoredBatch(client, tables.ledger, { chainId, entries })) return [...entries];
    throw new LedgerConflictError(
      `ledger chain ${JSON.stringify(chainId)} is at seq ${current.seq} in PostgreSQL, but this store ` +
        `last wrote seq ${expected.seq}: another gateway instance is appending to the same chain. Give ` +
        'each gateway instance its own ledger chain id.',
    );
  }
  await copyIn(client, copyLedgerSql(tables.ledger), prepared.copyText);
  const last = entries[entries.length - 1];
  if (last) {
    await client.query(`UPDATE ${tables.heads} SET seq = $2, hash = $3 WHERE chain_id = $1`, [
      chainId,
      last.seq,
      last.hash,
    ]);
  }
  return [...entries];
}

/**
 * Runs `COPY ... FROM STDIN` with `pieces` as its data, one piece a turn of the event loop; settles
 * once PostgreSQL has taken it all or refused it.
 */
function copyIn(client: pg.ClientBase, sql: string, pieces: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = client.query(copyFrom(sql));
    stream.on('error', reject);
    stream.on('finish', resolve);
    let index = 0;
    const send = (): void => {
      if (stream.destroyed) return; // refused: 'error' has settled it
      if (index >= pieces.length - 1) {
        stream.end(pieces[index] ?? '');
        return;
      }
      stream.write(pieces[index]);
      index += 1;
      setImmediate(send);
    };
    send();
  });
}

/** True when every entry of the batch is already stored where this append would put it. */
async function isStoredBatch(
  client: PostgresQueryable,
  ledger: string,
  batch: { readonly chainId: string; readonly entries: readonly LedgerEntry[] },
): Promise<boolean> {
  const result = await client.query(
    `SELECT id, chain_id, seq, hash FROM ${ledger} WHERE id = ANY($1::text[])`,
    [batch.entries.map((entry) => entry.id)],
  );
  const stored = new Map(result.rows.map((row) => [row['id'], row]));
  return batch.entries.every((entry) => {
    const row = stored.get(entry.id);
    return (
      row !== undefined &&
      row['chain_id'] === batch.chainId &&
      String(row['seq']) === String(entry.seq) &&
      row['hash'] === entry.hash
    );
  });
}
