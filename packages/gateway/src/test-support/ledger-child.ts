/**
 * The child process of ledger-durability.test.ts, bundled by esbuild. It writes entries through a
 * LedgerWriter as fast as it can, from several concurrent writers, and prints each entry id on
 * stdout only after that entry's write() resolved; the parent kills it with SIGKILL at a random
 * moment and checks that every printed id survived. Arguments: <database path> <chain id> <run>.
 */
import { LedgerWriter } from '../ledger/ledger-writer.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { sampleLedgerEntry } from './ledger-entries.js';

const [path, chainId, run] = process.argv.slice(2);
if (path === undefined || chainId === undefined || run === undefined) {
  process.stderr.write('usage: ledger-child <database path> <chain id> <run>\n');
  process.exit(2);
}

const store = openSqliteStore(path);
const writer = new LedgerWriter(store, {
  chainId,
  onError: (error) => process.stderr.write(`ledger write failed: ${String(error)}\n`),
});

// Several writers in flight, as concurrent requests would be, so that commits are group commits.
const WRITERS = 32;
let next = 0;

async function keepWriting(): Promise<void> {
  for (;;) {
    const n = next;
    next += 1;
    const entry = sampleLedgerEntry(n, { id: `run${run}-${n}` });
    await writer.write(entry);
    // A pipe on Linux is written synchronously: once this returns, the parent can read the line.
    process.stdout.write(`${entry.id}\n`);
  }
}

await Promise.all(Array.from({ length: WRITERS }, keepWriting));
