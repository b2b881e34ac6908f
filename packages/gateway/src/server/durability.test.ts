/**
 * Durability of the real `autocap serve` process: SIGKILL it under load, again and again on the
 * same SQLite file; every request whose response completed must have exactly one ledger entry,
 * and `autocap ledger verify` must pass. Then alter the file and see verify name the entry.
 * Needs the CLI bundle (`npm run build`, which `npm test` runs first).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';

const repoRoot = new URL('../../../../', import.meta.url).pathname;
const cli = join(repoRoot, 'packages/cli/bin/autocap.mjs');
const MASTER = 'sk-durability-master-key-0123';

let fake: FakeUpstream;
let folder: string;
let configPath: string;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startServe(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cli, 'serve', '--config', configPath, '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${seen}`)), 10_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${seen}`)));
  });
  return child;
}

/** One request; resolves with its request id if the response completed, null otherwise. */
async function request(port: number, stream: boolean): Promise<string | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'main', messages: [{ role: 'user', content: 'hi' }], stream }),
    });
    const body = await response.text();
    const complete = stream ? body.endsWith('data: [DONE]\n\n') : body.endsWith('}');
    return response.status === 200 && complete ? response.headers.get('x-autocap-request-id') : null;
  } catch {
    return null;
  }
}

beforeAll(async () => {
  fake = await startFakeUpstream();
  fake.setDefault({ kind: 'ok', content: 'durable', usage: { input: 10, output: 3 } });
  folder = mkdtempSync(join(tmpdir(), 'autocap-durability-'));
  configPath = join(folder, 'autocap.yaml');
  writeFileSync(
    configPath,
    [
      'auth:',
      `  master_key: ${MASTER}`,
      'store:',
      '  sqlite: ledger.db',
      'logging:',
      '  level: warn',
      'models:',
      '  - name: main',
      '    provider: openai-compatible',
      `    base_url: ${fake.baseUrl}`,
      '    upstream_model: test-model',
      '    owned: true',
      '    price: { input_per_mtok_usd: 1, output_per_mtok_usd: 2 }',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await fake.close();
  rmSync(folder, { recursive: true, force: true });
});

describe('autocap serve under SIGKILL', () => {
  it.skipIf(!existsSync(join(repoRoot, 'packages/cli/dist/autocap.mjs')))(
    'keeps exactly one entry for every completed response across 12 kills, and the chain verifies',
    async () => {
      const completed: string[] = [];
      for (let round = 0; round < 12; round++) {
        const port = await freePort();
        const child = await startServe(port);
        const killAt = Date.now() + 150 + Math.floor(Math.random() * 350);
        const workers = Array.from({ length: 16 }, async (_, worker) => {
          while (Date.now() < killAt + 200) {
            const id = await request(port, worker % 2 === 0);
            if (id) completed.push(id);
            else if (Date.now() >= killAt) return;
          }
        });
        setTimeout(() => child.kill('SIGKILL'), killAt - Date.now());
        await Promise.all(workers);
        await new Promise((resolve) =>
          child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve),
        );
      }
      expect(completed.length).toBeGreaterThan(24); // a loaded CI machine completes fewer; each still counts

      // Entries the last kill left in the journal only are moved into the store by verify first.
      const verify = spawnSync(process.execPath, [cli, 'ledger', 'verify', '--config', configPath], {
        encoding: 'utf8',
      });
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/ledger intact: \d+ entries/);

      const store = openSqliteStore(join(folder, 'ledger.db'));
      const entries = [];
      let after: string | null = null;
      do {
        const page = await store.pageLedger({ after, limit: 1000 });
        entries.push(...page.entries);
        after = page.nextCursor;
      } while (after);
      await store.close();
      const byRequest = new Map<string, number>();
      for (const entry of entries) byRequest.set(entry.requestId, (byRequest.get(entry.requestId) ?? 0) + 1);
      const missing = completed.filter((id) => byRequest.get(id) !== 1);
      expect(missing).toEqual([]);

      // Now tamper: change one entry's output tokens in place.
      const database = new Database(join(folder, 'ledger.db'));
      const victim = database.prepare('SELECT id, seq FROM ledger ORDER BY seq LIMIT 1 OFFSET 5').get() as {
        id: string;
        seq: number;
      };
      database.prepare('UPDATE ledger SET output_tokens = output_tokens + 1000 WHERE id = ?').run(victim.id);
      database.close();
      const broken = spawnSync(process.execPath, [cli, 'ledger', 'verify', '--config', configPath], {
        encoding: 'utf8',
      });
      expect(broken.status).toBe(1);
      expect(broken.stdout).toContain(victim.id);
    },
    120_000,
  );
});
