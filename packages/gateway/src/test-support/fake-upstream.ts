/**
 * A scriptable upstream for tests: a real HTTP server on 127.0.0.1 (random port) that speaks both
 * OpenAI Chat Completions (`POST /v1/chat/completions`, JSON or SSE ending in `data: [DONE]`, usage
 * chunk only when `stream_options.include_usage`) and the Anthropic Messages API (`POST
 * /v1/messages`, JSON or its SSE event sequence). Requests with `tools` get a realistic tool call
 * (arguments filled from the tool's JSON schema) unless their last message is a tool result.
 *
 * ```ts
 * const fake = await startFakeUpstream();
 * fake.script([{ kind: 'status', status: 429, retryAfter: '2' }, { kind: 'ok', content: 'hi' }]);
 * const provider = createOpenAICompatibleProvider({ baseUrl: fake.baseUrl, upstreamModel: 'm' });
 * // ... fake.requests[0].body, fake.connections
 * await fake.close();
 * ```
 *
 * Behaviours are consumed one per request, in order; when the script is empty the default (`ok`,
 * or `setDefault`) answers.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  anthropicFormat,
  type FakePlan,
  type FakeRequestInfo,
  type FakeUsage,
  openAIFormat,
  type WireFormat,
} from './fake-upstream-formats.js';
import { plan } from './fake-upstream-plan.js';

export { DEFAULT_CONTENT } from './fake-upstream-plan.js';

export type { FakeUsage };

export type FakeBehaviour =
  /** A normal answer. `content` replaces the default text (and suppresses the tool call). */
  | {
      readonly kind: 'ok';
      readonly content?: string;
      readonly usage?: FakeUsage;
      /** Wait before sending the response headers. */
      readonly delayMs?: number;
    }
  /** An error status with the format's error body (`Retry-After` when `retryAfter` is set). */
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly message?: string;
      readonly retryAfter?: string;
    }
  /** Accepts the request and never answers. */
  | { readonly kind: 'hang' }
  /** Destroys the socket after `afterChunks` SSE events (default 0) or half of the JSON body. */
  | { readonly kind: 'reset'; readonly afterChunks?: number }
  /** Ends the response after `afterChunks` events (default 2), without `[DONE]`/`message_stop`; JSON: half a body. */
  | { readonly kind: 'truncated'; readonly afterChunks?: number }
  /** A body or SSE event that is not JSON (`json`, default) or JSON of the wrong shape (`schema`). */
  | { readonly kind: 'malformed'; readonly variant?: 'json' | 'schema' }
  /** An error event after `afterChunks` events (default 1): `data: {"error": …}` / `event: error`. */
  | { readonly kind: 'stream-error'; readonly message?: string; readonly afterChunks?: number }
  /** A stream without usage (OpenAI: no usage chunk; Anthropic: no `usage` fields). */
  | { readonly kind: 'no-usage'; readonly content?: string }
  /** Always the same response id, as vLLM and Ollama may do. */
  | { readonly kind: 'repeat-id'; readonly content?: string }
  /** One SSE event every `intervalMs` (JSON: answers after `intervalMs`). */
  | { readonly kind: 'slow-stream'; readonly intervalMs: number; readonly content?: string }
  /** Answers with the received request headers (JSON) as its content, or as the error message with `status`. */
  | { readonly kind: 'echo-headers'; readonly status?: number };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON, or `undefined` when the body was not JSON. */
  readonly body: unknown;
  readonly rawBody: string;
}

