/**
 * The gateway's edges: a client that leaves mid-stream is still metered, SIGTERM-style shutdown
 * drains in-flight streams, and over-limit requests are shed with JSON errors.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../config/config.js';
import type { LedgerEntry } from '../store/store.js';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { MASTER_KEY, startTestGateway, type TestGateway, testModel } from '../test-support/test-gateway.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(server: Partial<GatewayConfig['server']> = {}): Promise<[FakeUpstream, TestGateway]> {
  const fake = await startFakeUpstream();
  const gateway = await startTestGateway(
    [testModel('main', fake.baseUrl, { timeouts: { connectMs: 1000, firstByteMs: 5000, idleMs: 5000 } })],
    { server },
  );
  cleanups.push(
    () => fake.close(),
    () => gateway.close(),
  );
  return [fake, gateway];
}

const body = (stream: boolean) =>
  JSON.stringify({ model: 'main', stream, messages: [{ role: 'user', content: 'a long answer please' }] });

function post(url: string, payload: string) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: payload,
  });
}

async function entries(gateway: TestGateway): Promise<LedgerEntry[]> {
  return [...(await gateway.running.gateway.runtime.store.pageLedger({ limit: 100 })).entries];
}

async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('gateway lifecycle', () => {
  it('meters a stream whose client disconnects midway, reading the upstream to its usage', async () => {
    const [fake, gateway] = await setup();
    fake.script([
      { kind: 'slow-stream', intervalMs: 30, content: 'one two three four five six seven eight' },
    ]);
    await new Promise<void>((resolve, reject) => {
      const outgoing = request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      });
      outgoing.on('response', (response) => {
        response.once('data', () => {
          outgoing.destroy(); // the client hangs up after the first chunk
          resolve();
        });
      });
      outgoing.on('error', () => undefined);
      outgoing.end(body(true));
      setTimeout(() => reject(new Error('no first chunk')), 3000);
    });
    await until(async () => (await entries(gateway)).length === 1);
    const [entry] = await entries(gateway);
    expect(entry?.status).toBe('client_disconnected');
    // The gateway asked the upstream for usage and read on to it: 8 words = the fake's 8+ pieces.
    expect(entry?.estimated).toBe(false);
    expect(entry?.outputTokens).toBeGreaterThanOrEqual(8);
  });

  it('cancels the upstream call of a non-streaming request whose client leaves, without an error log', async () => {
    const [fake, gateway] = await setup();
    fake.script([{ kind: 'hang' }]);
    const controller = new AbortController();
    const sent = fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: body(false),
      signal: controller.signal,
    }).catch(() => null);
    await until(async () => fake.requests.length === 1);
    expect(fake.openConnections).toBe(1);
    controller.abort();
    await sent;
    // The hanging upstream call behind the aborted request is closed, not left to time out.
    await until(async () => fake.openConnections === 0);
    const logged = gateway.logs.filter((line) => line.includes('"level":"error"'));
    expect(logged).toEqual([]);
    await until(async () => (await entries(gateway)).some((entry) => entry.errorClass === 'aborted'));
  });

  it('drains on shutdown: readiness turns 503, in-flight streams finish, new requests are refused', async () => {
    const [fake, gateway] = await setup();
    fake.script([{ kind: 'slow-stream', intervalMs: 40, content: 'a b c d e f g h' }]);
    const inFlight = post(gateway.url, body(true)).then((response) => response.text());
    await until(async () => fake.requests.length === 1);
    const shutdown = gateway.running.shutdown();
    const refused = await post(gateway.url, body(false)).catch(() => null);
    // Either the listener is already closed (connection refused) or the request gets a 503.
    if (refused) expect(refused.status).toBe(503);
    const text = await inFlight;
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    await shutdown;
    const store = gateway.running.gateway.runtime.store;
    expect(store).toBeDefined();
  });

  it('reports not ready while draining', async () => {
    const [fake, gateway] = await setup();
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
    fake.script([{ kind: 'slow-stream', intervalMs: 50, content: 'x y z w' }]);
    const inFlight = post(gateway.url, body(true)).then((response) => response.text());
    await until(async () => fake.requests.length === 1);
    gateway.running.gateway.beginDrain();
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(503);
    const late = await post(gateway.url, body(false));
    expect(late.status).toBe(503);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('shutting_down');
    await inFlight;
  });

  it('sheds requests over the concurrency limit with a 503 JSON error', async () => {
    const [fake, gateway] = await setup({ maxConcurrentRequests: 2 });
    fake.setDefault({ kind: 'ok', delayMs: 300 });
    const responses = await Promise.all(Array.from({ length: 6 }, () => post(gateway.url, body(false))));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 200)).toHaveLength(2);
    expect(statuses.filter((status) => status === 503)).toHaveLength(4);
    const shed = responses.find((response) => response.status === 503);
    expect(shed?.headers.get('retry-after')).toBe('1');
    expect(((await (shed as Response).json()) as { error: { code: string } }).error.code).toBe('overloaded');
  });

  it('refuses oversized, non-UTF-8 and deeply nested bodies with a 4xx naming the problem', async () => {
    const [fake, gateway] = await setup({ maxBodyBytes: 64 * 1024 });
    const big = await post(
      gateway.url,
      JSON.stringify({ model: 'main', messages: [{ role: 'user', content: 'x'.repeat(100_000) }] }),
    );
    expect(big.status).toBe(413);
    const badUtf8 = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    });
    expect(badUtf8.status).toBe(400);
    expect(((await badUtf8.json()) as { error: { message: string } }).error.message).toContain('UTF-8');
    const deep = await post(gateway.url, `${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    expect(deep.status).toBe(400);
    const wrongType = await post(gateway.url, JSON.stringify({ model: 'main', messages: 'hello' }));
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { error: { param: string } }).error.param).toBe('messages');
    expect(fake.requests).toHaveLength(0);
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  });
});
