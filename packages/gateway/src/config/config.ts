/**
 * The gateway's resolved configuration: what `loadConfig` returns once a file (or the embedded
 * default) has been parsed, checked and completed with defaults. Everything here is final: the
 * server reads these values and never looks at the YAML again. Names are camelCase; the YAML's
 * snake_case keys are in `config-schema.ts`.
 */
import type { ProviderId, Timeouts } from '../providers/provider.js';

export interface ModelPrice {
  readonly inputPerMtokUsd: number;
  readonly outputPerMtokUsd: number;
  readonly cachedInputPerMtokUsd: number;
  /**
   * Where the figures came from: the config's `price:`, the bundled price table, the levelized cost
   * of the model's `fleet:`, or nowhere (an owned model with neither, priced at 0).
   */
  readonly source: 'config' | 'price-table' | 'fleet' | 'unpriced';
}

export interface ModelConfig {
  /** What clients send as `model`. */
  readonly name: string;
  readonly provider: ProviderId;
  /** Origin and path prefix, validated at load (http/https, no credentials, query or fragment). */
  readonly baseUrl: string;
  readonly upstreamModel: string;
  /** Secret: never logged, never put in an error message. */
  readonly apiKey: string | undefined;
  /** True for models served on the company's own GPUs. */
  readonly owned: boolean;
  readonly price: ModelPrice;
  /** Model names tried in order after this one fails; the graph has no cycles. */
  readonly fallbacks: readonly string[];
  readonly timeouts: Timeouts;
  /** Total attempts for a request that starts at this model, fallbacks included (default 3). */
  readonly maxAttempts: number;
  /** Retries of this model on retryable failures before moving on (default 1). */
  readonly retries: number;
  /** Keep-alive pool size (default 128). */
  readonly maxConnections: number;
  /** From the config, else the price table when it knows the model. */
  readonly contextWindow: number | undefined;
  readonly maxOutputTokens: number | undefined;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** `governance:` in autocap.yaml (docs/configuration.md, "Governance and budgets"). */
export interface GovernanceConfig {
  /** Output tokens reserved for a request with no max_tokens on a model with no max_output_tokens. */
  readonly defaultMaxOutputTokens: number;
  /** Longest a budget or rate check waits on the database before the request is refused (503). */
  readonly storeTimeoutMs: number;
  /** When the database fails: keys with rate limits but no USD budget are admitted (`open`) or refused. */
  readonly rateLimitsOnStoreFailure: 'open' | 'closed';
}

export interface GatewayConfig {
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly maxBodyBytes: number;
    readonly maxConcurrentRequests: number;
    readonly drainTimeoutMs: number;
    readonly requestTimeoutMs: number;
  };
  /**
   * `sqlite` is an absolute path (or `:memory:`). With `postgresUrl` the store is PostgreSQL and
   * several instances share it; each appends to its own ledger chain, `chainId`.
   */
  readonly store: {
    readonly sqlite: string;
    readonly postgresUrl?: string | undefined;
    readonly chainId: string;
    /**
     * What a finished response's ledger entry survives: `process` (default) the gateway being
     * killed; `power` also power loss (an fsync per group of entries).
     */
    readonly durability?: 'process' | 'power' | undefined;
  };
  readonly auth: { readonly masterKey: string | undefined };
  /** Budget and limit enforcement settings; absent: `DEFAULTS.governance`. */
  readonly governance?: GovernanceConfig | undefined;
  readonly logging: { readonly level: LogLevel };
  readonly models: readonly ModelConfig[];
  /** The file it came from, or 'embedded default'. */
  readonly source: string;
  /** Every secret value in the config (keys), so logs and errors can redact them. */
  readonly secrets: readonly string[];
}

export const EMBEDDED_DEFAULT_SOURCE = 'embedded default';

/** The defaults the issue and docs/configuration.md promise; one place so docs and code agree. */
export const DEFAULTS = {
  host: '127.0.0.1',
  port: 4000,
  maxBodyBytes: 4 * 1024 * 1024,
  maxConcurrentRequests: 1024,
  drainTimeoutMs: 10_000,
  requestTimeoutMs: 600_000,
  sqlite: '.autocap/autocap.db',
  logLevel: 'info',
  connectTimeoutMs: 5_000,
  firstByteTimeoutMs: 60_000,
  idleTimeoutMs: 30_000,
  maxAttempts: 3,
  retries: 1,
  maxConnections: 128,
  /** A master key shorter than this is refused: it could be guessed. */
  minMasterKeyLength: 16,
  governance: { defaultMaxOutputTokens: 4096, storeTimeoutMs: 2000, rateLimitsOnStoreFailure: 'closed' },
} as const;

/** Where each provider's official API lives, used when a model leaves out `base_url`. */
export const DEFAULT_BASE_URLS: Readonly<Record<ProviderId, string | undefined>> = {
  'openai-compatible': undefined,
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com/v1',
};

/** The environment variable a provider's key conventionally lives in, for hints and the default. */
export const KEY_ENVIRONMENT_VARIABLES: Readonly<Record<ProviderId, string | undefined>> = {
  'openai-compatible': undefined,
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
};
