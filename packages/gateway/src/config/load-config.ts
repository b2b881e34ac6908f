/**
 * Loads the gateway's configuration: `--config PATH`, else `./autocap.yaml` (or `.yml`), else the
 * embedded default built from what is running. A file goes through YAML parsing (with line and
 * column on errors), `${ENV}` substitution, schema validation and the cross-field rules; every
 * problem is returned at once, and no message ever contains a secret's value.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { loadPriceTable, type PriceTable } from '../metering/prices.js';
import { EMBEDDED_DEFAULT_SOURCE, type GatewayConfig } from './config.js';
import { SECRET_FIELDS } from './config-schema.js';
import { buildEmbeddedDefault, type DiscoveredServer, discoverLocalServers } from './discover.js';
import { resolveConfig } from './resolve-config.js';
import { substituteEnv } from './substitute-env.js';

export type ConfigResult =
  | { ok: true; config: GatewayConfig; notices: string[] }
  /** `source` is the file (or 'embedded default') the errors are about, for the CLI's heading. */
  | { ok: false; errors: string[]; source?: string };

export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** `--config`; relative to `cwd`. */
  path?: string | undefined;
  cwd: string;
  env: Environment;
  /** Finds local model servers for the embedded default (default: probe 127.0.0.1). */
  discover?: () => Promise<DiscoveredServer[]>;
  /** `autocap config check`: build the embedded default without creating `.autocap/master-key`. */
  readOnly?: boolean;
}

export const CONFIG_FILE_NAMES: readonly string[] = ['autocap.yaml', 'autocap.yml'];

/** Environment variables whose values are treated as secrets wherever they are substituted. */
const SECRET_VARIABLE = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL/i;
/**
 * Shorter secrets are not searched for in messages: they would blank out ordinary words ("short").
 * Key fields never echo their values anyway; this catches a key reused in another field.
 */
const MIN_REDACTED_LENGTH = 8;
const MAX_YAML_ERRORS = 5;

/** Replaces each secret (longest first, so one that contains another goes whole) in `text`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let output = text;
  const ordered = [...secrets]
    .filter((secret) => secret.length >= MIN_REDACTED_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const secret of ordered) output = output.split(secret).join('[redacted]');
  return output;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Values of secret fields anywhere in the raw document (before validation, whatever their type). */
function collectSecretValues(value: unknown, found: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) collectSecretValues(item, found);
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (SECRET_FIELDS.includes(key) && (typeof item === 'string' || typeof item === 'number'))
        found.push(String(item));
      else collectSecretValues(item, found);
    }
  }
}

function parseYaml(
  text: string,
  source: string,
): { ok: true; document: unknown } | { ok: false; errors: string[] } {
  try {
    const parsed = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
    if (parsed.errors.length > 0) {
      const errors = parsed.errors.slice(0, MAX_YAML_ERRORS).map((error) => {
        const where = error.linePos?.[0];
        const at = where ? ` at line ${where.line}, column ${where.col}` : '';
        // Only the first line: the rest quotes the source, which may hold a key.
        const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return `${source}: malformed YAML${at}: ${reason}`;
      });
      return { ok: false, errors };
    }
    return { ok: true, document: parsed.toJS({ maxAliasCount: 100 }) ?? {} };
  } catch (error) {
    // toJS refuses alias bombs (ReferenceError); anything else here is equally the file's fault.
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : 'unreadable';
    return { ok: false, errors: [`${source}: malformed YAML: ${reason}`] };
  }
}

/** Deeper than any real config; a bound keeps every later walk of the document from overflowing. */
const MAX_DEPTH = 32;

/** A YAML alias inside its own anchor (`&a [*a]`) makes a cycle; a real config is a tree. */
function shapeProblem(value: unknown, ancestors: Set<unknown> = new Set()): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (ancestors.has(value))
    return 'refers to itself through a YAML alias (*name inside &name): remove the alias';
  if (ancestors.size >= MAX_DEPTH) return `is nested more than ${MAX_DEPTH} levels deep`;
  ancestors.add(value);
  for (const item of Object.values(value)) {
    const problem = shapeProblem(item, ancestors);
    if (problem) return problem;
  }
  ancestors.delete(value);
  return undefined;
}

