// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${ENV}` references are the literal text under test.
import { describe, expect, it } from 'vitest';
import { findFallbackCycles } from './fallback-graph.js';
import { redactSecrets } from './load-config.js';
import { config, ENV, errors, MASTER, OPENAI, VALID, withModel } from './test-helpers.js';

describe('parseConfigText: errors name the field and the fix', () => {
  const cases: [string, string, RegExp][] = [
    [
      'unknown top-level field',
      `serer: {port: 1}\n${VALID}`,
      /^serer is not a known field: did you mean server\?/,
    ],
    [
      'unknown model field',
      withModel('{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, fallback: []}'),
      /^models\.1\.fallback is not a known field: did you mean models\.1\.fallbacks\?/,
    ],
    [
      'wrong type',
      VALID.replace('port: 4100', 'port: high'),
      /^server\.port is "high": expected a whole number \(TCP port.*\(example: server\.port: 4000\)/,
    ],
    [
      'bad provider',
      withModel('{name: a, provider: azure, base_url: http://h/v1}'),
      /^models\.1\.provider is "azure": expected one of openai-compatible, openai, anthropic/,
    ],
    ['missing models', 'server: {port: 4000}\n', /^models is missing: expected a list of models/],
    ['empty models', 'models: []\n', /^models is empty: list at least one model/],
    [
      'name with spaces',
      withModel('{name: "my model", provider: openai-compatible, base_url: http://h/v1, owned: true}'),
      /^models\.1\.name is "my model": expected a model name without spaces/,
    ],
    [
      'reserved name',
      withModel('{name: auto, provider: openai-compatible, base_url: http://h/v1, owned: true}'),
      /^models\.1\.name "auto" is reserved/,
    ],
    [
      'duplicate name',
      withModel('{name: gpt-4o-mini, provider: openai, api_key: k-0123456789}'),
      /^models\.1\.name "gpt-4o-mini" is already used by models\.0: model names must be unique/,
    ],
    [
      'missing base_url',
      withModel('{name: a, provider: openai-compatible, owned: true}'),
      /^models\.1\.base_url is missing: openai-compatible models need the server's URL \(example: models\.1\.base_url: http:\/\/127\.0\.0\.1:8000\/v1\)/,
    ],
    [
      'ftp base_url',
      withModel('{name: a, provider: openai-compatible, base_url: "ftp://x", owned: true}'),
      /^models\.1\.base_url is "ftp:\/\/x": expected an http\(s\) URL/,
    ],
    [
      'not a URL',
      withModel('{name: a, provider: openai-compatible, base_url: "localhost", owned: true}'),
      /^models\.1\.base_url is "localhost": expected an http\(s\) URL/,
    ],
    [
      'userinfo',
      withModel('{name: a, provider: openai-compatible, base_url: "http://bob:pw@h/v1", owned: true}'),
      /^models\.1\.base_url contains a user name or password: remove it/,
    ],
    [
      'query',
      withModel('{name: a, provider: openai-compatible, base_url: "http://h/v1?x=1", owned: true}'),
      /^models\.1\.base_url has a query/,
    ],
    [
      'fragment',
      withModel('{name: a, provider: openai-compatible, base_url: "http://h/v1#top", owned: true}'),
      /^models\.1\.base_url has a fragment/,
    ],
    [
      'whitespace',
      withModel('{name: a, provider: openai-compatible, base_url: "http://h/v 1", owned: true}'),
      /^models\.1\.base_url contains whitespace/,
    ],
    [
      'missing openai key',
      withModel('{name: gpt-4o, provider: openai}'),
      /^models\.1\.api_key is missing: the openai provider needs a key \(example: models\.1\.api_key: \$\{OPENAI_API_KEY\}\)/,
    ],
    [
      'unknown price',
      withModel('{name: mystery, provider: openai-compatible, base_url: http://h/v1}'),
      /^models\.1\.price is missing: the price table does not know "mystery"; give models\.1\.price\.input_per_mtok_usd/,
    ],
    [
      'half a price',
      withModel(
        '{name: mystery, provider: openai-compatible, base_url: http://h/v1, price: {input_per_mtok_usd: 1}}',
      ),
      /^models\.1\.price\.output_per_mtok_usd is missing: the price table does not know "mystery"/,
    ],
    [
      'negative price',
      withModel(
        '{name: m, provider: openai-compatible, base_url: http://h/v1, price: {input_per_mtok_usd: -1, output_per_mtok_usd: 1}}',
      ),
      /^models\.1\.price\.input_per_mtok_usd is -1: expected a number \(USD per million input tokens\), at least 0/,
    ],
    [
      'fallback to itself',
      withModel('{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, fallbacks: [a]}'),
      /^models\.1\.fallbacks\.0 names the model itself \("a"\)/,
    ],
    [
      'unknown fallback',
      withModel(
        '{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, fallbacks: [gpt-4o-mni]}',
      ),
      /^models\.1\.fallbacks\.0 names "gpt-4o-mni", which is not a configured model: did you mean gpt-4o-mini\?/,
    ],
    [
      'repeated fallback',
      withModel(
        '{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, fallbacks: [gpt-4o-mini, gpt-4o-mini]}',
      ),
      /^models\.1\.fallbacks\.1 repeats "gpt-4o-mini"/,
    ],
    ['short master key', VALID, /^auth\.master_key is too short \(5 characters\): use at least 16/],
    [
      'timeout out of range',
      withModel('{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, timeout_ms: 0}'),
      /^models\.1\.timeout_ms is 0: expected a whole number \(milliseconds/,
    ],
    [
      'max_attempts not whole',
      withModel(
        '{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, max_attempts: 1.5}',
      ),
      /^models\.1\.max_attempts is 1\.5: expected a whole number/,
    ],
    [
      'bad log level',
      `logging: {level: loud}\n${VALID}`,
      /^logging\.level is "loud": expected one of debug, info, warn, error/,
    ],
    [
      'fleet on a rented model',
      withModel(
        '{name: a, provider: openai-compatible, base_url: http://h/v1, fleet: {gpu: h100-sxm, count: 8}, input_tokens_per_second_per_gpu: 1, output_tokens_per_second_per_gpu: 1}',
      ),
      /^models\.1\.fleet is given but models\.1\.owned is not true/,
    ],
    [
      'fleet and price',
      withModel(
        '{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, price: {input_per_mtok_usd: 1, output_per_mtok_usd: 1}, fleet: {gpu: h100-sxm, count: 8}, input_tokens_per_second_per_gpu: 1, output_tokens_per_second_per_gpu: 1}',
      ),
      /^models\.1\.price and models\.1\.fleet are both given: keep one/,
    ],
    [
      'fleet without throughput',
      withModel(
        '{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, fleet: {gpu: h100-sxm, count: 8}, input_tokens_per_second_per_gpu: 1}',
      ),
      /^models\.1\.output_tokens_per_second_per_gpu is missing: a fleet-priced model needs its measured throughput/,
    ],
    [
      'throughput without fleet',
      withModel(
        '{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, utilization: 0.5}',
      ),
      /^models\.1\.utilization is only used with models\.1\.fleet/,
    ],
    [
      'unknown GPU in fleet',
      withModel(
        '{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, fleet: {gpu: h900, count: 8}, input_tokens_per_second_per_gpu: 1, output_tokens_per_second_per_gpu: 1}',
      ),
      /^models\.1\.fleet\.gpu names an unknown GPU "h900"/,
    ],
    [
      'bad fleet count',
      withModel(
        '{name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, fleet: {gpu: h100-sxm, count: 0}, input_tokens_per_second_per_gpu: 1, output_tokens_per_second_per_gpu: 1}',
      ),
      /^models\.1\.fleet\.count is 0: expected a whole number \(GPUs\), at least 1/,
    ],
  ];
  it.each(cases)('%s', (_label, text, expected) => {
    const env = _label === 'short master key' ? { ...ENV, AUTOCAP_MASTER_KEY: 'short' } : ENV;
    const found = errors(text, env);
    expect(
      found.some((message) => expected.test(message)),
      found.join('\n'),
    ).toBe(true);
  });

  it('refuses a PostgreSQL URL without a user when the environment names none either', () => {
    const text = `${VALID}store: {postgres_url: "postgres://127.0.0.1:5432/test"}\n`;
    const saved = { USER: process.env['USER'], PGUSER: process.env['PGUSER'] };
    delete process.env['USER'];
    delete process.env['PGUSER'];
    try {
      expect(errors(text)).toEqual([
        'store.postgres_url names no user, and neither PGUSER nor USER is set: write postgres://user@host:5432/database',
      ]);
    } finally {
      for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value;
    }
  });

  it('reports every problem at once', () => {
    const schema = errors(`serer: 1\nserver: {port: -1}\nmodels:\n  - {name: a, provider: azure}\n`);
    expect(schema).toHaveLength(3);
    const rules = errors(
      `models:\n  - {name: gpt-4o, provider: openai}\n  - {name: gpt-4o, provider: openai-compatible, fallbacks: [x]}\n`,
    );
    expect(rules.map((message) => message.split(' ')[0])).toEqual([
      'models.0.api_key',
      'models.1.name',
      'models.1.base_url',
      'models.1.fallbacks.0',
    ]);
  });

  it('rejects a fallback cycle, naming its path', () => {
    const text = `models:
  - {name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, fallbacks: [b]}
  - {name: b, provider: openai-compatible, base_url: http://h/v1, owned: true, fallbacks: [c]}
  - {name: c, provider: openai-compatible, base_url: http://h/v1, owned: true, fallbacks: [a]}
  - {name: d, provider: openai-compatible, base_url: http://h/v1, owned: true, fallbacks: [a, b]}
`;
    const found = errors(text);
    expect(found).toContain(
      'models.0.fallbacks make a cycle: a -> b -> c -> a; remove one of these fallbacks',
    );
    expect(found.filter((message) => message.includes('cycle'))).toHaveLength(1);
  });

  it('finds each separate cycle, including two models pointing at each other', () => {
    expect(
      findFallbackCycles(
        new Map([
          ['a', ['b']],
          ['b', ['a']],
          ['c', ['d']],
          ['d', ['e']],
          ['e', ['c', 'a']],
          ['f', []],
        ]),
      ),
    ).toEqual([
      ['a', 'b', 'a'],
      ['c', 'd', 'e', 'c'],
    ]);
  });

  it('accepts a fallback graph that branches and rejoins without a cycle', () => {
    const text = `models:
  - {name: a, provider: openai-compatible, base_url: http://h/v1, owned: true, fallbacks: [b, c]}
  - {name: b, provider: openai-compatible, base_url: http://h/v1, owned: true, fallbacks: [c]}
  - {name: c, provider: openai-compatible, base_url: http://h/v1, owned: true}
`;
    expect(config(text).models.map((model) => model.fallbacks)).toEqual([['b', 'c'], ['c'], []]);
  });

  it('gives line and column for malformed YAML', () => {
    const found = errors('models:\n  - name: a\n    name: b\n');
    expect(found[0]).toMatch(/^autocap\.yaml: malformed YAML at line 3, column 5: Map keys must be unique/);
    expect(errors('models: [a, b\n')[0]).toMatch(/^autocap\.yaml: malformed YAML at line \d+, column \d+: /);
  });

  it('refuses YAML aliases that make the document refer to itself', () => {
    expect(errors('models: &a [*a]\n')[0]).toMatch(/refers to itself through a YAML alias/);
  });
});

describe('secrets never appear in errors', () => {
  const CANARY = 'CANARY-sk-9f8e7d6c5b4a';

  it('keeps key values out of every message, whatever the mistake', () => {
    const documents = [
      // The key in the URL, as userinfo, a query and a path.
      withModel(
        `{name: a, provider: openai-compatible, base_url: "http://x:${CANARY}@h/v1", api_key: "${CANARY}", owned: true}`,
      ),
      withModel(
        `{name: a, provider: openai-compatible, base_url: "http://h/v1?key=${CANARY}", api_key: "${CANARY}", owned: true}`,
      ),
      withModel(
        `{name: a, provider: openai-compatible, base_url: "http://h/${CANARY}/v1", api_key: "${CANARY}", owned: true}`,
      ),
      withModel(
        `{name: a, provider: openai-compatible, base_url: "ftp://${CANARY}", api_key: "${CANARY}", owned: true}`,
      ),
      // Keys of the wrong type or shape, and keys reused in other fields.
      withModel(
        `{name: a, provider: openai-compatible, base_url: http://h/v1, api_key: [${CANARY}], owned: true}`,
      ),
      withModel(
        `{name: "${CANARY} x", provider: openai-compatible, base_url: http://h/v1, api_key: "${CANARY}", owned: true}`,
      ),
      `auth: {master_key: 123456789012345678901234567890}\nmodels: []\n`,
      `auth: {master_key: {key: "${CANARY}"}}\nmodels: []\n`,
      withModel('{name: a, provider: openai-compatible, base_url: "${SECRET_URL}", owned: true}'),
      withModel('{name: "${ROUTER_TOKEN}", provider: openai-compatible, base_url: http://h/v1, owned: true}'),
    ];
    for (const text of documents) {
      const found = errors(text, { ...ENV, SECRET_URL: `gopher://${CANARY}`, ROUTER_TOKEN: `${CANARY} x` });
      const joined = found.join('\n');
      expect(joined, text).not.toContain(CANARY);
      expect(joined, text).not.toContain('123456789012345678901234567890');
      expect(joined).not.toContain(MASTER);
      expect(joined).not.toContain(OPENAI);
    }
  });

  it('says a key inside base_url is a key, without printing it', () => {
    const found = errors(
      withModel(
        `{name: a, provider: openai-compatible, base_url: "http://h/${CANARY}/v1", api_key: "${CANARY}", owned: true}`,
      ),
    );
    expect(found).toContain(
      'models.1.base_url contains a key: keys go in api_key (as ${ENV_VAR} references), never in the URL',
    );
  });

  it('redacts longest secrets first', () => {
    expect(redactSecrets('a abcdefghij b short', ['abcdefgh', 'abcdefghij', 'short'])).toBe(
      'a [redacted] b short',
    );
  });
});
