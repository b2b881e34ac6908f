/**
 * Reads a JSON request body within a size limit. Invalid UTF-8, malformed JSON, nesting deeper
 * than 128 levels and wrong content types are 4xx errors naming the problem; an oversized body is
 * refused as soon as it passes the limit, without buffering the rest.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { GatewayError } from './gateway-error.js';

export async function readJsonBody(incoming: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = incoming.headers['content-type'];
  if (type !== undefined && !/^application\/(?:[\w.+-]*\+)?json\b/i.test(type)) {
    throw new GatewayError(
      'unsupported_media_type',
      `Content-Type is "${type.slice(0, 64)}": send application/json.`,
    );
  }
  const declared = Number(incoming.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const { chunks, size } = await collect(incoming, maxBytes);
  if (size === 0) throw new GatewayError('invalid_json', 'The request body is empty: send a JSON object.');
  const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
  if (!isUtf8(bytes)) throw new GatewayError('invalid_json', 'The request body is not valid UTF-8.');
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark, as TextDecoder drops
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof RangeError ? 'it is nested too deeply' : (error as Error).message;
    throw new GatewayError('invalid_json', `The request body is not valid JSON: ${detail.slice(0, 200)}.`);
  }
  if (nestedDeeperThan(value, MAX_DEPTH)) {
    throw new GatewayError(
      'invalid_json',
      `The request body is nested more than ${MAX_DEPTH} levels deep: flatten it (tool schemas included).`,
    );
  }
  return value;
}

/**
 * The whole body, or a GatewayError: over `maxBytes` (the rest is discarded, not buffered), or the
 * connection closed first. Plain events rather than `for await`: this runs for every request, and
 * the async iterator costs more than the body is usually long.
 */
function collect(incoming: IncomingMessage, maxBytes: number): Promise<{ chunks: Buffer[]; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        incoming.resume(); // discard the rest rather than hold it
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ chunks, size });
    };
    // The client hung up, or the server's request timeout cut off a body sent too slowly. Not a
    // gateway failure: no error log with a stack for each one (a slow-body flood would fill logs).
    const onAbort = (): void => {
      cleanup();
      reject(
        new GatewayError('invalid_request', 'The connection closed before the request body was complete.'),
      );
    };
    const cleanup = (): void => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onAbort);
      incoming.off('close', onClose);
    };
    const onClose = (): void => {
      if (!incoming.complete) onAbort();
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onAbort);
    incoming.on('close', onClose);
  });
}

/**
 * Deepest nesting accepted. JSON.parse takes any depth, but JSON.stringify (used to forward the
 * body upstream) overflows the stack a few thousand levels down, so a deep value in a field the
 * schema passes through unchecked (`tools[].function.parameters`, unknown keys) would otherwise
 * fail after validation, as a 5xx. Real requests (tool schemas included) stay far below this.
 */
const MAX_DEPTH = 128;

/**
 * Whether `value` has containers nested more than `limit` deep. The recursion stops at `limit`,
 * so it cannot overflow; it visits containers only, a few microseconds for a typical 100 KB body.
 */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  const items = Array.isArray(value) ? value : Object.values(value);
  for (let index = 0; index < items.length; index++) {
    const item: unknown = items[index];
    if (typeof item === 'object' && item !== null && nestedDeeperThan(item, limit - 1)) return true;
  }
  return false;
}

const tooLarge = (maxBytes: number): GatewayError =>
  new GatewayError(
    'body_too_large',
    `The request body is larger than ${maxBytes} bytes (server.max_body_bytes).`,
  );
