/**
 * Client authentication. Virtual keys are `ak-` plus 32 random bytes (base64url); only their
 * SHA-256 is stored, so a stolen database yields no usable key. Lookups are cached briefly (a
 * revoked key stops working within `cacheMs`), including misses, so a flood of bad keys does
 * not become a flood of database reads. The key's team (budgets, limits, data class) is read and
 * cached with it.
 */
import { createHash, hash as oneShotHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../http/gateway-error.js';
import {
  type GovernanceStore,
  type KeyRole,
  type Limits,
  NO_LIMITS,
  type TeamRecord,
} from '../store/governance-types.js';
import type { KeyStore, VirtualKeyRecord } from '../store/store.js';

export interface Principal {
  /** `master`, or the virtual key's id. Never the key itself. */
  readonly keyId: string;
  readonly isMaster: boolean;
  /** Model names this key may call; null for all. */
  readonly allowedModels: readonly string[] | null;
  /** `private` (set on the key or its team): every request on this key stays on owned models. */
  readonly dataClass?: 'private' | undefined;
  /** The master key is `admin`. */
  readonly role: KeyRole;
  /** The key's name (`master` for the master key), for messages. */
  readonly name: string;
  readonly expiresAtMs: number | null;
  /** The key's own budgets and limits (none for the master key). */
  readonly limits: Limits;
  /** The key's team, whose budgets and limits apply too. */
  readonly team: TeamRecord | null;
}

/** The master key: every right, no budget, no team. */
export const MASTER_PRINCIPAL: Principal = {
  keyId: 'master',
  isMaster: true,
  allowedModels: null,
  dataClass: undefined,
  role: 'admin',
  name: 'master',
  expiresAtMs: null,
  limits: NO_LIMITS,
  team: null,
};

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
  /** Where a key's team (budgets, limits, data class) is read; without it keys have no team. */
  readonly teams?: Pick<GovernanceStore, 'getTeam'>;
  readonly now: () => number;
  readonly cacheMs?: number;
}

interface CachedKey {
  readonly record: VirtualKeyRecord | null;
  /** Built once per lookup: the budget guard keeps per-principal state keyed on this object. */
  readonly principal: Principal | null;
  readonly at: number;
}

export class Authenticator {
  private readonly masterDigest: Buffer | null;
  private readonly cache = new Map<string, CachedKey>();
  private readonly reading = new Map<string, Promise<CachedKey>>();
  private readonly cacheMs: number;
  /**
   * Keys that authenticated, to their SHA-256 (or MASTER): hashing each request's key again is a
   * measurable part of a proxied request. Only valid keys get in, so a flood of wrong keys cannot
   * grow it; a revoked key is still refused, since its record is looked up again (cacheMs).
   */
  private readonly known = new Map<string, string>();

  constructor(private readonly options: AuthenticatorOptions) {
    this.masterDigest = options.masterKey ? createHash('sha256').update(options.masterKey).digest() : null;
    this.cacheMs = options.cacheMs ?? 5000;
  }

  /**
   * The `Authorization` header's principal, or a 401 GatewayError: thrown, or a rejected promise
   * when the key had to be read from the store.
   */
  authenticate(header: string | undefined): Principal | Promise<Principal> {
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
    let hash = this.known.get(token);
    if (hash === MASTER) return MASTER_PRINCIPAL;
    if (hash === undefined) {
      const digest = oneShotHash('sha256', token, 'buffer');
      if (this.masterDigest && timingSafeEqual(digest, this.masterDigest)) {
        this.remember(token, MASTER);
        return MASTER_PRINCIPAL;
      }
      hash = digest.toString('hex');
    }
    // A key looked up within `cacheMs` is answered synchronously: no promise on the request path.
    const found = this.lookup(hash);
    const keyHash = hash;
    return found instanceof Promise
      ? found.then((entry) => this.accept(token, keyHash, entry))
      : this.accept(token, keyHash, found);
  }

  /** The key's principal, or a 401 GatewayError when it is unknown, revoked or expired. */
  private accept(token: string, hash: string, { record, principal }: CachedKey): Principal {
    const now = this.options.now();
    if (
      !record ||
      !principal ||
      record.revoked ||
      (record.expiresAtMs !== null && record.expiresAtMs <= now)
    ) {
      throw new GatewayError(
        'invalid_api_key',
        record?.revoked
          ? 'This API key has been revoked.'
          : record
            ? 'This API key has expired.'
            : 'Invalid API key: it is not the master key nor a key created with `autocap keys create`.',
      );
    }
    this.remember(token, hash);
    return principal;
  }

  private lookup(hash: string): Promise<CachedKey> | CachedKey {
    const now = this.options.now();
    const cached = this.cache.get(hash);
    if (cached && now - cached.at < this.cacheMs) return cached;
    // Concurrent first requests of one key share one read.
    const reading = this.reading.get(hash) ?? this.read(hash, now);
    this.reading.set(hash, reading);
    return reading.finally(() => this.reading.delete(hash));
  }

  private async read(hash: string, now: number): Promise<CachedKey> {
    let record: VirtualKeyRecord | null;
    let team: TeamRecord | null = null;
    try {
      record = await this.options.keys.findKeyByHash(hash);
      if (record?.teamId !== undefined && this.options.teams) {
        team = await this.options.teams.getTeam(record.teamId);
      }
    } catch {
      // Without the record there is no way to know the key's budgets: refuse, retryably.
      throw new GatewayError(
        'store_unavailable',
        'The gateway cannot reach its database to check this API key; retry shortly.',
        { retryAfterSeconds: 1 },
      );
    }
    if (this.cache.size >= 10_000) this.cache.clear(); // bounded: a flood of random keys cannot grow it
    const entry = { record, principal: record ? principalOf(record, team) : null, at: now };
    this.cache.set(hash, entry);
    return entry;
  }

  private remember(token: string, hash: string): void {
    if (this.known.has(token)) return;
    if (this.known.size >= 10_000) this.known.clear();
    this.known.set(token, hash);
  }

  /** Forget cached lookups (after a revoke in this process). */
  invalidate(): void {
    this.cache.clear();
  }
}

function principalOf(record: VirtualKeyRecord, team: TeamRecord | null): Principal {
  // Every principal has the same fields in the same order (one object shape on the request path).
  return {
    keyId: record.id,
    isMaster: false,
    allowedModels: record.allowedModels,
    dataClass: record.dataClass ?? team?.dataClass ?? undefined,
    role: record.role ?? 'user',
    name: record.name,
    expiresAtMs: record.expiresAtMs,
    limits: record.limits ?? NO_LIMITS,
    team,
  };
}

/** Marks the master key in `known` (never a hex digest). */
const MASTER = 'master';

function bearerToken(header: string): string | null {
  if (header.length > MAX_KEY_LENGTH + 7) return null;
  const match = /^bearer ([^\s]+)$/i.exec(header.trim());
  const token = match?.[1];
  if (!token || !KEY_SHAPE.test(token)) return null;
  return token;
}
