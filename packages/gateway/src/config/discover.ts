/**
 * The config autocap builds when there is no autocap.yaml.
 *
 * Discovery: OpenAI-compatible servers already running on this machine, Ollama (11434), vLLM
 * (8000) and llama.cpp's server (8080) on their usual ports. Only 127.0.0.1 is probed, in
 * parallel, with a short timeout, so a start with nothing running costs at most one timeout.
 *
 * The embedded default: the servers found, the rented APIs whose keys are in the environment, and
 * a master key (from AUTOCAP_MASTER_KEY, or made once and kept in `.autocap/master-key`). It is
 * written as a config document with `${ENV}` references and goes through the same checks as a
 * file, so what `renderDefaultConfigYaml` prints loads back to the same thing.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Document, isMap } from 'yaml';
import { z } from 'zod';
import {
  DEFAULT_BASE_URLS,
  DEFAULTS,
  type GatewayConfig,
  KEY_ENVIRONMENT_VARIABLES,
  type ModelConfig,
} from './config.js';

export type DiscoveredKind = 'ollama' | 'vllm' | 'llama.cpp' | 'openai-compatible';

export interface DiscoveredServer {
  /** Which server answered; `openai-compatible` when a non-default port gave no sign. */
  readonly kind: DiscoveredKind;
  /** e.g. `http://127.0.0.1:11434/v1`. */
  readonly baseUrl: string;
  /** The model ids it serves, as clients must send them upstream. */
  readonly models: string[];
}

export interface DiscoverOptions {
  readonly ports?: readonly number[];
  readonly timeoutMs?: number;
  readonly fetchImpl?: typeof fetch;
}

/** The usual port of each server; also what a port tells when the answer does not. */
export const DEFAULT_DISCOVERY_PORTS: ReadonlyMap<number, DiscoveredKind> = new Map([
  [11434, 'ollama'],
  [8000, 'vllm'],
  [8080, 'llama.cpp'],
]);

export const DISCOVERY_TIMEOUT_MS = 300;
/** More than any real server lists; bounds what an odd local process can add to the config. */
const MAX_MODELS_PER_SERVER = 256;

export const KIND_LABELS: Readonly<Record<DiscoveredKind, string>> = {
  ollama: 'Ollama',
  vllm: 'vLLM',
  'llama.cpp': 'llama.cpp',
  'openai-compatible': 'an OpenAI-compatible server',
};

/** `GET /v1/models`, tolerant: each server adds its own fields, and rows without an id are skipped. */
const ModelList = z.looseObject({
  data: z.array(z.unknown()),
});
const ModelRow = z.looseObject({
  id: z.string().min(1).max(512),
  owned_by: z.string().nullish(),
});

/** `owned_by` tells the servers apart: vLLM says `vllm`, llama.cpp `llamacpp`, Ollama `library`. */
function kindFrom(ownedBy: readonly string[], port: number): DiscoveredKind {
  if (ownedBy.includes('vllm')) return 'vllm';
  if (ownedBy.includes('llamacpp')) return 'llama.cpp';
  if (ownedBy.includes('library') || ownedBy.includes('ollama')) return 'ollama';
  return DEFAULT_DISCOVERY_PORTS.get(port) ?? 'openai-compatible';
}

async function probe(
  port: number,
  timeoutMs: number,
  fetchImpl: typeof fetch,
): Promise<DiscoveredServer | null> {
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  try {
    // The timeout covers the body too: a server that accepts and then stalls is given up on.
    const response = await fetchImpl(`${baseUrl}/models`, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
      redirect: 'error',
    });
    if (!response.ok) return null;
    const list = ModelList.safeParse(await response.json());
    if (!list.success) return null;
    const models: string[] = [];
    const ownedBy: string[] = [];
    for (const row of list.data.data.slice(0, MAX_MODELS_PER_SERVER)) {
      const parsed = ModelRow.safeParse(row);
      if (!parsed.success || models.includes(parsed.data.id)) continue;
      models.push(parsed.data.id);
      if (parsed.data.owned_by) ownedBy.push(parsed.data.owned_by.toLowerCase());
    }
    return { kind: kindFrom(ownedBy, port), baseUrl, models };
  } catch {
    // Refused, timed out, not JSON: nothing usable there.
    return null;
  }
}

