/**
 * Property-based fuzzing of the request path (read-body, the ChatRequest schema, routing to the
 * provider): random JSON, random bytes, wrong types and deep nesting POSTed to a running gateway
 * must give a 4xx JSON error with a message, or a 200 from the upstream when the body happens to
 * be valid; never a 5xx, never a crash. Every input that ever broke something is kept in
 * `__fixtures__/request-regressions.json` and replayed on each run.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { MASTER_KEY, startTestGateway, type TestGateway, testModel } from '../test-support/test-gateway.js';

interface Regression {
  /** What broke, when, and how it showed. */
  readonly name: string;
  /** The raw body (UTF-8), or `bodyBase64` for bytes that are not text. */
  readonly body?: string;
  readonly bodyBase64?: string;
  /** `{ "prefix", "repeat", "times", "suffix" }`: a body too large to keep literally. */
  readonly generated?: {
    prefix: string;
    repeat: string;
    times: number;
    middle?: string;
    close?: string;
    suffix: string;
  };
  readonly contentType?: string;
  /** The status the gateway gives now. */
  readonly status: number;
}

const REGRESSIONS: readonly Regression[] = JSON.parse(
  readFileSync(new URL('./__fixtures__/request-regressions.json', import.meta.url), 'utf8'),
) as Regression[];

const SEED = 4_2_2024;
const MAX_BODY_BYTES = 1024 * 1024;

let fake: FakeUpstream;
let gateway: TestGateway;

beforeAll(async () => {
  fake = await startFakeUpstream();
  gateway = await startTestGateway([testModel('main', fake.baseUrl, { retries: 0, maxAttempts: 1 })], {
    server: { maxBodyBytes: MAX_BODY_BYTES },
  });
});
afterAll(async () => {
  await gateway.close();
  await fake.close();
});

interface Outcome {
  readonly status: number;
  readonly code: string | undefined;
  readonly message: string | undefined;
}

async function post(body: string | Uint8Array, contentType = 'application/json'): Promise<Outcome> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': contentType },
    body,
  });
  const text = await response.text();
  if (response.status < 400) return { status: response.status, code: undefined, message: undefined };
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const parsed = JSON.parse(text) as { error?: { message?: string; code?: string } };
  return { status: response.status, code: parsed.error?.code, message: parsed.error?.message };
}

/** The property every input must satisfy. */
async function expectHandled(body: string | Uint8Array, contentType?: string): Promise<Outcome> {
  const outcome = await post(body, contentType);
  const label =
    typeof body === 'string' ? body.slice(0, 200) : Buffer.from(body).subarray(0, 200).toString('hex');
  expect(outcome.status, label).toBeLessThan(500);
  if (outcome.status >= 400) {
    expect(outcome.message, label).toMatch(/\w{3}/);
    expect(outcome.status, label).toBeGreaterThanOrEqual(400);
  } else {
    expect(outcome.status, label).toBe(200);
  }
  return outcome;
}

/** `[[[…]]]` or `{"a":{"a":…}}` `depth` levels deep. */
function nested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Where a loose (unchecked) value can sit in an otherwise valid request. */
const PLACES = [
  (value: string) => `{"model":"main","messages":[{"role":"user","content":"hi"}],"extra":${value}}`,
  (value: string) => `{"model":"main","messages":[{"role":"user","content":"hi","extra":${value}}]}`,
  (value: string) =>
    `{"model":"main","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"p":${value}}}}]}`,
  (value: string) =>
    `{"model":"main","stream":true,"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"p":${value}}}}}`,
  (value: string) =>
    `{"model":"main","messages":[{"role":"user","content":[{"type":"text","text":"hi","x":${value}}]}]}`,
];

function regressionBody(regression: Regression): string | Uint8Array {
  if (regression.bodyBase64 !== undefined) return Buffer.from(regression.bodyBase64, 'base64');
  const generated = regression.generated;
  if (generated !== undefined) {
    return `${generated.prefix}${generated.repeat.repeat(generated.times)}${generated.middle ?? ''}${(generated.close ?? '').repeat(generated.times)}${generated.suffix}`;
  }
  return regression.body ?? '';
}

describe('regressions: every request input that ever crashed the gateway', () => {
  it.each(REGRESSIONS.map((regression) => [regression.name, regression] as const))(
    '%s',
    async (_name, regression) => {
      const outcome = await expectHandled(regressionBody(regression), regression.contentType);
      expect(outcome.status).toBe(regression.status);
    },
  );
});

