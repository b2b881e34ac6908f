// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${ENV}` references are the literal text under test.
/** Shared by the config tests: a valid document, an environment, and parse helpers. */
import type { GatewayConfig } from './config.js';
import { type ConfigResult, parseConfigText } from './load-config.js';

export const MASTER = 'master-key-0123456789abcdef';
export const OPENAI = 'sk-openai-test-0123456789';
export const ENV = { AUTOCAP_MASTER_KEY: MASTER, OPENAI_API_KEY: OPENAI };

export const VALID = `
server: {port: 4100}
auth:
  master_key: \${AUTOCAP_MASTER_KEY}
models:
  - name: llama-70b
    provider: openai-compatible
    base_url: http://127.0.0.1:8000/v1/
    upstream_model: meta-llama/Llama-3.1-70B-Instruct
    owned: true
    price: {input_per_mtok_usd: 0.2, output_per_mtok_usd: 0.6}
    fallbacks: [gpt-4o-mini]
    timeout_ms: 20000
  - name: gpt-4o-mini
    provider: openai
    api_key: \${OPENAI_API_KEY}
`;

export function parse(text: string, env: Record<string, string | undefined> = ENV): ConfigResult {
  return parseConfigText(text, { source: 'autocap.yaml', baseDirectory: '/srv/gateway', env });
}

export function config(text: string, env?: Record<string, string | undefined>): GatewayConfig {
  const result = parse(text, env);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

export function errors(text: string, env?: Record<string, string | undefined>): string[] {
  const result = parse(text, env);
  if (result.ok) throw new Error('expected the config to be refused');
  return result.errors;
}

/** A document with one model entry (YAML flow map body) after a valid rented model. */
export const withModel = (entry: string, extra = ''): string =>
  `auth: {master_key: "\${AUTOCAP_MASTER_KEY}"}\n${extra}models:\n  - {name: gpt-4o-mini, provider: openai, api_key: "\${OPENAI_API_KEY}"}\n  - ${entry}\n`;