/** Probes each port's `/v1/models` on 127.0.0.1 and returns the servers that answered, in port order. */
export async function discoverLocalServers(options: DiscoverOptions = {}): Promise<DiscoveredServer[]> {
  const ports = options.ports ?? [...DEFAULT_DISCOVERY_PORTS.keys()];
  const timeoutMs = options.timeoutMs ?? DISCOVERY_TIMEOUT_MS;
  const fetchImpl = options.fetchImpl ?? fetch;
  const found = await Promise.all(ports.map((port) => probe(port, timeoutMs, fetchImpl)));
  return found.filter((server): server is DiscoveredServer => server !== null);
}

// ---------------------------------------------------------------------------------------------
// The embedded default
// ---------------------------------------------------------------------------------------------

export const MASTER_KEY_VARIABLE = 'AUTOCAP_MASTER_KEY';
export const STATE_DIRECTORY = '.autocap';
export const MASTER_KEY_FILE = 'master-key';

/** Rented models added when their provider's key is set; each is in the bundled price table. */
const RENTED_MODELS: readonly { provider: 'openai' | 'anthropic'; names: readonly string[] }[] = [
  { provider: 'openai', names: ['gpt-4o-mini', 'gpt-4o', 'gpt-5-mini', 'gpt-5'] },
  { provider: 'anthropic', names: ['claude-haiku-4-5', 'claude-sonnet-4-5'] },
];

export interface EmbeddedDefault {
  /** A config document, as if read from YAML (secrets as `${ENV}` references). */
  readonly document: Record<string, unknown>;
  /** The environment the references resolve against (with a stored master key added). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly notices: string[];
  readonly errors: string[];
}

interface MasterKey {
  readonly key: string | undefined;
  readonly notices: string[];
  readonly errors: string[];
}

function errorCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The stored key, or a new one written with mode 0600 (and `wx`, so two first starts agree). */
async function masterKey(
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
  readOnly: boolean,
): Promise<MasterKey> {
  if (env[MASTER_KEY_VARIABLE])
    return {
      key: env[MASTER_KEY_VARIABLE],
      notices: [`Master key: from ${MASTER_KEY_VARIABLE}.`],
      errors: [],
    };
  const directory = join(cwd, STATE_DIRECTORY);
  const file = join(directory, MASTER_KEY_FILE);
  const shownFile = join(STATE_DIRECTORY, MASTER_KEY_FILE);
  const read = async (): Promise<MasterKey> => {
    const key = (await readFile(file, 'utf8')).trim();
    if (key.length < DEFAULTS.minMasterKeyLength) {
      return {
        key: undefined,
        notices: [],
        errors: [
          `${shownFile} holds no usable key (under ${DEFAULTS.minMasterKeyLength} characters): delete it to have a new one made, or set ${MASTER_KEY_VARIABLE}`,
        ],
      };
    }
    return {
      key,
      notices: [`Master key: from ${shownFile} (set ${MASTER_KEY_VARIABLE} to use another).`],
      errors: [],
    };
  };
  try {
    return await read();
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') {
      return {
        key: undefined,
        notices: [],
        errors: [`${shownFile}: cannot read the master key (${errorCode(error) ?? 'unreadable'})`],
      };
    }
  }
  if (readOnly) {
    return {
      key: undefined,
      notices: [`No master key yet: \`autocap serve\` makes one in ${shownFile} on its first start.`],
      errors: [],
    };
  }
  const key = `sk-autocap-${randomBytes(24).toString('base64url')}`;
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return read();
    return {
      key: undefined,
      notices: [],
      errors: [`${shownFile}: cannot save a new master key (${errorCode(error) ?? 'unwritable'})`],
    };
  }
  return {
    key,
    notices: [
      `Created a master key and saved it in ${shownFile} (readable only by you). It is shown this once: ${key}\n` +
        `  Clients send it as "Authorization: Bearer <key>" (OpenAI SDKs: api_key=<key>, base_url=http://${DEFAULTS.host}:${DEFAULTS.port}/v1). Set ${MASTER_KEY_VARIABLE} to use a key of your own.`,
    ],
    errors: [],
  };
}

