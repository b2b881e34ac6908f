/**
 * The canary: a provider key (`CANARY_KEY`) configured on every model, with debug logging on and
 * upstreams that echo the provider's Authorization / x-api-key header back in their error bodies
 * and stream errors. After a representative run (success, stream, upstream 4xx/5xx, echoes,
 * mid-stream failure, resets, client 401s), the canary, the master key and a virtual key must
 * appear zero times in the logs, every response header and body, the SQLite files, /metrics,
 * /admin/ledger and the ledger export (what `autocap ledger export` writes).
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newVirtualKey } from '../auth/keys.js';
import { exportLedger } from '../ledger/ledger-export.js';
import { type FakeBehaviour, type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import {
  CANARY_KEY,
  MASTER_KEY,
  startTestGateway,
  type TestGateway,
  testModel,
} from '../test-support/test-gateway.js';

let openai: FakeUpstream;
let anthropic: FakeUpstream;
let gateway: TestGateway;
let virtualKey: string;
/** Every response the run produced, headers and body, as text. */
const seen: string[] = [];

/** The secrets, and distinctive pieces of them (a partial redaction is still a leak). */
const secrets = (): string[] => [
  CANARY_KEY,
  CANARY_KEY.slice(3),
  CANARY_KEY.slice(-16),
  MASTER_KEY,
  MASTER_KEY.slice(-16),
  virtualKey,
  virtualKey.slice(-20),
];

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  gateway = await startTestGateway([
    testModel('main', openai.baseUrl, { retries: 1, maxAttempts: 2 }),
    testModel('solo', openai.baseUrl, { retries: 0, maxAttempts: 1 }),
    testModel('claude', anthropic.baseUrl, {
      provider: 'anthropic',
      upstreamModel: 'claude-sonnet-4-5',
      retries: 0,
      maxAttempts: 1,
    }),
  ]);
  const minted = newVirtualKey();
  virtualKey = minted.key;
  await gateway.running.gateway.runtime.store.insertKey({
    id: minted.id,
    hash: minted.hash,
    name: 'canary',
    createdAtMs: 0,
    expiresAtMs: null,
    allowedModels: null,
    revoked: false,
  });
});
afterAll(async () => {
  await gateway.close();
  await Promise.all([openai.close(), anthropic.close()]);
});

