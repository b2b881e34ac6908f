/**
 * Durability against kill -9, checked for real: a child process writes through the LedgerWriter
 * and prints an entry id only after its write() resolved; the parent kills it with SIGKILL at a
 * random moment, twenty times on the same file, then checks that every printed id is in the
 * ledger exactly once and that the chain verifies. An in-process test cannot show this.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';

const RUNS = 20;
const CHAIN = 'gw-durability';
const here = dirname(fileURLToPath(import.meta.url));
let directory: string;
let childScript: string;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'autocap-durability-'));
  childScript = join(directory, 'ledger-child.mjs');
  // The bundle lives in a temporary directory, where a bare 'better-sqlite3' would not resolve:
  // point the import at this checkout's copy instead (it stays external: it loads a native addon).
  const betterSqlite = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href;
  await build({
    entryPoints: [join(here, '../test-support/ledger-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@autocap/source'],
    outfile: childScript,
    logLevel: 'silent',
    plugins: [
      {
        name: 'better-sqlite3-from-checkout',
        setup(builder) {
          builder.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: betterSqlite, external: true }));
        },
      },
    ],
  });
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** mulberry32: the kill times are seeded, so a failing sequence can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

interface ChildRun {
  readonly ids: string[];
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Runs the child and kills it `killAfterMs` after it reported its first committed entry. */
function runChild(databasePath: string, run: number, killAfterMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, databasePath, CHAIN, String(run)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const safety = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(safety);
      clearTimeout(killTimer);
      // A line cut off by the kill has no newline: only complete lines were printed in full.
      const lines = stdout.split('\n');
      lines.pop();
      resolve({ ids: lines, signal, stderr });
    });
  });
}

describe('ledger durability', () => {
  it(`keeps every acknowledged entry through ${RUNS} kill -9s`, { timeout: 30_000 }, async () => {
    const databasePath = join(directory, 'gateway.db');
    const random = seededRandom(20_260_101);
    const acknowledged: string[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const result = await runChild(databasePath, run, 5 + Math.floor(random() * 120));
      expect(result.stderr).toBe('');
      expect(result.signal).toBe('SIGKILL');
      expect(result.ids.length).toBeGreaterThan(0);
      acknowledged.push(...result.ids);
    }

    const store = openSqliteStore(databasePath);
    try {
      const counts = new Map<string, number>();
      let after: string | null = null;
      do {
        const page = await store.pageLedger({ after, limit: 5000 });
        for (const entry of page.entries) counts.set(entry.id, (counts.get(entry.id) ?? 0) + 1);
        after = page.nextCursor;
      } while (after !== null);
      const lost = acknowledged.filter((id) => counts.get(id) !== 1);
      expect(lost).toEqual([]);
      expect(counts.size).toBeGreaterThanOrEqual(acknowledged.length);
      const verified = await store.verifyLedger();
      expect(verified).toEqual({ ok: true, entries: counts.size, chains: 1 });
    } finally {
      await store.close();
    }
  });
});