/**
 * Text from outside (a server's model ids) that must not be read as `${ENV}` references. The
 * replacement is a function because in a replacement string `$$` would itself collapse to `$`.
 */
const literal = (text: string): string => text.replaceAll('${', () => '$${');

/** Client-facing names: no whitespace, not the reserved `auto`, unique across servers. */
function uniqueName(id: string, kind: string, taken: Set<string>): string {
  const cleaned = id.replace(/[\s\p{Cc}]+/gu, '-').slice(0, 200) || 'model';
  let name = cleaned === 'auto' || taken.has(cleaned) ? `${cleaned}@${kind}` : cleaned;
  for (let suffix = 2; taken.has(name); suffix++) name = `${cleaned}@${kind}-${suffix}`;
  taken.add(name);
  return name;
}

export async function buildEmbeddedDefault(options: {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly discover: () => Promise<DiscoveredServer[]>;
  readonly readOnly: boolean;
}): Promise<EmbeddedDefault> {
  const notices: string[] = [
    'No autocap.yaml here: using the embedded default, built from what is running on this machine.',
  ];
  let servers: DiscoveredServer[] = [];
  try {
    servers = await options.discover();
  } catch {
    notices.push('Could not probe for local model servers; continuing without them.');
  }
  const models: Record<string, unknown>[] = [];
  const taken = new Set<string>();
  for (const server of servers) {
    const names: string[] = [];
    for (const id of server.models) {
      const name = uniqueName(id, server.kind, taken);
      names.push(name);
      models.push({
        name: literal(name),
        provider: 'openai-compatible',
        base_url: server.baseUrl,
        ...(name === id ? {} : { upstream_model: literal(id) }),
        owned: true,
      });
    }
    notices.push(
      `Found ${KIND_LABELS[server.kind]} at ${server.baseUrl}${names.length > 0 ? ` serving ${names.join(', ')}` : ', serving no model yet'}.`,
    );
  }
  if (servers.length === 0) {
    const ports = [...DEFAULT_DISCOVERY_PORTS]
      .map(([port, kind]) => `${port} (${KIND_LABELS[kind]})`)
      .join(', ');
    notices.push(`No local model server answered on 127.0.0.1 ports ${ports}.`);
  }
  for (const rented of RENTED_MODELS) {
    const variable = KEY_ENVIRONMENT_VARIABLES[rented.provider];
    if (!variable || !options.env[variable]) continue;
    const names = rented.names.filter((name) => !taken.has(name));
    for (const name of names) {
      taken.add(name);
      models.push({ name, provider: rented.provider, api_key: `\${${variable}}` });
    }
    notices.push(`${variable} is set: added ${names.join(', ')} (priced from the bundled price table).`);
  }
  const missing = RENTED_MODELS.map((rented) => KEY_ENVIRONMENT_VARIABLES[rented.provider]).filter(
    (variable): variable is string => variable !== undefined && !options.env[variable],
  );
  if (missing.length > 0) notices.push(`Set ${missing.join(' or ')} to add rented models.`);
  if (models.length === 0)
    notices.push('No model found: the gateway starts, but serves no model until you add one.');
  notices.push(
    'To add models, fallbacks or prices: `autocap config show > autocap.yaml`, then edit it (every field: docs/configuration.md).',
  );

  const key = await masterKey(options.cwd, options.env, options.readOnly);
  const document: Record<string, unknown> = { models };
  if (key.key !== undefined) document['auth'] = { master_key: `\${${MASTER_KEY_VARIABLE}}` };
  return {
    document,
    env: key.key === undefined ? options.env : { ...options.env, [MASTER_KEY_VARIABLE]: key.key },
    notices: [...notices, ...key.notices],
    errors: key.errors,
  };
}