export interface ParseOptions {
  readonly source: string;
  /** Relative paths (store.sqlite) resolve against this folder. */
  readonly baseDirectory: string;
  readonly env: Environment;
  readonly requireModels?: boolean;
  readonly priceTable?: PriceTable;
}

/** Substitution, validation and cross-field rules over an already parsed document. Never throws. */
export function resolveDocument(document: unknown, options: ParseOptions): ConfigResult {
  const problem = shapeProblem(document);
  if (problem)
    return { ok: false, errors: [`${options.source}: the config ${problem}`], source: options.source };
  const substituted = substituteEnv(document, options.env);
  const secrets: string[] = [];
  collectSecretValues(substituted.document, secrets);
  for (const [name, value] of Object.entries(options.env)) {
    if (value && SECRET_VARIABLE.test(name) && JSON.stringify(document ?? null).includes(`\${${name}}`))
      secrets.push(value);
  }
  const fail = (errors: string[]): ConfigResult => ({
    ok: false,
    errors: errors.map((error) => redactSecrets(error, secrets)),
    source: options.source,
  });
  if (substituted.errors.length > 0) return fail(substituted.errors);
  const resolved = resolveConfig(substituted.document, {
    source: options.source,
    baseDirectory: options.baseDirectory,
    requireModels: options.requireModels ?? true,
    priceTable: options.priceTable ?? loadPriceTable(),
  });
  if (!resolved.ok) return fail(resolved.errors);
  // Secret-looking variables used anywhere (a token in a URL, say) are redacted from logs too.
  const allSecrets = [...new Set([...resolved.config.secrets, ...secrets])];
  return {
    ok: true,
    config: { ...resolved.config, secrets: allSecrets },
    notices: resolved.notices.map((notice) => redactSecrets(notice, secrets)),
  };
}

/** Parses config text (YAML or JSON) and resolves it. Never throws: every failure is a value. */
export function parseConfigText(text: string, options: ParseOptions): ConfigResult {
  const parsed = parseYaml(text, options.source);
  if (!parsed.ok) return { ok: false, errors: parsed.errors, source: options.source };
  return resolveDocument(parsed.document, options);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** `./autocap.yaml`, else `./autocap.yml`, if either exists. */
export async function findConfigFile(cwd: string): Promise<string | undefined> {
  for (const name of CONFIG_FILE_NAMES) {
    const path = resolve(cwd, name);
    if (await isFile(path)) return path;
  }
  return undefined;
}

function readFailure(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  return typeof code === 'string' ? code : 'unreadable';
}

export async function loadConfig(options: LoadConfigOptions): Promise<ConfigResult> {
  const path =
    options.path === undefined ? await findConfigFile(options.cwd) : resolve(options.cwd, options.path);
  if (path !== undefined) {
    const shown = options.path ?? path;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      return {
        ok: false,
        errors: [`${shown}: cannot read the config file (${readFailure(error)})`],
        source: shown,
      };
    }
    return parseConfigText(text, { source: path, baseDirectory: dirname(path), env: options.env });
  }

  const built = await buildEmbeddedDefault({
    cwd: options.cwd,
    env: options.env,
    discover: options.discover ?? (() => discoverLocalServers()),
    readOnly: options.readOnly ?? false,
  });
  if (built.errors.length > 0) return { ok: false, errors: built.errors, source: EMBEDDED_DEFAULT_SOURCE };
  const result = resolveDocument(built.document, {
    source: EMBEDDED_DEFAULT_SOURCE,
    baseDirectory: options.cwd,
    env: built.env,
    requireModels: false,
  });
  // The builder's notices (what was found, the new key) come before those about individual models.
  return result.ok ? { ...result, notices: [...built.notices, ...result.notices] } : result;
}
