import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { openAIErrorMessage } from './chat-schemas.js';
import {
  createUpstreamPool,
  postJson,
  postJsonStream,
  type UpstreamCall,
  type UpstreamPool,
} from './http-upstream.js';
import { parseRetryAfter, scrubSecrets, toUpstreamError } from './http-upstream-errors.js';
import type { CallContext } from './provider.js';
import { UpstreamError } from './upstream-error.js';

const SECRET = 'sk-canary-http-0a1b2c3d4e5f';
const NOW = Date.UTC(2025, 0, 1, 0, 0, 0);

function context(signal = new AbortController().signal): CallContext {
  return { signal, requestId: 'req-http', timeouts: { connectMs: 1000, firstByteMs: 2000, idleMs: 2000 } };
}

function call(overrides: Partial<UpstreamCall> = {}): UpstreamCall {
  return {
    path: '/chat/completions',
    headers: { authorization: `Bearer ${SECRET}` },
    body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
    context: context(),
    label: 'test',
    secrets: [SECRET],
    errorMessage: openAIErrorMessage,
    now: () => NOW,
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UpstreamError) return error;
    throw error;
  }
  throw new Error('expected an UpstreamError');
}

let fake: FakeUpstream;
let pool: UpstreamPool;

beforeAll(async () => {
  fake = await startFakeUpstream();
  pool = createUpstreamPool(`${fake.baseUrl}/`, { maxConnections: 4 });
});
afterAll(async () => {
  await pool.close();
  await fake.close();
});

describe('createUpstreamPool / postJson', () => {
  it('posts to the base path and returns parsed JSON', async () => {
    const response = await postJson(pool, call());
    expect(response.status).toBe(200);
    expect(pool.host).toBe(new URL(fake.url).host);
    expect(fake.requests.at(-1)?.path).toBe('/v1/chat/completions');
    expect(fake.requests.at(-1)?.headers['x-request-id']).toBe('req-http');
  });

  it('limits the body size', async () => {
    const error = await failure(postJson(pool, call({ maxBodyBytes: 64 })));
    expect(error.kind).toBe('malformed');
    expect(error.message).toContain('larger than 64 bytes');
  });

  it('reads Retry-After in its HTTP-date form against the injected clock', async () => {
    fake.script([{ kind: 'status', status: 503, retryAfter: 'Wed, 01 Jan 2025 00:00:30 GMT' }]);
    const error = await failure(postJson(pool, call()));
    expect(error).toMatchObject({ kind: 'http', status: 503, retryAfterMs: 30_000, retryable: true });
  });

  it('scrubs an echoed Authorization header from error messages', async () => {
    fake.script([{ kind: 'echo-headers', status: 400 }]);
    const error = await failure(postJson(pool, call()));
    expect(error.upstreamMessage).toContain('authorization');
    expect(`${error.message}${error.upstreamMessage}`).not.toContain(SECRET);
  });

  it('fails fast on an already aborted signal, and aborts a stream when the client goes away', async () => {
    const gone = new AbortController();
    gone.abort();
    expect((await failure(postJson(pool, call({ context: context(gone.signal) })))).kind).toBe('aborted');
    fake.script([{ kind: 'slow-stream', intervalMs: 50 }]);
    const controller = new AbortController();
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true };
    const response = await postJsonStream(pool, call({ body, context: context(controller.signal) }));
    const read = (async () => {
      for await (const _event of response.events) controller.abort();
    })();
    const error = await failure(read);
    expect(error).toMatchObject({ kind: 'aborted', retryable: false });
  });
});

describe('parseRetryAfter', () => {
  const now = () => NOW;
  it.each([
    [{ 'retry-after': '2' }, 2000],
    [{ 'retry-after': '1.5' }, 1500],
    [{ 'retry-after': 'Wed, 01 Jan 2025 00:01:00 GMT' }, 60_000],
    [{ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }, 0],
    [{ 'retry-after-ms': '250', 'retry-after': '9' }, 250],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
  ])('%j → %s', (headers, expected) => {
    expect(parseRetryAfter(headers, now)).toBe(expected);
  });
});

describe('toUpstreamError', () => {
  const scope = { label: 'test', host: '127.0.0.1:1', secrets: [SECRET] };
  const signal = new AbortController().signal;
  const coded = (code: string, message = 'boom') => Object.assign(new Error(message), { code });
  it.each([
    ['ECONNREFUSED', 'connect'],
    ['ENOTFOUND', 'connect'],
    ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
    ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
    ['UND_ERR_BODY_TIMEOUT', 'timeout'],
    ['ECONNRESET', 'reset'],
    ['UND_ERR_SOCKET', 'reset'],
    ['UND_ERR_ABORTED', 'aborted'],
    ['HPE_INVALID_CONSTANT', 'malformed'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'connect'],
  ])('%s → %s', (code, kind) => {
    expect(toUpstreamError(coded(code), scope, signal).kind).toBe(kind);
  });

  it('reads codes through AggregateError and cause, and maps AbortError', () => {
    const aggregate = new AggregateError([coded('ECONNREFUSED')], 'all failed');
    expect(toUpstreamError(aggregate, scope, signal).kind).toBe('connect');
    expect(toUpstreamError(new Error('x', { cause: coded('ECONNRESET') }), scope, signal).kind).toBe('reset');
    expect(toUpstreamError(new DOMException('stop', 'AbortError'), scope, signal).kind).toBe('aborted');
  });

  it('scrubs secrets from transport messages', () => {
    const error = toUpstreamError(coded('ECONNRESET', `failed with key ${SECRET}`), scope, signal);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).toContain('[redacted]');
  });
});

describe('scrubSecrets', () => {
  it('redacts the given secrets, bearer tokens and key-looking strings', () => {
    const text = `key=${SECRET} Authorization: Bearer abc.def-123 other sk-proj-ABCDEFGHIJKL`;
    const scrubbed = scrubSecrets(text, [SECRET, undefined]);
    expect(scrubbed).toBe('key=[redacted] Authorization: Bearer [redacted] other [redacted]');
  });
});
