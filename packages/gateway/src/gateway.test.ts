/**
 * End to end: a real gateway (HTTP, SQLite, ledger) driven by the official `openai` SDK against
 * fake upstreams on 127.0.0.1 that speak the OpenAI and Anthropic wire formats, failures included.
 */
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from './store/sqlite/sqlite-store.js';
import type { LedgerEntry } from './store/store.js';
import { type FakeUpstream, startFakeUpstream } from './test-support/fake-upstream.js';
import {
  CANARY_KEY,
  MASTER_KEY,
  startTestGateway,
  type TestGateway,
  testModel,
} from './test-support/test-gateway.js';

let primary: FakeUpstream;
let backup: FakeUpstream;
let claude: FakeUpstream;
let gateway: TestGateway;

const ask = (model = 'main') => ({ model, messages: [{ role: 'user' as const, content: 'Say hello.' }] });
const usage = { input: 100, output: 20 };

async function ledger(): Promise<LedgerEntry[]> {
  // The ledger is journaled first and moved into the store in batches: wait until it is there.
  await gateway.running.gateway.runtime.ledger.caughtUp();
  const page = await gateway.running.gateway.runtime.store.pageLedger({ limit: 1000 });
  return [...page.entries];
}
async function entriesFor(requestId: string): Promise<LedgerEntry[]> {
  return (await ledger()).filter((entry) => entry.requestId === requestId);
}

beforeAll(async () => {
  [primary, backup, claude] = await Promise.all([
    startFakeUpstream(),
    startFakeUpstream(),
    startFakeUpstream(),
  ]);
  gateway = await startTestGateway([
    testModel('main', primary.baseUrl, { fallbacks: ['backup'] }),
    testModel('backup', backup.baseUrl, {
      price: { inputPerMtokUsd: 3, outputPerMtokUsd: 15, cachedInputPerMtokUsd: 0.3, source: 'config' },
    }),
    testModel('solo', primary.baseUrl, { retries: 0, maxAttempts: 1 }),
    testModel('claude', claude.baseUrl, { provider: 'anthropic', upstreamModel: 'claude-sonnet-4-5' }),
    testModel('local', backup.baseUrl, { owned: true, fallbacks: ['main'] }),
  ]);
});
afterAll(async () => {
  await gateway.close();
  await Promise.all([primary.close(), backup.close(), claude.close()]);
});
beforeEach(() => {
  primary.reset();
  backup.reset();
  claude.reset();
  // Each test starts with closed circuits; the circuit test below opens one on purpose.
  for (const upstream of gateway.running.gateway.runtime.upstreams.values()) upstream.breaker.onSuccess();
});

