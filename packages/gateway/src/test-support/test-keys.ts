/** Virtual keys for tests: inserted straight into a gateway's store, with an SDK client each. */
import OpenAI from 'openai';
import { hashKey } from '../auth/keys.js';
import { type Limits, NO_LIMITS } from '../store/governance-types.js';
import type { GatewayStore, VirtualKeyRecord } from '../store/store.js';

export interface TestKey {
  readonly key: string;
  readonly record: VirtualKeyRecord;
  /** An `openai` client using this key, no retries. */
  readonly client: OpenAI;
}

export async function insertTestKey(
  store: GatewayStore,
  gatewayUrl: string,
  options: Partial<Omit<VirtualKeyRecord, 'limits'>> & {
    readonly id: string;
    readonly limits?: Partial<Limits>;
  },
): Promise<TestKey> {
  const key = `ak-test-${options.id}-0123456789abcdef`;
  const { limits, ...rest } = options;
  const record: VirtualKeyRecord = {
    hash: hashKey(key),
    name: options.id.replace(/^key_/, ''),
    createdAtMs: Date.now(),
    expiresAtMs: null,
    allowedModels: null,
    revoked: false,
    ...rest,
    ...(limits ? { limits: { ...NO_LIMITS, ...limits } } : {}),
  };
  await store.insertKey(record);
  const client = new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey: key, maxRetries: 0, timeout: 10_000 });
  return { key, record, client };
}