/** Sends a request and records everything that came back. */
async function call(
  path: string,
  init: { key?: string; body?: unknown; method?: string } = {},
): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.key !== undefined) headers['authorization'] = `Bearer ${init.key}`;
  const response = await fetch(`${gateway.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body: init.body === undefined ? null : JSON.stringify(init.body),
  });
  const text = await response.text().catch((error: unknown) => `(body failed: ${String(error)})`);
  seen.push(`${response.status} ${JSON.stringify([...response.headers])}\n${text}`);
  return response.status;
}

const chat = (model: string, stream = false) => ({
  model,
  stream,
  messages: [{ role: 'user', content: 'Say hello.' }],
});

/** Closes every circuit, so each behaviour reaches its upstream instead of a 503 from an open breaker. */
function closeCircuits(): void {
  for (const upstream of gateway.running.gateway.runtime.upstreams.values()) upstream.breaker.onSuccess();
}

/** Runs one upstream behaviour through a model, streaming and not. */
async function through(upstream: FakeUpstream, model: string, behaviour: FakeBehaviour): Promise<number[]> {
  const statuses: number[] = [];
  for (const stream of [false, true]) {
    closeCircuits();
    upstream.script([behaviour, behaviour]);
    statuses.push(await call('/v1/chat/completions', { key: virtualKey, body: chat(model, stream) }));
    upstream.reset();
  }
  return statuses;
}

describe('the canary provider key', () => {
  it('never appears in responses, logs, the database, metrics, the ledger API or its export', async () => {
    const leaky = `Incorrect API key provided: ${CANARY_KEY}. Your header was "Bearer ${CANARY_KEY}".`;
    const behaviours: FakeBehaviour[] = [
      { kind: 'ok', content: 'hello' },
      { kind: 'status', status: 500, message: leaky },
      { kind: 'status', status: 401, message: leaky },
      { kind: 'status', status: 400, message: leaky },
      { kind: 'status', status: 429, message: leaky, retryAfter: '0' },
      { kind: 'echo-headers', status: 500 },
      { kind: 'echo-headers', status: 401 },
      { kind: 'echo-headers', status: 400 },
      { kind: 'stream-error', message: leaky, afterChunks: 1 },
      { kind: 'stream-error', message: leaky, afterChunks: 0 },
      { kind: 'reset', afterChunks: 1 },
      { kind: 'truncated', afterChunks: 1 },
      { kind: 'malformed', variant: 'json' },
      { kind: 'malformed', variant: 'schema' },
      { kind: 'no-usage' },
    ];
    const statuses: number[] = [];
    for (const behaviour of behaviours) {
      statuses.push(...(await through(openai, 'main', behaviour)));
      statuses.push(...(await through(openai, 'solo', behaviour)));
      statuses.push(...(await through(anthropic, 'claude', behaviour)));
    }
    // The run covered successes, client errors and server errors.
    expect(statuses).toContain(200);
    expect(statuses.some((status) => status >= 400 && status < 500)).toBe(true);
    expect(statuses.some((status) => status >= 500)).toBe(true);
    // The upstreams did receive the key: the canary is live, not absent.
    expect(openai.connections).toBeGreaterThan(0);

    // Clients that send the wrong thing, including the canary itself as their key.
    expect(await call('/v1/chat/completions', { key: CANARY_KEY, body: chat('main') })).toBe(401);
    expect(await call('/v1/chat/completions', { key: `${MASTER_KEY}x`, body: chat('main') })).toBe(401);
    expect(await call('/v1/chat/completions', { body: chat('main') })).toBe(401);
    expect(await call('/metrics', { key: virtualKey })).toBe(403);
    expect(
      await call('/v1/chat/completions', { key: MASTER_KEY, body: { ...chat('main'), api_key: CANARY_KEY } }),
    ).toBe(400);
    expect(await call('/v1/models', { key: virtualKey })).toBe(200);

    // Where the secrets could have gone.
    expect(await call('/metrics', { key: MASTER_KEY })).toBe(200);
    let after: string | null = null;
    do {
      const response = await fetch(
        `${gateway.url}/admin/ledger?limit=1000${after ? `&after=${after}` : ''}`,
        {
          headers: { authorization: `Bearer ${MASTER_KEY}` },
        },
      );
      const page = (await response.json()) as { data: unknown[]; next_cursor: string | null };
      seen.push(JSON.stringify(page));
      after = page.next_cursor;
    } while (after !== null);
    const store = gateway.running.gateway.runtime.store;
    expect((await store.pageLedger({ limit: 1000 })).entries.length).toBeGreaterThan(20);
    const exports: string[] = [];
    await exportLedger(store, 'jsonl', (chunk) => exports.push(chunk));
    await exportLedger(store, 'csv', (chunk) => exports.push(chunk));
    const database = ['', '-wal', '-shm']
      .map((suffix) => `${gateway.sqlitePath}${suffix}`)
      .filter((path) => existsSync(path))
      .map((path) => readFileSync(path).toString('latin1'));

    const places: Record<string, string> = {
      responses: seen.join('\n'),
      logs: gateway.logs.join(''),
      sqlite: database.join(''),
      ledgerExport: exports.join(''),
    };
    expect(places['logs']).toContain('"level"'); // logs were captured
    expect(places['responses']).toContain('autocap_requests_total'); // metrics were captured
    for (const [place, text] of Object.entries(places)) {
      for (const secret of secrets()) {
        expect(text.includes(secret), `${place} contains ${secret.slice(0, 12)}…`).toBe(false);
      }
    }
  }, 30_000);

  // An upstream that puts the provider key in a completion's content: the gateway cuts it out.
  it('is not handed to the client when an upstream echoes it in a successful completion', async () => {
    closeCircuits();
    openai.script([{ kind: 'echo-headers' }]);
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${virtualKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(chat('solo')),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).not.toContain(CANARY_KEY);
  });
});
