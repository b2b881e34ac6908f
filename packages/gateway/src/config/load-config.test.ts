// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${ENV}` references are the literal text under test.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.js';
import { config, ENV, errors, MASTER, OPENAI, parse, VALID, withModel } from './test-helpers.js';

describe('parseConfigText: a valid file', () => {
  it('resolves every field with its defaults', () => {
    const resolved = config(VALID);
    expect(resolved.server).toEqual({
      host: '127.0.0.1',
      port: 4100,
      maxBodyBytes: 4 * 1024 * 1024,
      maxConcurrentRequests: 1024,
      drainTimeoutMs: 10000,
      requestTimeoutMs: 600000,
    });
    expect(resolved.store.sqlite).toBe('/srv/gateway/.autocap/autocap.db');
    expect(resolved.auth.masterKey).toBe(MASTER);
    expect(resolved.logging.level).toBe('info');
    expect(resolved.source).toBe('autocap.yaml');
    expect(resolved.secrets).toEqual([MASTER, OPENAI]);
    const [llama, mini] = resolved.models;
    expect(llama).toEqual({
      name: 'llama-70b',
      provider: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:8000/v1',
      upstreamModel: 'meta-llama/Llama-3.1-70B-Instruct',
      apiKey: undefined,
      owned: true,
      price: { inputPerMtokUsd: 0.2, outputPerMtokUsd: 0.6, cachedInputPerMtokUsd: 0.2, source: 'config' },
      fallbacks: ['gpt-4o-mini'],
      timeouts: { connectMs: 5000, firstByteMs: 20000, idleMs: 30000 },
      maxAttempts: 3,
      retries: 1,
      maxConnections: 128,
      contextWindow: undefined,
      maxOutputTokens: undefined,
    });
    expect(mini?.baseUrl).toBe('https://api.openai.com/v1');
    expect(mini?.upstreamModel).toBe('gpt-4o-mini');
    expect(mini?.apiKey).toBe(OPENAI);
    expect(mini?.price).toEqual({
      inputPerMtokUsd: 0.15,
      outputPerMtokUsd: 0.6,
      cachedInputPerMtokUsd: 0.075,
      source: 'price-table',
    });
    expect(mini?.contextWindow).toBe(128000);
    expect(mini?.maxOutputTokens).toBe(16384);
  });

  it('lets config prices override the table one field at a time', () => {
    const resolved = config(
      withModel('{name: gpt-4o, provider: openai, api_key: k-0123456789, price: {output_per_mtok_usd: 8}}'),
    );
    expect(resolved.models[1]?.price).toEqual({
      inputPerMtokUsd: 2.5,
      outputPerMtokUsd: 8,
      cachedInputPerMtokUsd: 1.25,
      source: 'config',
    });
    // An input override prices cached input at that rate unless cached is given too.
    const input = config(
      withModel('{name: gpt-4o, provider: openai, api_key: k-0123456789, price: {input_per_mtok_usd: 1}}'),
    );
    expect(input.models[1]?.price.cachedInputPerMtokUsd).toBe(1);
  });

  it('keeps absolute and :memory: store paths as they are', () => {
    expect(
      config(
        withModel(
          '{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true}',
          'store: {sqlite: /var/lib/a.db}\n',
        ),
      ).store.sqlite,
    ).toBe('/var/lib/a.db');
    expect(
      config(
        withModel(
          '{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true}',
          'store: {sqlite: ":memory:"}\n',
        ),
      ).store.sqlite,
    ).toBe(':memory:');
  });

  it('notes owned models that are metered at $0', () => {
    const result = parse(
      withModel(
        '{name: local, provider: openai-compatible, base_url: http://127.0.0.1:11434/v1, owned: true}',
      ),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.models[1]?.price).toEqual({
      inputPerMtokUsd: 0,
      outputPerMtokUsd: 0,
      cachedInputPerMtokUsd: 0,
      source: 'unpriced',
    });
    expect(result.notices.join('\n')).toMatch(
      /metered at \$0: local \(models\.1\)\. Add fleet: .* or price:/,
    );
  });

  it('does not price an owned model from the rented-API table', () => {
    const resolved = config(
      withModel(
        '{name: gpt-4o, provider: openai-compatible, base_url: http://127.0.0.1:8000/v1, owned: true}',
      ),
    );
    expect(resolved.models[1]?.price.source).toBe('unpriced');
  });

  it('reads JSON too (YAML is a superset)', () => {
    const json = JSON.stringify({
      auth: { master_key: MASTER },
      models: [
        { name: 'a', provider: 'openai-compatible', base_url: 'http://127.0.0.1:8000/v1', owned: true },
      ],
    });
    expect(config(json).models[0]?.name).toBe('a');
  });
});