describe('the gateway with the official openai SDK', () => {
  it('answers a chat completion, names the model that served and its cost, and records one entry', async () => {
    primary.script([{ kind: 'ok', content: 'Hi there!', usage }]);
    const { data, response } = await gateway.client.chat.completions.create(ask()).withResponse();
    expect(data.choices[0]?.message.content).toBe('Hi there!');
    const requestId = response.headers.get('x-autocap-request-id') ?? '';
    expect(response.headers.get('x-autocap-model')).toBe('main');
    // 100 input tokens at $1/Mtok + 20 output at $2/Mtok
    expect(Number(response.headers.get('x-autocap-cost-usd'))).toBeCloseTo((100 * 1 + 20 * 2) / 1e6, 12);
    const [entry, ...rest] = await entriesFor(requestId);
    expect(rest).toHaveLength(0);
    expect(entry).toMatchObject({
      attempt: 1,
      modelRequested: 'main',
      modelServed: 'main',
      inputTokens: 100,
      outputTokens: 20,
      estimated: false,
      status: 'ok',
      streamed: false,
      keyId: 'master',
    });
    // The upstream got its own model name and the provider key, never the client's key.
    expect(primary.requests[0]?.body).toMatchObject({ model: 'main-upstream' });
    expect(primary.requests[0]?.headers.authorization).toBe(`Bearer ${CANARY_KEY}`);
  });

  it('streams, forwards the usage chunk only when asked, and meters the stream', async () => {
    primary.script([{ kind: 'ok', content: 'one two three', usage }]);
    const stream = await gateway.client.chat.completions.create({
      ...ask(),
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let reported: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) reported = chunk.usage;
    }
    expect(text).toBe('one two three');
    expect(reported).toMatchObject({ prompt_tokens: 100, completion_tokens: 20 });

    primary.script([{ kind: 'ok', content: 'quiet', usage }]);
    const chunks = [];
    for await (const chunk of await gateway.client.chat.completions.create({ ...ask(), stream: true }))
      chunks.push(chunk);
    expect(chunks.every((chunk) => chunk.usage == null)).toBe(true);
    const entries = (await ledger()).filter((entry) => entry.streamed);
    expect(entries.at(-1)).toMatchObject({
      inputTokens: 100,
      outputTokens: 20,
      status: 'ok',
      estimated: false,
    });
    expect(entries.at(-1)?.ttftMs).not.toBeNull();
  });

  it('works with the SDK streaming helper', async () => {
    primary.script([{ kind: 'ok', content: 'helper text', usage }]);
    const runner = gateway.client.chat.completions.stream(ask());
    const completion = await runner.finalChatCompletion();
    expect(completion.choices[0]?.message.content).toBe('helper text');
  });

  it('estimates usage with a tokenizer when the stream carries none', async () => {
    primary.script([{ kind: 'no-usage', content: 'Counting these words by hand' }]);
    const stream = await gateway.client.chat.completions.create({
      ...ask(),
      stream: true,
      stream_options: { include_usage: true },
    });
    let reported: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) reported = chunk.usage;
    const entry = (await ledger()).at(-1);
    expect(entry).toMatchObject({ estimated: true, status: 'ok' });
    expect(entry?.outputTokens).toBeGreaterThan(3);
    expect(entry?.inputTokens).toBeGreaterThan(3);
    expect(reported?.completion_tokens).toBe(entry?.outputTokens); // the client gets the gateway's count
  });

  it('retries, then falls back, and records every attempt once', async () => {
    primary.script([
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
    ]);
    backup.script([{ kind: 'ok', content: 'from backup', usage }]);
    const { data, response } = await gateway.client.chat.completions.create(ask()).withResponse();
    expect(data.choices[0]?.message.content).toBe('from backup');
    expect(response.headers.get('x-autocap-model')).toBe('backup');
    expect(primary.requests).toHaveLength(2);
    expect(backup.requests).toHaveLength(1);
    const entries = await entriesFor(response.headers.get('x-autocap-request-id') ?? '');
    expect(
      entries.map((entry) => [entry.attempt, entry.modelServed, entry.status, entry.upstreamStatus]),
    ).toEqual([
      [1, 'main', 'error', 500],
      [2, 'main', 'error', 503],
      [3, 'backup', 'ok', 200],
    ]);
    // The client is charged what the upstream billed: the backup's price, for the one answer.
    expect(Number(response.headers.get('x-autocap-cost-usd'))).toBeCloseTo((100 * 3 + 20 * 15) / 1e6, 12);
  });

  it('honours Retry-After on a 429 and succeeds on the same model', async () => {
    primary.script([
      { kind: 'status', status: 429, retryAfter: '0' },
      { kind: 'ok', content: 'later' },
    ]);
    const { data, response } = await gateway.client.chat.completions.create(ask()).withResponse();
    expect(data.choices[0]?.message.content).toBe('later');
    expect(response.headers.get('x-autocap-model')).toBe('main');
    expect(backup.requests).toHaveLength(0);
  });

  it('never falls back on a 4xx that is the request’s fault, and the SDK raises its error class', async () => {
    primary.script([{ kind: 'status', status: 400, message: 'max_tokens is too large' }]);
    const failure = await gateway.client.chat.completions.create(ask()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    expect((failure as Error).message).toContain('max_tokens is too large');
    expect(backup.requests).toHaveLength(0);
  });

  it.each([
    ['a hang', { kind: 'hang' }],
    ['a connection reset', { kind: 'reset' }],
    ['malformed JSON', { kind: 'malformed' }],
    ['a truncated body', { kind: 'truncated' }],
  ] as const)('fails over on %s', async (_name, behaviour) => {
    primary.script([behaviour, behaviour]);
    backup.script([{ kind: 'ok', content: 'rescued' }]);
    const data = await gateway.client.chat.completions.create(ask());
    expect(data.choices[0]?.message.content).toBe('rescued');
  });

  it('opens the circuit after repeated failures and skips the model until a probe succeeds', async () => {
    primary.setDefault({ kind: 'status', status: 500 });
    backup.setDefault({ kind: 'ok', content: 'backup' });
    for (let i = 0; i < 3; i++) await gateway.client.chat.completions.create(ask());
    expect(primary.requests).toHaveLength(5); // two per request until the fifth failure opens the circuit
    const skipped = await gateway.client.chat.completions.create(ask()).withResponse();
    expect(skipped.response.headers.get('x-autocap-model')).toBe('backup');
    expect(primary.requests).toHaveLength(5);
    const metrics = await (
      await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })
    ).text();
    expect(metrics).toContain('autocap_circuit_state{model="main"} 2');
  });

  it('ends a stream that breaks after its first byte with an error the SDK raises, and meters it', async () => {
    primary.script([{ kind: 'truncated', afterChunks: 3 }]);
    const stream = await gateway.client.chat.completions.create({ ...ask(), stream: true });
    const failure = await (async () => {
      for await (const _chunk of stream) {
        // reading
      }
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(backup.requests).toHaveLength(0); // nothing is retried once bytes have gone out
    const entry = (await ledger()).at(-1);
    expect(entry).toMatchObject({ status: 'error', errorClass: 'truncated', streamed: true });
  });

  it('keys entries by its own ids even when the upstream repeats response ids', async () => {
    primary.setDefault({ kind: 'repeat-id', content: 'same id' });
    const first = await gateway.client.chat.completions.create(ask()).withResponse();
    const second = await gateway.client.chat.completions.create(ask()).withResponse();
    expect(first.data.id).toBe(second.data.id);
    const ids = [first, second].map((result) => result.response.headers.get('x-autocap-request-id') ?? '');
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(await entriesFor(id)).toHaveLength(1);
  });

  it('translates to Anthropic and back, streaming and tool calls included', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    const answer = await gateway.client.chat.completions.create({ ...ask('claude'), tools });
    const call = answer.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' ? call.function.name : undefined).toBe('get_weather');
    expect(answer.choices[0]?.finish_reason).toBe('tool_calls');
    expect(claude.requests[0]?.path).toBe('/v1/messages');
    expect(claude.requests[0]?.headers['x-api-key']).toBe(CANARY_KEY);

    claude.script([{ kind: 'ok', content: 'streamed from claude', usage }]);
    let text = '';
    for await (const chunk of await gateway.client.chat.completions.create({
      ...ask('claude'),
      stream: true,
    })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('streamed from claude');
    expect((await ledger()).at(-1)).toMatchObject({
      provider: 'anthropic',
      inputTokens: 100,
      outputTokens: 20,
    });
  });

  it('refuses bad keys, unknown models and bad bodies with OpenAI-shaped errors', async () => {
    const stranger = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-not-a-key', maxRetries: 0 });
    await expect(stranger.chat.completions.create(ask())).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(gateway.client.chat.completions.create(ask('nope'))).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    const raw = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: '{"model": "main", "messages": ',
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    const redirected = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...ask(), api_base: 'http://169.254.169.254/' }),
    });
    expect(redirected.status).toBe(400);
    expect(((await redirected.json()) as { error: { message: string } }).error.message).toContain('api_base');
    expect(primary.requests).toHaveLength(0);
  });

  it('lists models, serves metrics to the master key only, and never leaks the provider key', async () => {
    const models = await gateway.client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['main', 'backup', 'solo', 'claude', 'local']);
    primary.script([{ kind: 'echo-headers', status: 500 }]);
    const failure = await gateway.client.chat.completions
      .create(ask('solo'))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    const metrics = await fetch(`${gateway.url}/metrics`, {
      headers: { authorization: `Bearer ${MASTER_KEY}` },
    });
    const text = await metrics.text();
    expect(text).toContain('autocap_upstream_attempts_total');
    expect(text).toContain('autocap_circuit_state{model="main"}');
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(401);
    const everything = [
      text,
      String((failure as Error).message),
      JSON.stringify(await ledger()),
      gateway.logs.join(''),
      readFileSync(gateway.sqlitePath).toString('latin1'),
    ];
    for (const place of everything) expect(place).not.toContain(CANARY_KEY);
  });

  it('keeps private data on owned models: refuses a rented model and never falls back to one', async () => {
    const privately = { metadata: { data_class: 'private', task: 'hr-review' } };
    const refused = await gateway.client.chat.completions
      .create({ ...ask('main'), ...privately })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((refused as Error).message).toMatch(/only owned models may serve.*Owned models: local/);
    backup.script([
      { kind: 'status', status: 500 },
      { kind: 'status', status: 500 },
    ]);
    const failed = await gateway.client.chat.completions
      .create({ ...ask('local'), ...privately })
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect(primary.requests).toHaveLength(0); // 'main' is rented: the private request never left
    const entries = (await ledger()).slice(-2);
    expect(entries.map((entry) => [entry.modelServed, entry.metadata['data_class']])).toEqual([
      ['local', 'private'],
      ['local', 'private'],
    ]);
    backup.script([{ kind: 'ok', content: 'kept inside' }]);
    const served = await gateway.client.chat.completions.create({ ...ask('local'), ...privately });
    expect(served.choices[0]?.message.content).toBe('kept inside');
  });

  it('accepts virtual keys created in the store, limited to their models', async () => {
    const { hashKey } = await import('./auth/keys.js');
    const store = openSqliteStore(gateway.sqlitePath);
    await store.insertKey({
      id: 'key_test',
      hash: hashKey('ak-test-virtual-key'),
      name: 'test',
      createdAtMs: 0,
      expiresAtMs: null,
      allowedModels: ['backup'],
      revoked: false,
    });
    await store.close();
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'ak-test-virtual-key', maxRetries: 0 });
    backup.script([{ kind: 'ok', content: 'virtual' }]);
    const answer = await client.chat.completions.create(ask('backup'));
    expect(answer.choices[0]?.message.content).toBe('virtual');
    await expect(client.chat.completions.create(ask('main'))).rejects.toBeInstanceOf(
      OpenAI.PermissionDeniedError,
    );
    expect((await ledger()).at(-1)?.keyId).toBe('key_test');
  });
});
