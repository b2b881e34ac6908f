/**
 * The schema of `autocap.yaml`, in the file's own snake_case, built with econ's validator so every
 * message names the field, what it expects (with its unit) and an example, and unknown fields get
 * "did you mean". Rules spanning fields (fallback graph, URLs, prices) are in `resolve-config.ts`.
 */
import {
  array,
  boolean,
  choice,
  type FinanceInput,
  type FleetInput,
  financeSchema,
  fleetSchema,
  INVALID,
  type Issue,
  number,
  object,
  optional,
  type Schema,
  string,
} from '@autocap/econ';
import type { ProviderId } from '../providers/provider.js';
import type { LogLevel } from './config.js';

export interface ServerDocument {
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly max_body_bytes?: number | undefined;
  readonly max_concurrent_requests?: number | undefined;
  readonly drain_timeout_ms?: number | undefined;
  readonly request_timeout_ms?: number | undefined;
}

export interface PriceDocument {
  readonly input_per_mtok_usd?: number | undefined;
  readonly output_per_mtok_usd?: number | undefined;
  readonly cached_input_per_mtok_usd?: number | undefined;
}

export interface ModelDocument {
  readonly name: string;
  readonly provider: ProviderId;
  readonly base_url?: string | undefined;
  readonly upstream_model?: string | undefined;
  readonly api_key?: string | undefined;
  readonly owned?: boolean | undefined;
  readonly price?: PriceDocument | undefined;
  readonly fallbacks?: string[] | undefined;
  readonly timeout_ms?: number | undefined;
  readonly connect_timeout_ms?: number | undefined;
  readonly idle_timeout_ms?: number | undefined;
  readonly max_attempts?: number | undefined;
  readonly retries?: number | undefined;
  readonly max_connections?: number | undefined;
  readonly context_window?: number | undefined;
  readonly max_output_tokens?: number | undefined;
  /** As in `autocap tco`: prices an owned model at the fleet's levelized cost. */
  readonly fleet?: FleetInput | undefined;
  readonly finance?: FinanceInput | undefined;
  readonly utilization?: number | undefined;
  readonly input_tokens_per_second_per_gpu?: number | undefined;
  readonly output_tokens_per_second_per_gpu?: number | undefined;
}

export interface GovernanceDocument {
  readonly default_max_output_tokens?: number | undefined;
  readonly store_timeout_ms?: number | undefined;
  readonly rate_limits_on_store_failure?: 'open' | 'closed' | undefined;
}

export interface ConfigDocument {
  readonly server?: ServerDocument | undefined;
  readonly store?:
    | {
        readonly sqlite?: string | undefined;
        readonly postgres_url?: string | undefined;
        readonly chain_id?: string | undefined;
        readonly durability?: 'process' | 'power' | undefined;
      }
    | undefined;
  readonly auth?: { readonly master_key?: string | undefined } | undefined;
  readonly governance?: GovernanceDocument | undefined;
  readonly logging?: { readonly level?: LogLevel | undefined } | undefined;
  readonly models: ModelDocument[];
}

/** Fields whose values are secrets: their values never appear in a message. */
export const SECRET_FIELDS: readonly string[] = ['api_key', 'master_key'];

/**
 * A string that is never echoed: econ's `string()` quotes the bad value in its message, which
 * for a key would print the key.
 */
function secret(options: { what: string; example: string }): Schema<string> {
  const schema: Schema<string> = {
    kind: 'string',
    expected: options.what,
    example: options.example,
    optional: false,
    parse(input: unknown, path: string, issues: Issue[]) {
      if (typeof input === 'string' && input.trim() !== '') return input;
      const problem =
        input === undefined ? 'is missing' : typeof input === 'string' ? 'is empty' : 'is not a string';
      issues.push({
        code: input === undefined ? 'missing' : 'wrong_type',
        path,
        message: `${path} ${problem}: expected ${options.what} (example: ${path}: ${options.example})`,
      });
      return INVALID;
    },
  };
  return schema;
}

const milliseconds = (what: string, example: number): Schema<number | undefined> =>
  optional(number({ unit: `milliseconds, ${what}`, min: 1, max: 86_400_000, integer: true, example }));

const serverSchema = object<ServerDocument>(
  {
    host: optional(string({ what: 'an address to listen on', example: '127.0.0.1' })),
    port: optional(
      number({ unit: 'TCP port; 0 picks a free one', min: 0, max: 65535, integer: true, example: 4000 }),
    ),
    max_body_bytes: optional(
      number({ unit: 'bytes, largest request body accepted', min: 1024, integer: true, example: 4194304 }),
    ),
    max_concurrent_requests: optional(
      number({ unit: 'requests in flight before new ones get 503', min: 1, integer: true, example: 1024 }),
    ),
    drain_timeout_ms: milliseconds('how long shutdown waits for requests in flight', 10000),
    request_timeout_ms: milliseconds('longest a whole request may take, fallbacks included', 600000),
  },
  { what: 'server settings {host, port, ...}', example: '{host: 127.0.0.1, port: 4000}' },
);

const priceSchema = object<PriceDocument>(
  {
    input_per_mtok_usd: optional(number({ unit: 'USD per million input tokens', min: 0, example: 2.5 })),
    output_per_mtok_usd: optional(number({ unit: 'USD per million output tokens', min: 0, example: 10 })),
    cached_input_per_mtok_usd: optional(
      number({ unit: 'USD per million cached input tokens', min: 0, example: 1.25 }),
    ),
  },
  {
    what: 'prices {input_per_mtok_usd, output_per_mtok_usd, cached_input_per_mtok_usd}',
    example: '{input_per_mtok_usd: 0.5, output_per_mtok_usd: 1.5}',
  },
);

