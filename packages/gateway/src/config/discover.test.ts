// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${ENV}` references are the literal text under test.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DiscoveredServer, discoverLocalServers, renderDefaultConfigYaml } from './discover.js';
import { loadConfig, parseConfigText } from './load-config.js';

const servers: Server[] = [];

/** A tiny server on 127.0.0.1 answering `/v1/models` with `body` (or never answering). */
async function listen(body: unknown, options: { hang?: boolean } = {}): Promise<number> {
  const server = createServer((request, response) => {
    if (options.hang) return;
    if (request.url !== '/v1/models') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A port that was just free: nothing listens there. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const OLLAMA_MODELS = {
  object: 'list',
  data: [
    { id: 'llama3.2:latest', object: 'model', created: 1_720_000_000, owned_by: 'library' },
    { id: 'qwen2.5:7b', object: 'model', created: 1_720_000_000, owned_by: 'library' },
    { object: 'model' }, // no id: skipped
  ],
};

describe('discoverLocalServers', () => {
  it('finds a server answering /v1/models on 127.0.0.1 and tells Ollama by owned_by', async () => {
    const port = await listen(OLLAMA_MODELS);
    const found = await discoverLocalServers({ ports: [port] });
    expect(found).toEqual([
      { kind: 'ollama', baseUrl: `http://127.0.0.1:${port}/v1`, models: ['llama3.2:latest', 'qwen2.5:7b'] },
    ]);
  });

  it('tells vLLM and llama.cpp apart', async () => {
    const vllm = await listen({ data: [{ id: 'meta-llama/Llama-3.1-8B-Instruct', owned_by: 'vllm' }] });
    const llamaCpp = await listen({ models: [], data: [{ id: 'model.gguf', owned_by: 'llamacpp' }] });
    const found = await discoverLocalServers({ ports: [vllm, llamaCpp] });
    expect(found.map((server) => server.kind)).toEqual(['vllm', 'llama.cpp']);
  });

  it('returns nothing, within the timeout, for a port with nothing listening', async () => {
    const port = await closedPort();
    const started = performance.now();
    expect(await discoverLocalServers({ ports: [port], timeoutMs: 300 })).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('gives up on a server that accepts and never answers', async () => {
    const port = await listen(null, { hang: true });
    const started = performance.now();
    expect(await discoverLocalServers({ ports: [port], timeoutMs: 150 })).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('ignores answers that are not a model list', async () => {
    const port = await listen({ error: 'nope' });
    expect(await discoverLocalServers({ ports: [port] })).toEqual([]);
  });

  it('probes only 127.0.0.1 on the usual ports by default', async () => {
    const asked: string[] = [];
    const fetchImpl = async (input: string | URL | Request): Promise<Response> => {
      asked.push(String(input));
      throw new Error('refused');
    };
    expect(await discoverLocalServers({ fetchImpl })).toEqual([]);
    expect(asked).toEqual([
      'http://127.0.0.1:11434/v1/models',
      'http://127.0.0.1:8000/v1/models',
      'http://127.0.0.1:8080/v1/models',
    ]);
  });
});

describe('the embedded default', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'autocap-default-'));
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  const ollama: DiscoveredServer = {
    kind: 'ollama',
    baseUrl: 'http://127.0.0.1:11434/v1',
    models: ['llama3.2:latest', 'qwen2.5:7b'],
  };
  const llamaCpp: DiscoveredServer = {
    kind: 'llama.cpp',
    baseUrl: 'http://127.0.0.1:8080/v1',
    models: ['llama3.2:latest'],
  };

  it('adds one owned model per discovered model and rented models for the keys that are set', async () => {
    const result = await loadConfig({
      cwd,
      env: { OPENAI_API_KEY: 'sk-openai-0123456789', AUTOCAP_MASTER_KEY: 'from-the-environment-123' },
      discover: async () => [ollama, llamaCpp],
    });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const { config } = result;
    expect(config.source).toBe('embedded default');
    expect(config.store.sqlite).toBe(join(cwd, '.autocap/autocap.db'));
    expect(config.auth.masterKey).toBe('from-the-environment-123');
    expect(
      config.models.map((model) => [model.name, model.provider, model.owned, model.price.source]),
    ).toEqual([
      ['llama3.2:latest', 'openai-compatible', true, 'unpriced'],
      ['qwen2.5:7b', 'openai-compatible', true, 'unpriced'],
      ['llama3.2:latest@llama.cpp', 'openai-compatible', true, 'unpriced'],
      ['gpt-4o-mini', 'openai', false, 'price-table'],
      ['gpt-4o', 'openai', false, 'price-table'],
      ['gpt-5-mini', 'openai', false, 'price-table'],
      ['gpt-5', 'openai', false, 'price-table'],
    ]);
    expect(config.models[2]?.upstreamModel).toBe('llama3.2:latest');
    expect(config.models[2]?.baseUrl).toBe('http://127.0.0.1:8080/v1');
    const notices = result.notices.join('\n');
    expect(notices).toContain(
      'Found Ollama at http://127.0.0.1:11434/v1 serving llama3.2:latest, qwen2.5:7b.',
    );
    expect(notices).toContain('OPENAI_API_KEY is set: added gpt-4o-mini, gpt-4o, gpt-5-mini, gpt-5');
    expect(notices).toContain('Set ANTHROPIC_API_KEY to add rented models.');
    expect(notices).toContain('docs/configuration.md');
    expect(notices).not.toContain('sk-openai-0123456789');
    // The key came from the environment: no file is written.
    await expect(stat(join(cwd, '.autocap/master-key'))).rejects.toThrow();
  });

  it('adds Anthropic models from the price table when ANTHROPIC_API_KEY is set', async () => {
    const result = await loadConfig({
      cwd,
      env: { ANTHROPIC_API_KEY: 'sk-ant-0123456789', AUTOCAP_MASTER_KEY: 'from-the-environment-123' },
      discover: async () => [],
    });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.models.map((model) => `${model.name}:${model.price.inputPerMtokUsd}`)).toEqual([
      'claude-haiku-4-5:1',
      'claude-sonnet-4-5:3',
    ]);
    expect(result.notices.join('\n')).toContain(
      'No local model server answered on 127.0.0.1 ports 11434 (Ollama), 8000 (vLLM), 8080 (llama.cpp).',
    );
  });

  it('starts with no model at all when nothing is found', async () => {
    const result = await loadConfig({ cwd, env: {}, discover: async () => [] });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.models).toEqual([]);
    expect(result.notices.join('\n')).toContain('serves no model until you add one');
  });

  it('makes a master key once, mode 0600, and shows it only when it is made', async () => {
    const first = await loadConfig({ cwd, env: {}, discover: async () => [] });
    if (!first.ok) throw new Error(first.errors.join('\n'));
    const key = first.config.auth.masterKey ?? '';
    expect(key).toMatch(/^sk-autocap-[A-Za-z0-9_-]{32}$/);
    const file = join(cwd, '.autocap/master-key');
    expect((await readFile(file, 'utf8')).trim()).toBe(key);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(first.notices.filter((notice) => notice.includes(key))).toHaveLength(1);
    expect(first.notices.join('\n')).toContain('Authorization: Bearer <key>');

    const second = await loadConfig({ cwd, env: {}, discover: async () => [] });
    if (!second.ok) throw new Error(second.errors.join('\n'));
    expect(second.config.auth.masterKey).toBe(key);
    expect(second.notices.join('\n')).not.toContain(key);
    expect(second.notices.join('\n')).toContain('Master key: from .autocap/master-key');
  });

  it('does not create a key when read-only (config check)', async () => {
    const result = await loadConfig({ cwd, env: {}, discover: async () => [], readOnly: true });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.auth.masterKey).toBeUndefined();
    await expect(stat(join(cwd, '.autocap'))).rejects.toThrow();
  });

  it('refuses a stored key that is too short', async () => {
    await loadConfig({ cwd, env: {}, discover: async () => [] });
    await writeFile(join(cwd, '.autocap/master-key'), 'short\n');
    const result = await loadConfig({ cwd, env: {}, discover: async () => [] });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors[0]).toMatch(/^\.autocap\/master-key holds no usable key/);
  });

  it('keeps model ids that look like ${ENV} references literal', async () => {
    const odd: DiscoveredServer = {
      kind: 'vllm',
      baseUrl: 'http://127.0.0.1:8000/v1',
      models: ['m-${HOME}', 'two words'],
    };
    const result = await loadConfig({
      cwd,
      env: { HOME: '/root', AUTOCAP_MASTER_KEY: 'from-the-environment-123' },
      discover: async () => [odd],
    });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.models.map((model) => [model.name, model.upstreamModel])).toEqual([
      ['m-${HOME}', 'm-${HOME}'],
      ['two-words', 'two words'],
    ]);
    const yaml = renderDefaultConfigYaml(result.config, { cwd });
    const reloaded = parseConfigText(yaml, {
      source: 'autocap.yaml',
      baseDirectory: cwd,
      env: { HOME: '/root', AUTOCAP_MASTER_KEY: 'from-the-environment-123' },
    });
    expect(reloaded.ok && reloaded.config.models).toEqual(result.config.models);
  });

  it('carries on when discovery fails', async () => {
    const result = await loadConfig({
      cwd,
      env: { AUTOCAP_MASTER_KEY: 'from-the-environment-123' },
      discover: () => Promise.reject(new Error('boom')),
    });
    expect(result.ok && result.notices.join('\n')).toContain('Could not probe for local model servers');
  });

  it('renders YAML with ${ENV} references that loads back to the same models', async () => {
    const env = { OPENAI_API_KEY: 'sk-openai-0123456789', AUTOCAP_MASTER_KEY: 'from-the-environment-123' };
    const result = await loadConfig({ cwd, env, discover: async () => [ollama] });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const yaml = renderDefaultConfigYaml(result.config, { cwd });
    expect(yaml).toContain('api_key: ${OPENAI_API_KEY}');
    expect(yaml).toContain('master_key: ${AUTOCAP_MASTER_KEY}');
    expect(yaml).toContain('sqlite: .autocap/autocap.db');
    expect(yaml).toContain('# Owned and unpriced: add fleet:');
    expect(yaml).not.toContain('sk-openai-0123456789');
    expect(yaml).not.toContain('from-the-environment-123');
    const reloaded = parseConfigText(yaml, { source: 'autocap.yaml', baseDirectory: cwd, env });
    if (!reloaded.ok) throw new Error(reloaded.errors.join('\n'));
    expect(reloaded.config.models).toEqual(result.config.models);
    expect(reloaded.config.store).toEqual(result.config.store);
    expect(reloaded.config.auth).toEqual(result.config.auth);
  });
});
