/**
 * The route table and the one error boundary. Paths are normalized before matching (repeated
 * slashes, trailing slash, percent-encoded dots, dot segments, case), so every spelling of a path
 * gets the same decision as the canonical one. Each route declares who may call it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/keys.js';
import { safeDecode } from '../config/base-url.js';
import { parseChatRequest } from '../providers/chat-fast-path.js';
import { adminRoute } from './admin-routes.js';
import { chatCompletions } from './chat-completions.js';
import { GatewayError, toGatewayError } from './gateway-error.js';
import type { GatewayRuntime } from './gateway-runtime.js';
import { readJsonBody } from './read-body.js';
import { requestId as newRequestId } from './request-id.js';

type Access = 'public' | 'client' | 'master';

interface RouteContext {
  readonly runtime: GatewayRuntime;
  readonly incoming: IncomingMessage;
  readonly response: ServerResponse;
  readonly requestId: string;
  readonly principal: Principal | null;
  readonly receivedAtMs: number;
  readonly url: URL;
}

interface Route {
  readonly method: 'GET' | 'POST' | 'PATCH';
  readonly access: Access;
  handle(context: RouteContext): Promise<void>;
}

const chatRoute: Route = {
  method: 'POST',
  access: 'client',
  async handle(context) {
    const body = await readJsonBody(context.incoming, context.runtime.config.server.maxBodyBytes);
    const parsed = parseChatRequest(body);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const param = first?.path.map(String).join('.') ?? '';
      throw new GatewayError(
        'invalid_request',
        // zod's own messages for refused fields already name them.
        `Invalid request: ${param === '' || first?.message.includes(`\`${param}\``) ? '' : `\`${param}\` `}${first?.message ?? 'is invalid'}.`,
        { param: param === '' ? undefined : param },
      );
    }
    await chatCompletions(context.runtime, {
      request: parsed.data,
      principal: context.principal as Principal,
      requestId: context.requestId,
      receivedAtMs: context.receivedAtMs,
      incoming: context.incoming,
      response: context.response,
      meter: undefined,
    });
  },
};

const modelsRoute: Route = {
  method: 'GET',
  access: 'client',
  async handle({ runtime, response, principal }) {
    const data = [...runtime.upstreams.values()]
      .filter(
        (upstream) => !principal?.allowedModels || principal.allowedModels.includes(upstream.config.name),
      )
      .map((upstream) => ({
        id: upstream.config.name,
        object: 'model',
        created: 0,
        owned_by: upstream.config.owned ? 'autocap-owned' : upstream.config.provider,
      }));
    sendJson(response, 200, { object: 'list', data });
  },
};

/** Route table, canonical paths only; aliases map onto the same route objects. */
export const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['/v1/chat/completions', chatRoute],
  ['/chat/completions', chatRoute],
  ['/v1/models', modelsRoute],
  ['/models', modelsRoute],
  [
    '/healthz',
    {
      method: 'GET',
      access: 'public',
      handle: async ({ response }) => sendJson(response, 200, { status: 'ok' }),
    },
  ],
  [
    '/readyz',
    {
      method: 'GET',
      access: 'public',
      handle: async ({ runtime, response }) =>
        runtime.ready()
          ? sendJson(response, 200, { status: 'ready' })
          : sendJson(response, 503, { status: 'draining' }),
    },
  ],
  [
    '/metrics',
    {
      method: 'GET',
      access: 'master',
      handle: async ({ runtime, response }) => {
        const body = runtime.metrics.render();
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        response.end(body);
      },
    },
  ],
  [
    '/admin/ledger',
    {
      method: 'GET',
      access: 'master',
      handle: async ({ runtime, response, url }) => {
        const limitText = url.searchParams.get('limit') ?? '100';
        const limit = Number(limitText);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          throw new GatewayError(
            'invalid_request',
            `limit is "${limitText}": expected a whole number from 1 to 1000.`,
            {
              param: 'limit',
            },
          );
        }
        await runtime.ledger.caughtUp();
        const page = await runtime.store.pageLedger({ after: url.searchParams.get('after'), limit });
        sendJson(response, 200, { object: 'list', data: page.entries, next_cursor: page.nextCursor });
      },
    },
  ],
]);

const ORIGIN = 'http://gateway.invalid';

/** Each route's canonical path as a URL without a query, parsed once (handlers only read it). */
const CANONICAL_URLS: ReadonlyMap<string, URL> = new Map(
  [...ROUTES.keys()].map((path) => [path, new URL(ORIGIN + path)]),
);

/**
 * The request target as a URL on a fixed origin: the Host header is never read. An origin-form
 * target (`/path`) is appended to the origin, not resolved against it, because resolving
 * `//admin/ledger` would read `admin` as a host name and route `/ledger`. An absolute-form target
 * (`http://host/path`, as sent to proxies) keeps only its path and query.
 */
function requestUrl(target: string): URL {
  try {
    return target.startsWith('/') ? new URL(ORIGIN + target) : new URL(target, ORIGIN);
  } catch {
    throw new GatewayError('invalid_request', 'The request target is not a valid URL path.');
  }
}

/** The path a request means, whatever its spelling: `//V1/./models/` is `/v1/models`. */
export function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of safeDecode(rawPath).toLowerCase().split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

export async function handleRequest(
  runtime: GatewayRuntime,
  incoming: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const receivedAtMs = runtime.now();
  const requestId = newRequestId(receivedAtMs);
  response.setHeader('x-autocap-request-id', requestId);
  let routeLabel = 'unknown';
  try {
    const target = incoming.url ?? '/';
    // A target spelled exactly as a route (the common case) needs no parsing or normalizing.
    const direct = CANONICAL_URLS.get(target);
    const url = direct ?? requestUrl(target);
    const path = direct ? target : canonicalPath(url.pathname);
    const route = ROUTES.get(path) ?? adminRoute(path, incoming.method);
    if (!route) throw new GatewayError('not_found', `No route ${incoming.method} ${url.pathname}.`);
    routeLabel = path;
    if (incoming.method !== route.method) {
      response.setHeader('allow', route.method);
      throw new GatewayError('method_not_allowed', `${path} takes ${route.method}, not ${incoming.method}.`);
    }
    let principal: Principal | null = null;
    if (route.access !== 'public') {
      const found = runtime.auth.authenticate(incoming.headers.authorization);
      principal = found instanceof Promise ? await found : found;
      if (route.access === 'master' && !principal.isMaster) {
        throw new GatewayError('model_not_allowed', `${path} needs the master key.`, { status: 403 });
      }
    }
    if (!runtime.ready() && route.access !== 'public') {
      throw new GatewayError('shutting_down', 'The gateway is shutting down; retry on another instance.', {
        retryAfterSeconds: 1,
      });
    }
    await route.handle({ runtime, incoming, response, requestId, principal, receivedAtMs, url });
  } catch (error) {
    const failure = toGatewayError(error);
    if (failure.code === 'internal_error') {
      runtime.logger.error('request failed', { requestId, error: String((error as Error)?.stack ?? error) });
    }
    if (!response.headersSent) {
      if (failure.retryAfterSeconds !== undefined)
        response.setHeader('retry-after', String(failure.retryAfterSeconds));
      sendJson(response, failure.status, failure.toBody());
    } else if (!response.writableEnded) {
      response.end();
    }
  } finally {
    const series = runtime.metrics.route(routeLabel, response.statusCode);
    series.requests.inc();
    series.latency.observe((runtime.now() - receivedAtMs) / 1000);
  }
}

export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