describe('${ENV} substitution', () => {
  it('substitutes inside strings and unescapes $${', () => {
    const text = withModel(
      '{name: a, provider: openai-compatible, base_url: "http://${HOST}:${PORT}/v1", upstream_model: "m-$${literal}", owned: true}',
    );
    const resolved = config(text, { ...ENV, HOST: 'gpu-1.internal', PORT: '8000' });
    expect(resolved.models[1]?.baseUrl).toBe('http://gpu-1.internal:8000/v1');
    expect(resolved.models[1]?.upstreamModel).toBe('m-${literal}');
  });

  it('names the field and the variable when the variable is not set', () => {
    expect(errors(VALID, { OPENAI_API_KEY: OPENAI })).toEqual([
      'auth.master_key refers to ${AUTOCAP_MASTER_KEY}, which is not set: export AUTOCAP_MASTER_KEY, or edit the config',
    ]);
    expect(errors(VALID, { AUTOCAP_MASTER_KEY: MASTER, OPENAI_API_KEY: '' })).toEqual([
      'models.1.api_key refers to ${OPENAI_API_KEY}, which is empty: give it a value, or edit the config',
    ]);
  });

  it('refuses malformed references', () => {
    expect(errors(VALID.replace('${OPENAI_API_KEY}', '"${OPENAI API KEY}"'))[0]).toMatch(
      /^models\.1\.api_key has a malformed reference: write \$\{NAME\}/,
    );
    expect(errors(VALID.replace('${OPENAI_API_KEY}', '"${OPENAI_API_KEY"'))[0]).toMatch(
      /malformed reference/,
    );
  });

  it('does not read inherited properties of the environment object', () => {
    expect(errors(VALID.replace('${OPENAI_API_KEY}', '${constructor}'))[0]).toMatch(
      /\$\{constructor\}, which is not set/,
    );
  });
});

describe('loadConfig: finding the file', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'autocap-config-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('reads ./autocap.yaml and resolves the store against its folder', async () => {
    await writeFile(join(directory, 'autocap.yaml'), VALID);
    const result = await loadConfig({
      cwd: directory,
      env: ENV,
      discover: () => Promise.reject(new Error('not called')),
    });
    expect(result.ok && result.config.source).toBe(join(directory, 'autocap.yaml'));
    expect(result.ok && result.config.store.sqlite).toBe(join(directory, '.autocap/autocap.db'));
  });

  it('falls back to ./autocap.yml', async () => {
    await writeFile(join(directory, 'autocap.yml'), VALID);
    const result = await loadConfig({ cwd: directory, env: ENV });
    expect(result.ok && result.config.source).toBe(join(directory, 'autocap.yml'));
  });

  it('takes --config relative to cwd, and says when it is missing', async () => {
    await mkdir(join(directory, 'conf'));
    await writeFile(join(directory, 'conf', 'gw.yaml'), VALID);
    const found = await loadConfig({ path: 'conf/gw.yaml', cwd: directory, env: ENV });
    expect(found.ok && found.config.store.sqlite).toBe(join(directory, 'conf/.autocap/autocap.db'));
    const missing = await loadConfig({ path: 'nope.yaml', cwd: directory, env: ENV });
    expect(missing).toEqual({
      ok: false,
      errors: ['nope.yaml: cannot read the config file (no such file)'],
      source: 'nope.yaml',
    });
  });
});

describe('the loader never throws', () => {
  const scalar = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(
      '${OPENAI_API_KEY}',
      '${NOPE}',
      '$${x}',
      'http://127.0.0.1:8000/v1',
      'openai',
      'owned',
      'a',
      'auto',
    ),
  );
  const key = fc.constantFrom(
    'server',
    'port',
    'host',
    'models',
    'name',
    'provider',
    'base_url',
    'api_key',
    'owned',
    'price',
    'fallbacks',
    'fleet',
    'gpu',
    'count',
    'auth',
    'master_key',
    'store',
    'sqlite',
    'input_per_mtok_usd',
    'timeout_ms',
    '__proto__',
    'x',
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
    array: fc.array(tie('node'), { maxLength: 4 }),
    object: fc.dictionary(key, tie('node'), { maxKeys: 5 }),
  })).node;

  it('returns ok:false (never throws) for random JSON documents', () => {
    fc.assert(
      fc.property(value, (document) => {
        const result = parse(JSON.stringify(document));
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });

  it('returns a result for random YAML-ish text', () => {
    const yamlish = fc
      .array(
        fc.constantFrom(
          'models:',
          '\n',
          '  - ',
          'name: a',
          '{',
          '}',
          '[',
          ']',
          ':',
          ',',
          '&a ',
          '*a',
          '!!binary ',
          '"',
          "'",
          '#',
          '${X}',
          'base_url: ',
          '? ',
          '|',
          '>',
          '\t',
          ' ',
        ),
        { maxLength: 40 },
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(yamlish, fc.string()), (text) => {
        const result = parse(text);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});
