/**
 * Reads a JSON request body within a size limit. Invalid UTF-8, malformed JSON and wrong content
 * types are 4xx errors naming the problem; an oversized body is refused as soon as it passes the
 * limit, without buffering the rest.
 */
import type { IncomingMessage } from 'node:http';
import { GatewayError } from './gateway-error.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

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
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      incoming.resume(); // discard the rest rather than hold it
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk as Buffer);
  }
  if (size === 0) throw new GatewayError('invalid_json', 'The request body is empty: send a JSON object.');
  let text: string;
  try {
    text = utf8.decode(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
  } catch {
    throw new GatewayError('invalid_json', 'The request body is not valid UTF-8.');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof RangeError ? 'it is nested too deeply' : (error as Error).message;
    throw new GatewayError('invalid_json', `The request body is not valid JSON: ${detail.slice(0, 200)}.`);
  }
}

const tooLarge = (maxBytes: number): GatewayError =>
  new GatewayError(
    'body_too_large',
    `The request body is larger than ${maxBytes} bytes (server.max_body_bytes).`,
  );
