/**
 * The store port: the small interface the gateway needs from a database (after Kysely's
 * `SqliteDatabase`). `store/sqlite/` is the embedded default; `store/postgres/` comes with scale-out.
 * Both pass one contract suite (`store-contract.ts`).
 */
import type { DataClass, GovernanceStore, KeyRole, Limits } from './governance-types.js';

/** One upstream attempt. A request that fell back twice has three entries. */
export interface LedgerEntryInput {
  /** Gateway-minted, unique per attempt (never the provider's response id, which vLLM and Ollama reuse). */
  readonly id: string;
  /** The client request this attempt belongs to (x-autocap-request-id). */
  readonly requestId: string;
  /** 1-based attempt number within the request. */
  readonly attempt: number;
  /** Epoch milliseconds when the attempt started (injected clock). */
  readonly startedAtMs: number;
  /** Id of the virtual key (never the key itself); `master` for the master key. */
  readonly keyId: string;
  readonly modelRequested: string;
  /** The configured model name that served (or was tried). */
  readonly modelServed: string;
  readonly provider: string;
  readonly owned: boolean;
  readonly inputTokens: number;
  readonly cachedInputTokens: number;
  readonly outputTokens: number;
  readonly reasoningTokens: number;
  /** True when some token count was estimated with a tokenizer because the upstream gave none. */
  readonly estimated: boolean;
  readonly costUsd: number;
  readonly latencyMs: number;
  /** Time to first token for streams; null otherwise or when no token came. */
  readonly ttftMs: number | null;
  /** `ok`, `error` (upstream failed), or `client_disconnected` (metered anyway). */
  readonly status: 'ok' | 'error' | 'client_disconnected';
  /** UpstreamError kind or gateway error code; null when ok. */
  readonly errorClass: string | null;
  /** HTTP status the upstream returned, when it returned one. */
  readonly upstreamStatus: number | null;
  readonly streamed: boolean;
  /** Client `metadata` tags (string values only), e.g. { task: 'summarize' }. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The provider's raw usage object, as JSON text, or null. */
  readonly rawUsage: string | null;
}

/** An entry as stored: with its place in the hash chain. */
export interface LedgerEntry extends LedgerEntryInput {
  /** The chain this entry belongs to (one per gateway instance; see docs). */
  readonly chainId: string;
  /** 1-based position in its chain. */
  readonly seq: number;
  /** Hex SHA-256 of the previous entry in the chain ('' for the first). */
  readonly prevHash: string;
  /** Hex SHA-256 over prevHash and the entry's canonical content. */
  readonly hash: string;
}

export interface LedgerPage {
  readonly entries: readonly LedgerEntry[];
  /** Pass as `after` to get the next page; null at the end. */
  readonly nextCursor: string | null;
}

export type VerifyResult =
  | { readonly ok: true; readonly entries: number; readonly chains: number }
  | {
      readonly ok: false;
      /** The first entry that is altered, or where the chain is broken (a missing entry). */
      readonly chainId: string;
      readonly seq: number;
      readonly entryId: string | null;
      readonly problem: 'altered' | 'missing' | 'reordered';
      readonly message: string;
    };

export interface VirtualKeyRecord {
  readonly id: string;
  /** SHA-256 hex of the key; the key itself is shown once at creation and never stored. */
  readonly hash: string;
  readonly name: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number | null;
  /** Model names this key may call; null for all. */
  readonly allowedModels: readonly string[] | null;
  readonly revoked: boolean;
  // Governance (governance-types.ts). Each is present only when set, so a plain key reads back
  // exactly as it was inserted.
  /** The team whose budgets and limits also apply. */
  readonly teamId?: string;
  /** Absent: `user`. */
  readonly role?: KeyRole;
  /** Caller-defined tags (owner, purpose); never used for decisions. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Present when at least one budget or limit is set. */
  readonly limits?: Limits;
  readonly dataClass?: DataClass;
  /** The key id that created this key, or `master`; absent for keys made by `autocap keys create`. */
  readonly createdBy?: string;
}

/** The last entry of a chain: what an external anchor records (see `verifyLedger`). */
export interface ChainHead {
  readonly chainId: string;
  readonly seq: number;
  readonly hash: string;
}

export interface VerifyOptions {
  /**
   * Heads kept outside the database (an exported anchor, the `/metrics` chain head). Dropping the
   * newest entries leaves a chain that is consistent by itself; only an outside head shows they
   * existed. Each chain must still contain the entry at `seq` with this `hash` (it may have grown).
   */
  readonly expectedHeads?: readonly ChainHead[];
}

export interface LedgerStore {
  /**
   * Appends entries to this store's chain in one transaction, durably (kill -9 after the promise
   * resolves loses nothing). Entries keep their order.
   */
  appendLedger(chainId: string, entries: readonly LedgerEntryInput[]): Promise<readonly LedgerEntry[]>;
  /** Entries in (chainId, seq) order, after the cursor. */
  pageLedger(options: { after?: string | null; limit: number }): Promise<LedgerPage>;
  /** Recomputes every chain's hashes; also checks each chain against `expectedHeads`. */
  verifyLedger(options?: VerifyOptions): Promise<VerifyResult>;
  /** The head of every chain, as the store recorded it on append. */
  chainHeads(): Promise<readonly ChainHead[]>;
  /**
   * Which of these entry ids are stored, in any chain. The ledger writer's replay asks before
   * appending spooled entries, so that an entry appended before a crash is not appended twice.
   */
  ledgerEntryIds(ids: readonly string[]): Promise<ReadonlySet<string>>;
}

export interface KeyStore {
  insertKey(key: VirtualKeyRecord): Promise<void>;
  findKeyByHash(hash: string): Promise<VirtualKeyRecord | null>;
  listKeys(): Promise<readonly VirtualKeyRecord[]>;
  revokeKey(id: string): Promise<boolean>;
}

export interface GatewayStore extends LedgerStore, KeyStore {
  /** Teams, key updates, budgets, rate counters and usage, on the same database. */
  readonly governance: GovernanceStore;
  /** Creates or upgrades the schema (numbered migrations, recorded in the database). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}
