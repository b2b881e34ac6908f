/**
 * Every provider the gateway can route to. Adding one is a folder under `providers/` plus one line
 * here; the exhaustive record makes a new ProviderId fail to compile until it is wired.
 */
import { createAnthropicProvider } from './anthropic/anthropic-provider.js';
import { createOpenAICompatibleProvider } from './openai-compatible/openai-compatible-provider.js';
import type { ProviderId, ProviderSettings, ProviderV1 } from './provider.js';

const FACTORIES: Readonly<Record<ProviderId, (settings: ProviderSettings) => ProviderV1>> = {
  'openai-compatible': (settings) => createOpenAICompatibleProvider(settings, 'openai-compatible'),
  openai: (settings) => createOpenAICompatibleProvider(settings, 'openai'),
  anthropic: (settings) => createAnthropicProvider(settings),
};

export function createProvider(kind: ProviderId, settings: ProviderSettings): ProviderV1 {
  return FACTORIES[kind](settings);
}
