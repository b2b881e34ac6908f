/**
 * Starts a real gateway (HTTP server, SQLite file, ledger) on 127.0.0.1 for tests, with models
 * pointing at fake upstreams, and an official `openai` SDK client aimed at it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { GatewayConfig, ModelConfig } from '../config/config.js';
import { type RunningGateway, startGateway } from '../server/node-server.js';
import type { GatewayStore } from '../store/store.js';

export const MASTER_KEY = 'sk-autocap-test-master-0123456789';
/** A provider key that must never appear in logs, errors, ledger rows or metrics. */
export const CANARY_KEY = 'sk-canary-5b1e0c9d-provider-secret';

export function testModel(name: string, baseUrl: string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  return {
    name,
    provider: 'openai-compatible',
    baseUrl,
    upstreamModel: `${name}-upstream`,
    apiKey: CANARY_KEY,
    owned: false,
    price: { inputPerMtokUsd: 1, outputPerMtokUsd: 2, cachedInputPerMtokUsd: 0.5, source: 'config' },
    fallbacks: [],
    timeouts: { connectMs: 1000, firstByteMs: 500, idleMs: 500 },
    maxAttempts: 3,
    retries: 1,
    maxConnections: 16,
    contextWindow: undefined,
    maxOutputTokens: undefined,
    ...overrides,
  };
}

export interface TestGateway {
  readonly running: RunningGateway;
  readonly url: string;
  readonly client: OpenAI;
  readonly sqlitePath: string;
  /** Every log line written so far. */
  readonly logs: string[];
  close(): Promise<void>;
}

export async function startTestGateway(
  models: readonly ModelConfig[],
  overrides: {
    server?: Partial<GatewayConfig['server']>;
    sqlitePath?: string;
    /** Another store (PostgreSQL) and this instance's chain in it. */
    store?: GatewayStore;
    chainId?: string;
    governance?: GatewayConfig['governance'];
  } = {},
): Promise<TestGateway> {
  // A folder of its own unless the test passed a file (which it then owns): removed on close.
  const folder = overrides.sqlitePath === undefined ? mkdtempSync(join(tmpdir(), 'autocap-gw-')) : null;
  const sqlitePath = overrides.sqlitePath ?? join(folder as string, 'autocap.db');
  const config: GatewayConfig = {
    server: {
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1024 * 1024,
      maxConcurrentRequests: 2048,
      drainTimeoutMs: 2000,
      requestTimeoutMs: 30_000,
      ...overrides.server,
    },
    store: { sqlite: sqlitePath, chainId: 'main' },
    auth: { masterKey: MASTER_KEY },
    ...(overrides.governance ? { governance: overrides.governance } : {}),
    logging: { level: 'debug' },
    models,
    source: 'test',
    secrets: [MASTER_KEY, ...models.flatMap((model) => (model.apiKey ? [model.apiKey] : []))],
  };
  const logs: string[] = [];
  const running = await startGateway(config, {
    writeLog: (line) => logs.push(line),
    ...(overrides.store ? { store: overrides.store } : {}),
    ...(overrides.chainId ? { chainId: overrides.chainId } : {}),
  });
  const client = new OpenAI({
    baseURL: `${running.url}/v1`,
    apiKey: MASTER_KEY,
    maxRetries: 0,
    timeout: 10_000,
  });
  const close = async (): Promise<void> => {
    await running.shutdown();
    if (folder !== null) rmSync(folder, { recursive: true, force: true });
  };
  return { running, url: running.url, client, sqlitePath, logs, close };
}
