/**
 * What the gateway sends back to a client never carries a configured secret (a provider key, the
 * master key), whatever the upstream put in its answer.
 */
import type { ChatResult } from '../providers/provider.js';
import type { GatewayRuntime } from './gateway-runtime.js';

/**
 * An upstream that echoes its credentials (a misconfigured proxy, a prompt-injected tool) must not
 * hand them to the client: configured secrets are cut out of everything sent back. A few
 * `includes` per body or chunk; the replacement runs only on a hit.
 */
export function scrub(runtime: GatewayRuntime, text: string): string {
  let clean = text;
  for (const secret of runtime.config.secrets) {
    if (secret.length >= 8 && clean.includes(secret)) clean = clean.split(secret).join('[redacted]');
  }
  return clean;
}

/**
 * The client's body: the upstream's bytes as they came when the provider passed them on and no
 * secret is in them (checked on the bytes, which suffices for secrets that JSON never escapes),
 * else the completion serialized again, scrubbed.
 */
export function responseBody(runtime: GatewayRuntime, result: ChatResult): Buffer {
  const bytes = result.body;
  if (bytes !== undefined && runtime.config.secrets.every((secret) => passThroughSafe(secret, bytes))) {
    return bytes;
  }
  return Buffer.from(scrub(runtime, JSON.stringify(result.completion)));
}

/**
 * Whether `bytes` may be sent without the text scrub for this secret: too short to scrub anyway,
 * or absent from the bytes and made only of characters every JSON encoder writes literally (Go's
 * escapes < > &, PHP's escapes /), so that no escaped spelling of it could hide there.
 */
function passThroughSafe(secret: string, bytes: Buffer): boolean {
  if (secret.length < 8) return true;
  return /^[\w.~+=:-]+$/.test(secret) && !bytes.includes(secret);
}
