import { hostname } from 'node:os';
/**
 * From a parsed, substituted document to the final GatewayConfig: schema validation, then the
 * rules that span fields (unique names, the fallback graph, URLs, keys, prices), then defaults.
 * Every problem is collected, so one run of `autocap config check` lists them all.
 */
import { isAbsolute, resolve } from 'node:path';
import { validate } from '@autocap/econ';
import { lookupPrice, type PriceTable, pricingProvider } from '../metering/prices.js';
import { checkBaseUrl, safeDecode } from './base-url.js';
import {
  DEFAULT_BASE_URLS,
  DEFAULTS,
  type GatewayConfig,
  KEY_ENVIRONMENT_VARIABLES,
  type ModelConfig,
  type ModelPrice,
} from './config.js';
import { configSchema, type ModelDocument } from './config-schema.js';
import { checkFallbacks } from './fallback-graph.js';
import { fleetPrice } from './fleet-price.js';
import { postgresUrlSecrets, postgresUser } from './postgres-url.js';

export interface ResolveOptions {
  /** The config file's path, or 'embedded default'. */
  readonly source: string;
  /** Relative paths in the config resolve against this folder. */
  readonly baseDirectory: string;
  /** A file must list at least one model; the embedded default may start with none. */
  readonly requireModels: boolean;
  readonly priceTable: PriceTable;
}

export type ResolveResult =
  | { readonly ok: true; readonly config: GatewayConfig; readonly notices: string[] }
  | { readonly ok: false; readonly errors: string[] };

/** `auto` is the routing request "pick the cheapest model that passed evaluations". */
const RESERVED_NAMES: readonly string[] = ['auto'];
/** Shorter key values are not searched for inside URLs: they would match by accident. */
const MIN_SEARCHED_SECRET_LENGTH = 6;

const fmt = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toPrecision(3));

interface PricedModel {
  readonly price: ModelPrice;
  readonly contextWindow: number | undefined;
  readonly maxOutputTokens: number | undefined;
}

function priceModel(
  model: ModelDocument,
  context: {
    path: string;
    baseUrl: string;
    table: PriceTable;
    errors: string[];
    notices: string[];
    unpriced: string[];
  },
): PricedModel | undefined {
  const { path, errors, notices } = context;
  const owned = model.owned ?? false;
  const upstream = model.upstream_model ?? model.name;
  const fleetOnly = [
    ['finance', model.finance],
    ['utilization', model.utilization],
    ['input_tokens_per_second_per_gpu', model.input_tokens_per_second_per_gpu],
    ['output_tokens_per_second_per_gpu', model.output_tokens_per_second_per_gpu],
  ] as const;

  if (model.fleet) {
    const before = errors.length;
    if (!owned) {
      errors.push(
        `${path}.fleet is given but ${path}.owned is not true: a fleet prices a model you own; set owned: true, or remove fleet`,
      );
    }
    if (model.price) {
      errors.push(
        `${path}.price and ${path}.fleet are both given: keep one (fleet prices the model at its levelized cost)`,
      );
    }
    const inputRate = model.input_tokens_per_second_per_gpu;
    const outputRate = model.output_tokens_per_second_per_gpu;
    for (const [field, value, example] of [
      ['input_tokens_per_second_per_gpu', inputRate, 20000],
      ['output_tokens_per_second_per_gpu', outputRate, 2500],
    ] as const) {
      if (value === undefined) {
        errors.push(
          `${path}.${field} is missing: a fleet-priced model needs its measured throughput (example: ${path}.${field}: ${example})`,
        );
      }
    }
    if (errors.length > before || inputRate === undefined || outputRate === undefined) return undefined;
    const result = fleetPrice(
      {
        fleet: model.fleet,
        finance: model.finance,
        utilization: model.utilization,
        inputTokensPerSecondPerGpu: inputRate,
        outputTokensPerSecondPerGpu: outputRate,
      },
      `${path}.`,
    );
    if (!result.ok) {
      errors.push(...result.errors);
      return undefined;
    }
    const defaultsUsed = result.defaultsUsed.map((used) => used.field.slice(path.length + 1)).join(', ');
    notices.push(
      `${model.name}: priced from its fleet at $${fmt(result.levelizedCostPerGpuHourUsd)} per GPU-hour: input $${fmt(result.price.inputPerMtokUsd)}, output $${fmt(result.price.outputPerMtokUsd)} per million tokens${defaultsUsed ? ` (defaults from data/defaults.json: ${defaultsUsed})` : ''}`,
    );
    return {
      price: result.price,
      contextWindow: model.context_window,
      maxOutputTokens: model.max_output_tokens,
    };
  }

  for (const [field, value] of fleetOnly) {
    if (value !== undefined)
      errors.push(`${path}.${field} is only used with ${path}.fleet: add a fleet, or remove ${field}`);
  }
  // The table prices renting: an owned model's tokens cost what its GPUs cost, never an API's rate.
  const match = owned
    ? undefined
    : lookupPrice(context.table, upstream, pricingProvider(model.provider, context.baseUrl));
  const tableWindow = {
    contextWindow: model.context_window ?? match?.entry.maxInputTokens,
    maxOutputTokens: model.max_output_tokens ?? match?.entry.maxOutputTokens,
  };
  const given = model.price;
  if (given) {
    const input = given.input_per_mtok_usd ?? match?.price.inputPerMtokUsd;
    const output = given.output_per_mtok_usd ?? match?.price.outputPerMtokUsd;
    for (const [field, value, example] of [
      ['input_per_mtok_usd', input, 0.5],
      ['output_per_mtok_usd', output, 1.5],
    ] as const) {
      if (value === undefined) {
        errors.push(
          `${path}.price.${field} is missing: the price table does not know "${upstream}" (example: ${path}.price.${field}: ${example})`,
        );
      }
    }
    if (input === undefined || output === undefined) return undefined;
    // An input override without a cached one prices cached input at the overridden input rate,
    // never at a table rate that could now exceed it.
    const cached =
      given.cached_input_per_mtok_usd ??
      given.input_per_mtok_usd ??
      match?.price.cachedInputPerMtokUsd ??
      input;
    return {
      price: {
        inputPerMtokUsd: input,
        outputPerMtokUsd: output,
        cachedInputPerMtokUsd: cached,
        source: 'config',
      },
      ...tableWindow,
    };
  }
  if (match) return { price: match.price, ...tableWindow };
  if (owned) {
    context.unpriced.push(`${model.name} (${path})`);
    return {
      price: { inputPerMtokUsd: 0, outputPerMtokUsd: 0, cachedInputPerMtokUsd: 0, source: 'unpriced' },
      ...tableWindow,
    };
  }
  errors.push(
    `${path}.price is missing: the price table does not know "${upstream}"; give ${path}.price.input_per_mtok_usd and ${path}.price.output_per_mtok_usd, or set owned: true with a fleet (example: ${path}.price: {input_per_mtok_usd: 0.5, output_per_mtok_usd: 1.5})`,
  );
  return undefined;
}

