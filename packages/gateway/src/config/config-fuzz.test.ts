// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${ENV}` references are the literal text under test.
/**
 * Fuzzing `loadConfig` through real files: random YAML documents, random text and bytes, and
 * YAML's sharp edges (alias bombs, self-referencing aliases, 10,000-deep nesting, tags, merge
 * keys, BOMs, NULs, invalid UTF-8). The loader must always return a result, never throw, and its
 * errors must be one-line messages without a stack trace. `REGRESSIONS` keeps every input that
 * ever broke it. (load-config.test.ts fuzzes `parseConfigText` in memory; this goes through disk.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type ConfigResult, loadConfig } from './load-config.js';

const ENV = {
  AUTOCAP_MASTER_KEY: 'sk-config-fuzz-master-0123456789',
  OPENAI_API_KEY: 'sk-config-fuzz-openai-0123',
};
const SEED = 7_331;

let directory: string;
let counter = 0;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'autocap-config-fuzz-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

async function loadText(content: string | Uint8Array): Promise<ConfigResult> {
  const path = join(directory, `fuzz-${counter++}.yaml`);
  await writeFile(path, content);
  return loadConfig({ path, cwd: directory, env: ENV, discover: async () => [] });
}

/** What every result must look like, whatever the input. */
function expectWellFormed(result: ConfigResult): void {
  expect(typeof result.ok).toBe('boolean');
  if (result.ok) return;
  expect(result.errors.length).toBeGreaterThan(0);
  for (const error of result.errors) {
    expect(typeof error).toBe('string');
    expect(error).not.toMatch(/\n\s+at /); // no stack trace
    expect(error.length).toBeLessThan(2000);
    expect(error).not.toContain(ENV.AUTOCAP_MASTER_KEY);
    expect(error).not.toContain(ENV.OPENAI_API_KEY);
  }
}

const model = '{name: m, provider: openai-compatible, base_url: "http://127.0.0.1:8000/v1", owned: true}';

/** Inputs that once broke a config loader, ours or YAML's; each stays refused or accepted as noted. */
const REGRESSIONS: readonly { name: string; text: string | Uint8Array; ok: boolean; error?: RegExp }[] = [
  {
    name: 'an alias inside its own anchor (a cycle: a recursive walk never ends)',
    text: `auth: {master_key: "\${AUTOCAP_MASTER_KEY}"}\nmodels: &a [*a]\n`,
    ok: false,
    error: /alias|malformed YAML/,
  },
  {
    name: 'a billion-laughs alias bomb',
    text: [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
      'models: [*g]',
    ].join('\n'),
    ok: false,
    error: /malformed YAML|alias/i,
  },
  {
    name: '10,000-deep flow sequences (recursive descent overflows the stack)',
    text: `models: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
    ok: false,
  },
  {
    name: '10,000-deep flow mappings',
    text: `server: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n`,
    ok: false,
  },
  {
    name: '40-deep block mappings (past the loader depth bound)',
    text: `${Array.from({ length: 40 }, (_, depth) => `${'  '.repeat(depth)}k${depth}:`).join('\n')} 1\n`,
    ok: false,
    error: /nested more than/,
  },
  {
    name: 'a merge key pulling a model from an anchor',
    text: `auth: {master_key: "\${AUTOCAP_MASTER_KEY}"}\nbase: &base ${model}\nmodels:\n  - {<<: *base, name: n}\n`,
    ok: false,
  },
  // Loads; such a key can never be sent (NUL is illegal in a header), so it locks out admin routes.
  {
    name: 'a NUL byte in the master key',
    text: `auth: {master_key: a\0bcdefghijklmnopqrstuvwxyz}\nmodels: [${model}]\n`,
    ok: true,
  },
  { name: 'invalid UTF-8', text: Buffer.from([0x6d, 0x3a, 0x20, 0xff, 0xfe, 0xc3, 0x28, 0x0a]), ok: false },
  {
    name: 'a UTF-8 BOM before a valid document',
    text: `\uFEFFauth: {master_key: "\${AUTOCAP_MASTER_KEY}"}\nmodels: [${model}]\n`,
    ok: true,
  },
  { name: 'a JS function tag', text: 'models: !!js/function "function () { return 1 }"\n', ok: false },
  { name: 'a binary tag', text: 'auth: {master_key: !!binary aGVsbG8=}\n', ok: false },
  // An unknown tag is ignored (YAML warns, the loader logs errors only): the value is used as is.
  { name: 'a custom tag', text: `models: !evil [${model}]\n`, ok: true },
  {
    name: '__proto__ keys',
    text: `__proto__: {models: [${model}]}\nauth: {master_key: "\${AUTOCAP_MASTER_KEY}", __proto__: {x: 1}}\n`,
    ok: false,
  },
  { name: 'an infinite number', text: `server: {port: .inf}\nmodels: [${model}]\n`, ok: false },
  { name: 'a 1 MB line', text: `models: "${'x'.repeat(1024 * 1024)}"\n`, ok: false },
  { name: 'an empty file', text: '', ok: false },
];

describe('loadConfig regressions', () => {
  it.each(REGRESSIONS.map((regression) => [regression.name, regression] as const))(
    '%s',
    async (_name, regression) => {
      const result = await loadText(regression.text);
      expectWellFormed(result);
      expect(result.ok).toBe(regression.ok);
      if (!result.ok && regression.error) expect(result.errors.join('\n')).toMatch(regression.error);
    },
  );
});

describe('loadConfig properties', () => {
  const key = fc.constantFrom(
    'server',
    'port',
    'host',
    'max_body_bytes',
    'models',
    'name',
    'provider',
    'base_url',
    'api_key',
    'owned',
    'price',
    'fallbacks',
    'auth',
    'master_key',
    'store',
    'sqlite',
    'logging',
    'level',
    '<<',
    '__proto__',
    'constructor',
  );
  const scalar = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(
      '${AUTOCAP_MASTER_KEY}',
      '${UNSET}',
      'http://127.0.0.1:8000/v1',
      'http://user:pw@h/v1',
      'http://h/v1#x',
      'openai-compatible',
      'anthropic',
    ),
  );
  const document = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
    array: fc.array(tie('node'), { maxLength: 4 }),
    object: fc.dictionary(key, tie('node'), { maxKeys: 5 }),
  })).node;

  it('returns a well-formed result for random YAML documents written to disk', async () => {
    await fc.assert(
      fc.asyncProperty(document, async (value) => expectWellFormed(await loadText(stringify(value) ?? ''))),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('returns a well-formed result for random text and bytes', async () => {
    const fragments = fc
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
          ': ',
          ',',
          '&a ',
          '*a',
          '!!binary ',
          '!tag ',
          '<<: ',
          '"',
          "'",
          '#',
          '${X}',
          '? ',
          '|',
          '>',
          '\t',
          '%YAML 1.2\n',
          '---\n',
          '...\n',
          '\0',
          '\uFEFF',
        ),
        { maxLength: 50 },
      )
      .map((parts) => parts.join(''));
    const input = fc.oneof(
      fragments,
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 300 }),
    );
    await fc.assert(
      fc.asyncProperty(input, async (text) => expectWellFormed(await loadText(text))),
      { seed: SEED, numRuns: 300 },
    );
  });
});