export interface FakeUpstream {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `http://127.0.0.1:<port>/v1`: the base URL for both OpenAI-compatible and Anthropic providers. */
  readonly baseUrl: string;
  /** Every request received, in order (recorded once its body has arrived). */
  readonly requests: readonly RecordedRequest[];
  /** TCP connections accepted since start. */
  readonly connections: number;
  /** TCP connections open now. */
  readonly openConnections: number;
  /** Queues behaviours, consumed one per request. */
  script(behaviours: readonly FakeBehaviour[]): void;
  /** The behaviour used when the script is empty (initially `{ kind: 'ok' }`). */
  setDefault(behaviour: FakeBehaviour): void;
  /** Clears the script, the recorded requests, the default and the id sequence. */
  reset(): void;
  /** Destroys every socket (hanging requests included) and stops listening. */
  close(): Promise<void>;
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const queue: FakeBehaviour[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let fallback: FakeBehaviour = { kind: 'ok' };
  let connections = 0;
  let responses = 0;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const path = request.url ?? '/';
      requests.push({ method: request.method ?? 'GET', path, headers: request.headers, body, rawBody });
      const format = request.method !== 'POST' ? undefined : FORMATS[path];
      if (format === undefined) {
        json(response, 404, {
          error: { message: `no route for ${request.method} ${path}`, type: 'not_found' },
        });
        return;
      }
      const behaviour = queue.shift() ?? fallback;
      responses++;
      const context = {
        format,
        body,
        rawBody,
        headers: request.headers,
        response,
        wait,
        sequence: responses,
      };
      answer(behaviour, context).catch((error: unknown) => {
        response.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake upstream has no TCP address');
  const url = `http://127.0.0.1:${address.port}`;

  return {
    url,
    baseUrl: `${url}/v1`,
    requests,
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    script(behaviours) {
      queue.push(...behaviours);
    },
    setDefault(behaviour) {
      fallback = behaviour;
    },
    reset() {
      queue.length = 0;
      requests.length = 0;
      fallback = { kind: 'ok' };
      responses = 0;
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const FORMATS: Readonly<Record<string, WireFormat>> = {
  '/v1/chat/completions': openAIFormat,
  '/v1/messages': anthropicFormat,
};

interface AnswerContext {
  readonly format: WireFormat;
  readonly body: unknown;
  readonly rawBody: string;
  readonly headers: IncomingHttpHeaders;
  readonly response: ServerResponse;
  readonly wait: (ms: number) => Promise<void>;
  /** 1 for the first response: makes ids unique. */
  readonly sequence: number;
}

async function answer(behaviour: FakeBehaviour, context: AnswerContext): Promise<void> {
  const { format, response } = context;
  const info = format.read(context.body);
  if (typeof info === 'string') {
    json(response, 400, format.errorBody(400, info));
    return;
  }
  switch (behaviour.kind) {
    case 'hang':
      return;
    case 'status': {
      const headers = behaviour.retryAfter === undefined ? {} : { 'retry-after': behaviour.retryAfter };
      const message = behaviour.message ?? `fake upstream error ${behaviour.status}`;
      json(response, behaviour.status, format.errorBody(behaviour.status, message), headers);
      return;
    }
    case 'echo-headers': {
      const echoed = JSON.stringify(context.headers);
      if (behaviour.status !== undefined) {
        json(response, behaviour.status, format.errorBody(behaviour.status, echoed));
        return;
      }
      return respond(context, info, plan(context, info, echoed, true), { kind: 'ok' });
    }
    case 'malformed': {
      const variant = behaviour.variant ?? 'json';
      if (!info.stream) {
        raw(response, 200, 'application/json', format.malformedBody(variant));
        return;
      }
      const events = format.events(plan(context, info, undefined, true), info);
      return stream(context, [...events.slice(0, 1), format.malformedEvent(variant), ...events.slice(1)], {});
    }
    default: {
      const content = 'content' in behaviour ? behaviour.content : undefined;
      const usage = behaviour.kind === 'ok' ? behaviour.usage : undefined;
      const thePlan = plan(context, info, content, behaviour.kind !== 'no-usage', usage);
      const id = behaviour.kind === 'repeat-id' ? REPEATED_ID : thePlan.id;
      return respond(context, info, { ...thePlan, id }, behaviour);
    }
  }
}

const REPEATED_ID = 'chatcmpl-repeated';

/** Sends `plan` as JSON or SSE, applying the behaviour's delay / cut / pacing. */
async function respond(
  context: AnswerContext,
  info: FakeRequestInfo,
  thePlan: FakePlan,
  behaviour: FakeBehaviour,
): Promise<void> {
  const { format, response } = context;
  if (behaviour.kind === 'ok' && behaviour.delayMs !== undefined) await context.wait(behaviour.delayMs);
  if (behaviour.kind === 'slow-stream' && !info.stream) await context.wait(behaviour.intervalMs);
  if (response.destroyed) return;
  if (!info.stream) {
    const body = JSON.stringify(format.completion(thePlan));
    if (behaviour.kind === 'reset' || behaviour.kind === 'truncated') {
      const half = body.slice(0, Math.floor(body.length / 2));
      if (behaviour.kind === 'reset') {
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        response.write(half, () => response.socket?.destroy());
      } else {
        raw(response, 200, 'application/json', half);
      }
      return;
    }
    raw(response, 200, 'application/json', body);
    return;
  }
  let events = format.events(thePlan, info);
  const options: StreamOptions = {};
  if (behaviour.kind === 'reset') {
    events = events.slice(0, behaviour.afterChunks ?? 0);
    options.destroyAtEnd = true;
  } else if (behaviour.kind === 'truncated') {
    events = events.slice(0, behaviour.afterChunks ?? 2);
  } else if (behaviour.kind === 'stream-error') {
    const at = behaviour.afterChunks ?? 1;
    events = [
      ...events.slice(0, at),
      format.streamError(behaviour.message ?? 'fake upstream failed mid-stream'),
    ];
  } else if (behaviour.kind === 'slow-stream') {
    options.intervalMs = behaviour.intervalMs;
  }
  return stream(context, events, options);
}

interface StreamOptions {
  intervalMs?: number;
  destroyAtEnd?: boolean;
}

async function stream(
  context: AnswerContext,
  events: readonly string[],
  options: StreamOptions,
): Promise<void> {
  const { response } = context;
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.flushHeaders();
  for (const event of events) {
    if (options.intervalMs !== undefined) await context.wait(options.intervalMs);
    if (response.destroyed) return;
    response.write(event);
  }
  if (options.destroyAtEnd) {
    // Let the written events reach the client before the connection drops.
    await context.wait(20);
    response.socket?.destroy();
    return;
  }
  response.end();
}

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  raw(response, status, 'application/json', JSON.stringify(body), headers);
}

function raw(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}