const PROVIDERS: readonly ProviderId[] = ['openai-compatible', 'openai', 'anthropic'];

const modelName = (what: string): Schema<string> =>
  string({ what, example: 'llama-3.1-70b', pattern: /^[^\s\p{Cc}]{1,256}$/u });

const tokensPerSecond = (kind: string, example: number): Schema<number | undefined> =>
  optional(number({ unit: `${kind} tokens per second per busy GPU, measured`, above: 0, example }));

export const modelSchema: Schema<ModelDocument> = object<ModelDocument>(
  {
    name: modelName('a model name without spaces (what clients send as `model`)'),
    provider: choice(PROVIDERS, 'openai-compatible'),
    base_url: optional(
      string({
        what: 'an http(s) URL of the API, with its path prefix',
        example: 'http://127.0.0.1:8000/v1',
      }),
    ),
    upstream_model: optional(
      string({ what: 'the model name the upstream expects', example: 'meta-llama/Llama-3.1-70B-Instruct' }),
    ),
    api_key: optional(
      secret({ what: `the upstream API key, as an \${ENV_VAR} reference`, example: `\${VLLM_API_KEY}` }),
    ),
    owned: optional(boolean(true)),
    price: optional(priceSchema),
    fallbacks: optional(
      array(modelName('the name of another configured model'), {
        what: 'a list of model names tried in order when this one fails',
        example: '[gpt-4o-mini]',
      }),
    ),
    timeout_ms: milliseconds('from request sent to the first byte of the answer', 60000),
    connect_timeout_ms: milliseconds('to open a TCP connection', 5000),
    idle_timeout_ms: milliseconds('longest silence inside a stream', 30000),
    max_attempts: optional(
      number({
        unit: 'attempts per request, fallbacks included',
        min: 1,
        max: 20,
        integer: true,
        example: 3,
      }),
    ),
    retries: optional(
      number({
        unit: 'retries of this model before its fallbacks',
        min: 0,
        max: 10,
        integer: true,
        example: 1,
      }),
    ),
    max_connections: optional(
      number({ unit: 'open connections to this upstream', min: 1, max: 65536, integer: true, example: 128 }),
    ),
    context_window: optional(number({ unit: 'tokens of prompt', min: 1, integer: true, example: 131072 })),
    max_output_tokens: optional(
      number({ unit: 'tokens of completion', min: 1, integer: true, example: 8192 }),
    ),
    fleet: optional(fleetSchema),
    finance: financeSchema,
    utilization: optional(
      number({ unit: 'fraction of hours the GPUs do paid work', above: 0, max: 1, example: 0.7 }),
    ),
    input_tokens_per_second_per_gpu: tokensPerSecond('prompt (prefill)', 20000),
    output_tokens_per_second_per_gpu: tokensPerSecond('generated (decode)', 2500),
  },
  {
    what: 'a model {name, provider, base_url, ...}',
    example: '{name: llama-70b, provider: openai-compatible, base_url: http://127.0.0.1:8000/v1}',
  },
);

export const configSchema: Schema<ConfigDocument> = object<ConfigDocument>(
  {
    server: optional(serverSchema),
    store: optional(
      object<{
        sqlite?: string | undefined;
        postgres_url?: string | undefined;
        chain_id?: string | undefined;
        durability?: 'process' | 'power' | undefined;
      }>(
        {
          sqlite: optional(string({ what: 'a SQLite file path', example: '.autocap/autocap.db' })),
          postgres_url: optional(
            secret({
              what: 'a PostgreSQL URL (postgres://user:password@host:5432/database)',
              example: `\${AUTOCAP_POSTGRES_URL}`,
            }),
          ),
          chain_id: optional(
            string({
              what: "this instance's ledger chain (letters, digits, . _ : -)",
              example: 'gw-1',
              pattern: /^[\w.:-]{1,64}$/,
            }),
          ),
          durability: optional(choice(['process', 'power'] as const, 'process')),
        },
        {
          what: 'store settings {sqlite, postgres_url, chain_id, durability}',
          example: `{postgres_url: "\${AUTOCAP_POSTGRES_URL}"}`,
        },
      ),
    ),
    auth: optional(
      object<{ master_key?: string | undefined }>(
        {
          master_key: optional(
            secret({ what: 'an admin key of 16 or more characters', example: `\${AUTOCAP_MASTER_KEY}` }),
          ),
        },
        { what: 'auth settings {master_key}', example: `{master_key: "\${AUTOCAP_MASTER_KEY}"}` },
      ),
    ),
    governance: optional(
      object<GovernanceDocument>(
        {
          default_max_output_tokens: optional(
            number({
              unit: 'output tokens reserved when neither the request nor the model caps them',
              min: 1,
              integer: true,
              example: 4096,
            }),
          ),
          store_timeout_ms: milliseconds('a budget check may wait on the database before a 503', 2000),
          rate_limits_on_store_failure: optional(choice(['closed', 'open'] as const, 'closed')),
        },
        {
          what: 'budget enforcement settings {default_max_output_tokens, store_timeout_ms, rate_limits_on_store_failure}',
          example: '{store_timeout_ms: 2000}',
        },
      ),
    ),
    logging: optional(
      object<{ level?: LogLevel | undefined }>(
        { level: optional(choice(['debug', 'info', 'warn', 'error'] as const, 'info')) },
        { what: 'logging settings {level}', example: '{level: info}' },
      ),
    ),
    models: array(modelSchema, {
      what: 'a list of models',
      example: '[{name: gpt-4o-mini, provider: openai}]',
    }),
  },
  { what: 'a gateway config {server, store, auth, logging, models}', example: '{models: [...]}' },
);
