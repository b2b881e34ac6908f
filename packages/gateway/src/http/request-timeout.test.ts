/**
 * `server.request_timeout_ms` bounds a whole request, retries and fallbacks included: no attempt
 * starts past it, and each attempt's own timeout is cut to what is left of it. The lease expiry of
 * budgets relies on this (a request admitted from a lease ends within the request timeout).
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { startTestGateway, type TestGateway, testModel } from '../test-support/test-gateway.js';

const REQUEST_TIMEOUT_MS = 400;
const ATTEMPT_TIMEOUT_MS = 300;

let primary: FakeUpstream;
let backup: FakeUpstream;
let gateway: TestGateway;

const ask = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Say hello.' }] });
const timeouts = { connectMs: 1000, firstByteMs: ATTEMPT_TIMEOUT_MS, idleMs: 5000 };

beforeAll(async () => {
  [primary, backup] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  gateway = await startTestGateway(
    [
      testModel('main', primary.baseUrl, { fallbacks: ['backup'], retries: 1, maxAttempts: 4, timeouts }),
      testModel('backup', backup.baseUrl, { timeouts }),
      testModel('patient', primary.baseUrl, {
        retries: 0,
        maxAttempts: 1,
        timeouts: { ...timeouts, firstByteMs: 10_000 },
      }),
    ],
    { server: { requestTimeoutMs: REQUEST_TIMEOUT_MS } },
  );
});
afterAll(async () => {
  await gateway.close();
  await Promise.all([primary.close(), backup.close()]);
});
beforeEach(() => {
  primary.reset();
  backup.reset();
});

async function timed<T>(work: Promise<T>): Promise<{ result: T; elapsedMs: number }> {
  const started = performance.now();
  const result = await work;
  return { result, elapsedMs: performance.now() - started };
}

describe('server.request_timeout_ms', () => {
  it('cuts an attempt whose own timeout is longer than the request has left', async () => {
    primary.setDefault({ kind: 'hang' });
    const { result, elapsedMs } = await timed(
      gateway.client.chat.completions.create(ask('patient')).catch((error: unknown) => error),
    );
    expect(result).toBeInstanceOf(OpenAI.APIError);
    expect((result as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    // Without the request timeout the model's own 10 s would apply.
    expect(elapsedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1000);
  });

  it('starts no retry or fallback past it, and the ledger keeps every attempt made', async () => {
    primary.setDefault({ kind: 'hang' });
    backup.setDefault({ kind: 'hang' });
    const { result, elapsedMs } = await timed(
      gateway.client.chat.completions
        .create(ask('main'))
        .withResponse()
        .catch((error: unknown) => error),
    );
    expect(result).toBeInstanceOf(OpenAI.APIError);
    const failure = result as InstanceType<typeof OpenAI.APIError>;
    expect(failure.status).toBe(504);
    expect(failure.message).toContain('server.request_timeout_ms');
    // Four attempts of 300 ms would take 1.2 s. The first runs out; the retry gets what is left,
    // unless its backoff (jittered) already reached the deadline.
    const made = primary.requests.length + backup.requests.length;
    expect(made).toBeGreaterThanOrEqual(1);
    expect(made).toBeLessThanOrEqual(2);
    expect(elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1000);
    const requestId = failure.headers?.get('x-autocap-request-id') ?? '';
    await gateway.running.gateway.runtime.ledger.caughtUp();
    const page = await gateway.running.gateway.runtime.store.pageLedger({ limit: 1000 });
    const attempts = page.entries.filter((entry) => entry.requestId === requestId);
    expect(attempts.map((entry) => [entry.status, entry.errorClass])).toEqual(
      Array.from({ length: made }, () => ['error', 'timeout']),
    );
  });

  it('bounds a stream that is still going when the request runs out of time', async () => {
    // About 30 chunks, 100 ms apart: 3 s, far past the request timeout.
    const content = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    primary.script([{ kind: 'slow-stream', intervalMs: 100, content }]);
    const stream = await gateway.client.chat.completions.create({ ...ask('patient'), stream: true });
    const { result, elapsedMs } = await timed(
      (async () => {
        for await (const _chunk of stream) {
          // reading until the gateway ends the stream
        }
      })().catch((error: unknown) => error),
    );
    expect(result).toBeInstanceOf(OpenAI.APIError);
    expect(elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1000);
  });

  it('lets a request that answers in time through', async () => {
    primary.script([{ kind: 'ok', content: 'on time', delayMs: 50 }]);
    const data = await gateway.client.chat.completions.create(ask('main'));
    expect(data.choices[0]?.message.content).toBe('on time');
  });
});