/** The `${ENV}` reference a model's key is written as. */
function keyReference(model: ModelConfig): string {
  const variable =
    KEY_ENVIRONMENT_VARIABLES[model.provider] ??
    `${model.name
      .toUpperCase()
      .replace(/[^A-Z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')}_API_KEY`;
  return `\${${variable}}`;
}

function renderModel(model: ModelConfig): Record<string, unknown> {
  const rendered: Record<string, unknown> = { name: literal(model.name), provider: model.provider };
  if (model.baseUrl !== DEFAULT_BASE_URLS[model.provider]) rendered['base_url'] = literal(model.baseUrl);
  if (model.upstreamModel !== model.name) rendered['upstream_model'] = literal(model.upstreamModel);
  if (model.apiKey !== undefined) rendered['api_key'] = keyReference(model);
  if (model.owned) rendered['owned'] = true;
  if (model.price.source === 'config' || model.price.source === 'fleet') {
    rendered['price'] = {
      input_per_mtok_usd: model.price.inputPerMtokUsd,
      output_per_mtok_usd: model.price.outputPerMtokUsd,
      cached_input_per_mtok_usd: model.price.cachedInputPerMtokUsd,
    };
  }
  if (model.fallbacks.length > 0) rendered['fallbacks'] = model.fallbacks.map(literal);
  const optional: [string, number, number][] = [
    ['timeout_ms', model.timeouts.firstByteMs, DEFAULTS.firstByteTimeoutMs],
    ['connect_timeout_ms', model.timeouts.connectMs, DEFAULTS.connectTimeoutMs],
    ['idle_timeout_ms', model.timeouts.idleMs, DEFAULTS.idleTimeoutMs],
    ['max_attempts', model.maxAttempts, DEFAULTS.maxAttempts],
    ['retries', model.retries, DEFAULTS.retries],
    ['max_connections', model.maxConnections, DEFAULTS.maxConnections],
  ];
  for (const [key, value, fallback] of optional) if (value !== fallback) rendered[key] = value;
  return rendered;
}

/**
 * The config as YAML a user can save as autocap.yaml: secrets become `${ENV}` references (never
 * values), and the store path is written relative to `cwd` when it lies inside it.
 */
export function renderDefaultConfigYaml(
  config: GatewayConfig,
  options: { readonly cwd?: string } = {},
): string {
  const sqlite =
    options.cwd !== undefined && config.store.sqlite.startsWith(options.cwd)
      ? relative(options.cwd, config.store.sqlite)
      : config.store.sqlite;
  const document = new Document({
    server: { host: config.server.host, port: config.server.port },
    store: { sqlite },
    ...(config.auth.masterKey === undefined ? {} : { auth: { master_key: `\${${MASTER_KEY_VARIABLE}}` } }),
    models: config.models.map(renderModel),
  });
  document.commentBefore = [
    ' autocap gateway config. Reference: docs/configuration.md',
    ` Secrets are \${ENV_VAR} references: export them before \`autocap serve\`.`,
    config.auth.masterKey === undefined
      ? ''
      : ` The master key is read from ${MASTER_KEY_VARIABLE}; a key autocap generated is in ${join(STATE_DIRECTORY, MASTER_KEY_FILE)}:\n   export ${MASTER_KEY_VARIABLE}="$(cat ${join(STATE_DIRECTORY, MASTER_KEY_FILE)})"`,
  ]
    .filter((line) => line !== '')
    .join('\n');
  config.models.forEach((model, index) => {
    if (model.price.source !== 'unpriced') return;
    const node = document.getIn(['models', index], true);
    if (isMap(node))
      node.commentBefore = ' Owned and unpriced: add fleet: (levelized cost) or price: to meter its tokens.';
  });
  return document.toString({ lineWidth: 0 });
}
