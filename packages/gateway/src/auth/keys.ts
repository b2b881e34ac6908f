/**
 * Client authentication. Virtual keys are `ak-` plus 32 random bytes (base64url); only their
 * SHA-256 is stored, so a stolen database yields no usable key. Lookups are cached briefly (a
 * revoked key stops working within `cacheMs`), including misses, so a flood of bad keys does
 * not become a flood of database reads.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../http/gateway-error.js';
import type { KeyStore, VirtualKeyRecord } from '../store/store.js';

export interface Principal {
  /** `master`, or the virtual key's id. Never the key itself. */
  readonly keyId: string;
  readonly isMaster: boolean;
  /** Model names this key may call; null for all. */
  readonly allowedModels: readonly string[] | null;
  /** `private`: every request on this key stays on owned models. */
  readonly dataClass?: 'private' | undefined;
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** The longest Authorization value worth looking at; anything longer is refused unread. */
const MAX_KEY_LENGTH = 256;
const KEY_SHAPE = /^[\x21-\x7e]+$/; // visible ASCII, no spaces or controls

export function newVirtualKey(): { key: string; id: string; hash: string } {
  const key = `ak-${randomBytes(32).toString('base64url')}`;
  return { key, id: `key_${randomBytes(8).toString('hex')}`, hash: hashKey(key) };
}

export interface AuthenticatorOptions {
  readonly masterKey: string | undefined;
  readonly keys: KeyStore;
  readonly now: () => number;
  readonly cacheMs?: number;
}

export class Authenticator {
  private readonly masterDigest: Buffer | null;
  private readonly cache = new Map<string, { record: VirtualKeyRecord | null; at: number }>();
  private readonly cacheMs: number;

  constructor(private readonly options: AuthenticatorOptions) {
    this.masterDigest = options.masterKey ? createHash('sha256').update(options.masterKey).digest() : null;
    this.cacheMs = options.cacheMs ?? 5000;
  }

  /** Resolves the `Authorization` header to a principal, or throws a 401 GatewayError. */
  async authenticate(header: string | undefined): Promise<Principal> {
    if (header === undefined || header === '') {
      throw new GatewayError(
        'missing_api_key',
        'No API key: send it as "Authorization: Bearer <key>" (the master key or a key from `autocap keys create`).',
      );
    }
    const token = bearerToken(header);
    if (token === null) {
      throw new GatewayError('invalid_api_key', 'Invalid API key: expected "Authorization: Bearer <key>".');
    }
    const digest = createHash('sha256').update(token).digest();
    if (this.masterDigest && timingSafeEqual(digest, this.masterDigest)) {
      return { keyId: 'master', isMaster: true, allowedModels: null };
    }
    const record = await this.lookup(digest.toString('hex'));
    const now = this.options.now();
    if (!record || record.revoked || (record.expiresAtMs !== null && record.expiresAtMs <= now)) {
      throw new GatewayError(
        'invalid_api_key',
        record?.revoked
          ? 'This API key has been revoked.'
          : record
            ? 'This API key has expired.'
            : 'Invalid API key: it is not the master key nor a key created with `autocap keys create`.',
      );
    }
    return { keyId: record.id, isMaster: false, allowedModels: record.allowedModels };
  }

  private async lookup(hash: string): Promise<VirtualKeyRecord | null> {
    const now = this.options.now();
    const cached = this.cache.get(hash);
    if (cached && now - cached.at < this.cacheMs) return cached.record;
    const record = await this.options.keys.findKeyByHash(hash);
    if (this.cache.size >= 10_000) this.cache.clear(); // bounded: a flood of random keys cannot grow it
    this.cache.set(hash, { record, at: now });
    return record;
  }

  /** Forget cached lookups (after a revoke in this process). */
  invalidate(): void {
    this.cache.clear();
  }
}

function bearerToken(header: string): string | null {
  if (header.length > MAX_KEY_LENGTH + 7) return null;
  const match = /^bearer ([^\s]+)$/i.exec(header.trim());
  const token = match?.[1];
  if (!token || !KEY_SHAPE.test(token)) return null;
  return token;
}