export function resolveConfig(document: unknown, options: ResolveOptions): ResolveResult {
  const parsed = validate(configSchema, document);
  if (!parsed.ok) return { ok: false, errors: parsed.issues.map((issue) => issue.message) };
  const doc = parsed.value;
  const errors: string[] = [];
  const notices: string[] = [];

  if (options.requireModels && doc.models.length === 0) {
    errors.push(
      `models is empty: list at least one model (example: models: [{name: gpt-4o-mini, provider: openai, api_key: "\${OPENAI_API_KEY}"}])`,
    );
  }
  const masterKey = doc.auth?.master_key;
  if (masterKey !== undefined && masterKey.length < DEFAULTS.minMasterKeyLength) {
    errors.push(
      `auth.master_key is too short (${masterKey.length} characters): use at least ${DEFAULTS.minMasterKeyLength}, e.g. the output of \`openssl rand -hex 32\``,
    );
  }
  if (masterKey === undefined) {
    notices.push(
      `auth.master_key is not set: only virtual keys (autocap keys create) are accepted; to have an admin key, set auth.master_key: \${AUTOCAP_MASTER_KEY}`,
    );
  }
  // A PostgreSQL URL may carry a password: redact it like a key.
  const postgresSecrets =
    doc.store?.postgres_url === undefined ? [] : postgresUrlSecrets(doc.store.postgres_url);
  const secrets = [masterKey, ...postgresSecrets, ...doc.models.map((model) => model.api_key)].filter(
    (value): value is string => value !== undefined,
  );

  const unpriced: string[] = [];
  const firstIndex = new Map<string, number>();
  const models: ModelConfig[] = [];
  doc.models.forEach((model, index) => {
    const path = `models.${index}`;
    const earlier = firstIndex.get(model.name);
    if (earlier !== undefined) {
      errors.push(
        `${path}.name "${model.name}" is already used by models.${earlier}: model names must be unique`,
      );
    } else {
      firstIndex.set(model.name, index);
    }
    if (RESERVED_NAMES.includes(model.name)) {
      errors.push(`${path}.name "${model.name}" is reserved for automatic routing: choose another name`);
    }
    const keyVariable = KEY_ENVIRONMENT_VARIABLES[model.provider];
    if (keyVariable && model.api_key === undefined) {
      errors.push(
        `${path}.api_key is missing: the ${model.provider} provider needs a key (example: ${path}.api_key: \${${keyVariable}})`,
      );
    }
    const rawUrl = model.base_url ?? DEFAULT_BASE_URLS[model.provider];
    if (rawUrl === undefined) {
      errors.push(
        `${path}.base_url is missing: ${model.provider} models need the server's URL (example: ${path}.base_url: http://127.0.0.1:8000/v1)`,
      );
      return;
    }
    const leaked = secrets.find(
      (secret) =>
        secret.length >= MIN_SEARCHED_SECRET_LENGTH &&
        (rawUrl.includes(secret) || safeDecode(rawUrl).includes(secret)),
    );
    if (leaked !== undefined) {
      errors.push(
        `${path}.base_url contains a key: keys go in api_key (as \${ENV_VAR} references), never in the URL`,
      );
      return;
    }
    const url = checkBaseUrl(rawUrl, `${path}.base_url`);
    if (!url.ok) {
      errors.push(url.error);
      return;
    }
    const priced = priceModel(model, {
      path,
      baseUrl: url.url,
      table: options.priceTable,
      errors,
      notices,
      unpriced,
    });
    if (!priced) return;
    models.push({
      name: model.name,
      provider: model.provider,
      baseUrl: url.url,
      upstreamModel: model.upstream_model ?? model.name,
      apiKey: model.api_key,
      owned: model.owned ?? false,
      price: priced.price,
      fallbacks: model.fallbacks ?? [],
      timeouts: {
        connectMs: model.connect_timeout_ms ?? DEFAULTS.connectTimeoutMs,
        firstByteMs: model.timeout_ms ?? DEFAULTS.firstByteTimeoutMs,
        idleMs: model.idle_timeout_ms ?? DEFAULTS.idleTimeoutMs,
      },
      maxAttempts: model.max_attempts ?? DEFAULTS.maxAttempts,
      retries: model.retries ?? DEFAULTS.retries,
      maxConnections: model.max_connections ?? DEFAULTS.maxConnections,
      contextWindow: priced.contextWindow,
      maxOutputTokens: priced.maxOutputTokens,
    });
  });
  checkFallbacks(doc.models, errors);
  const postgresUrl = doc.store?.postgres_url;
  if (postgresUrl !== undefined && !/^postgres(?:ql)?:\/\/[^\s]+$/.test(postgresUrl)) {
    errors.push(
      'store.postgres_url is not a PostgreSQL URL: expected postgres://user:password@host:5432/database',
    );
  } else if (postgresUrl !== undefined && !postgresUser(postgresUrl)) {
    // The driver would fall back to $USER, and fail at the first query when that is unset too.
    errors.push(
      'store.postgres_url names no user, and neither PGUSER nor USER is set: write postgres://user@host:5432/database',
    );
  }
  if (errors.length > 0) return { ok: false, errors };
  if (unpriced.length > 0) {
    notices.push(
      `Owned models without fleet: or price: are metered at $0: ${unpriced.join(', ')}. Add fleet: (priced at its levelized cost) or price: to each (see docs/configuration.md)`,
    );
  }

  const sqlite = doc.store?.sqlite ?? DEFAULTS.sqlite;
  const server = doc.server;
  return {
    ok: true,
    notices,
    config: {
      server: {
        host: server?.host ?? DEFAULTS.host,
        port: server?.port ?? DEFAULTS.port,
        maxBodyBytes: server?.max_body_bytes ?? DEFAULTS.maxBodyBytes,
        maxConcurrentRequests: server?.max_concurrent_requests ?? DEFAULTS.maxConcurrentRequests,
        drainTimeoutMs: server?.drain_timeout_ms ?? DEFAULTS.drainTimeoutMs,
        requestTimeoutMs: server?.request_timeout_ms ?? DEFAULTS.requestTimeoutMs,
      },
      store: {
        sqlite: sqlite === ':memory:' || isAbsolute(sqlite) ? sqlite : resolve(options.baseDirectory, sqlite),
        postgresUrl: doc.store?.postgres_url,
        // SQLite has one writer, so one chain; PostgreSQL instances each get their own.
        chainId:
          doc.store?.chain_id ??
          (doc.store?.postgres_url ? `${hostname()}-${server?.port ?? DEFAULTS.port}` : 'main'),
        durability: doc.store?.durability ?? 'process',
      },
      auth: { masterKey },
      governance: {
        defaultMaxOutputTokens:
          doc.governance?.default_max_output_tokens ?? DEFAULTS.governance.defaultMaxOutputTokens,
        storeTimeoutMs: doc.governance?.store_timeout_ms ?? DEFAULTS.governance.storeTimeoutMs,
        rateLimitsOnStoreFailure:
          doc.governance?.rate_limits_on_store_failure ?? DEFAULTS.governance.rateLimitsOnStoreFailure,
      },
      logging: { level: doc.logging?.level ?? 'info' },
      models,
      source: options.source,
      secrets,
    },
  };
}