describe('fixed hostile bodies', () => {
  it('refuses a 10 MB body with a 413 and stays up', async () => {
    const big = JSON.stringify({
      model: 'main',
      messages: [{ role: 'user', content: 'x'.repeat(10 * 1024 * 1024) }],
    });
    const outcome = await expectHandled(big);
    expect(outcome.status).toBe(413);
    expect(outcome.message).toContain(String(MAX_BODY_BYTES));
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  });

  it.each(['array', 'object'] as const)(
    'refuses 10,000-deep %s nesting anywhere in the body with a 400 naming it',
    async (kind) => {
      const deep = nested(10_000, kind);
      for (const body of [deep, ...PLACES.map((place) => place(deep))]) {
        const outcome = await expectHandled(body);
        expect(outcome.status, body.slice(0, 120)).toBe(400);
        expect(outcome.message, body.slice(0, 120)).toMatch(/nested/);
      }
    },
  );

  it('accepts ordinary nesting (a JSON schema 20 levels deep)', async () => {
    const outcome = await expectHandled(PLACES[2]?.(nested(20, 'object')) ?? '');
    expect(outcome.status).toBe(200);
  });

  it.each([
    ['malformed JSON', '{"model": "main", "messages": [', 'invalid_json', 400],
    [
      'trailing garbage',
      '{"model":"main","messages":[{"role":"user","content":"hi"}]} x',
      'invalid_json',
      400,
    ],
    ['an empty body', '', 'invalid_json', 400],
    ['a JSON string', '"hello"', 'invalid_request', 400],
    ['null', 'null', 'invalid_request', 400],
    ['wrong types', '{"model":1,"messages":{"role":"user"}}', 'invalid_request', 400],
    [
      'a negative max_tokens',
      '{"model":"main","messages":[{"role":"user","content":"hi"}],"max_tokens":-1}',
      'invalid_request',
      400,
    ],
    [
      'a huge number',
      '{"model":"main","messages":[{"role":"user","content":"hi"}],"max_tokens":1e400}',
      'invalid_request',
      400,
    ],
    [
      '__proto__',
      '{"__proto__":{"model":"main"},"messages":[{"role":"user","content":"hi"}]}',
      'invalid_request',
      400,
    ],
    [
      'an unknown model',
      '{"model":"gpt-x","messages":[{"role":"user","content":"hi"}]}',
      'model_not_found',
      404,
    ],
  ])('refuses %s with a 4xx naming the problem', async (_name, body, code, status) => {
    const outcome = await expectHandled(body);
    expect(outcome).toMatchObject({ status, code });
  });

  it('refuses invalid UTF-8 and a wrong content type', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"model":"main","messages":[{"role":"user","content":"'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}]}'),
    ]);
    expect(await expectHandled(bytes)).toMatchObject({
      status: 400,
      message: expect.stringContaining('UTF-8'),
    });
    expect(await expectHandled('{}', 'text/plain')).toMatchObject({ status: 415 });
  });

  it('passes prototype-looking keys through as data without polluting anything', async () => {
    const body =
      '{"model":"main","messages":[{"role":"user","content":"hi","__proto__":{"role":"system"}}],"constructor":{"prototype":{"isMaster":true}}}';
    expect((await expectHandled(body)).status).toBe(200);
    expect(({} as Record<string, unknown>)['isMaster']).toBeUndefined();
  });
});

describe('properties', () => {
  const RUNS = 150;
  const run = (
    property: fc.IAsyncPropertyWithHooks<[string | Uint8Array]> | fc.IAsyncProperty<[string | Uint8Array]>,
  ) => fc.assert(property, { seed: SEED, numRuns: RUNS });

  it('any JSON value as the body is a 4xx JSON error or a 200', async () => {
    await run(fc.asyncProperty(fc.json({ maxDepth: 6 }), async (text) => void (await expectHandled(text))));
  });

  it('random text and random bytes as the body are a 4xx JSON error', async () => {
    const body = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 400 }),
      fc.json({ maxDepth: 3 }).map((text) => text.slice(0, Math.max(0, text.length - 1))),
    );
    await run(fc.asyncProperty(body, async (value) => void (await expectHandled(value))));
  });

  it('requests with the right shape and wrong types or extra fields are handled', async () => {
    const anything = fc.anything({ maxDepth: 3, withNullPrototype: false, withBigInt: false });
    const message = fc.oneof(
      fc.record({
        role: fc.constantFrom('user', 'system', 'assistant', 'tool', 'developer', 'function', 'x'),
        content: fc.oneof(fc.string(), anything),
      }),
      anything,
    );
    const request = fc.record(
      {
        model: fc.oneof(fc.constant('main'), fc.string(), anything),
        messages: fc.oneof(fc.array(message, { maxLength: 3 }), anything),
        stream: fc.oneof(fc.boolean(), anything),
        max_tokens: fc.oneof(fc.integer(), fc.double(), anything),
        tools: fc.array(
          fc.record({
            type: fc.constant('function'),
            function: fc.record({ name: fc.string(), parameters: fc.dictionary(fc.string(), anything) }),
          }),
          { maxLength: 2 },
        ),
        metadata: fc.oneof(fc.dictionary(fc.string(), fc.string()), anything),
        extra: anything,
      },
      { requiredKeys: ['model', 'messages'] },
    );
    await run(
      fc.asyncProperty(
        request.map((value) => JSON.stringify(value) ?? 'null'),
        async (text) => void (await expectHandled(text)),
      ),
    );
  });

  it('deep nesting at any depth and in any loose field is refused or served, never a 5xx', async () => {
    const body = fc
      .tuple(
        fc.integer({ min: 1, max: 12_000 }),
        fc.constantFrom('array', 'object' as const),
        fc.nat(PLACES.length - 1),
      )
      .map(
        ([depth, kind, place]) => PLACES[place]?.(nested(depth, kind === 'array' ? 'array' : 'object')) ?? '',
      );
    await run(fc.asyncProperty(body, async (text) => void (await expectHandled(text))));
  });
});
