/**
 * Every route carries authentication and validation. The route table is enumerated (aliases
 * included), so a route added later is checked without editing this file: no key is a 401, a
 * virtual key on a master-only route is a 403, a wrong method is a 405 naming the allowed one.
 * Then every spelling of every path (`//path`, upper case, trailing slash, `%2e`, `..`, `%2F`) and
 * every Host header (foreign, bogus port, absent) must get exactly the canonical path's decision.
 */
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newVirtualKey } from '../auth/keys.js';
import { ROUTES } from '../http/handle-request.js';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { MASTER_KEY, startTestGateway, type TestGateway, testModel } from '../test-support/test-gateway.js';

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface Sent {
  readonly method: string;
  readonly path: string;
  readonly key?: string | undefined;
  /** `null`: send no Host header at all. Default: the gateway's own address. */
  readonly host?: string | null;
  readonly body?: string | undefined;
  /** HTTP/1.0 request line (a Host header is optional there). */
  readonly http10?: boolean;
}

let fake: FakeUpstream;
let gateway: TestGateway;
let virtualKey: string;
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
const CHAT_BODY = JSON.stringify({ model: 'main', messages: [{ role: 'user', content: 'hi' }] });

beforeAll(async () => {
  fake = await startFakeUpstream();
  gateway = await startTestGateway([testModel('main', fake.baseUrl)]);
  const minted = newVirtualKey();
  virtualKey = minted.key;
  await gateway.running.gateway.runtime.store.insertKey({
    id: minted.id,
    hash: minted.hash,
    name: 'routes-test',
    createdAtMs: 0,
    expiresAtMs: null,
    allowedModels: null,
    revoked: false,
  });
});
afterAll(async () => {
  agent.destroy();
  await gateway.close();
  await fake.close();
});

/** A request whose path goes out byte for byte (fetch would normalize `..` and `%2e` first). */
function send(sent: Sent): Promise<Reply> {
  if (sent.http10) return sendHttp10(sent);
  const { port } = new URL(gateway.url);
  const headers: Record<string, string> = {};
  if (sent.key !== undefined) headers['authorization'] = `Bearer ${sent.key}`;
  if (sent.host !== null) headers['host'] = sent.host ?? `127.0.0.1:${port}`;
  if (sent.body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const outgoing = request({
      host: '127.0.0.1',
      port,
      method: sent.method,
      path: sent.path,
      headers,
      setHost: false,
      agent,
    });
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(sent.body);
  });
}

/** node:http only speaks HTTP/1.1: an HTTP/1.0 request, where Host is optional, goes out raw. */
function sendHttp10(sent: Sent): Promise<Reply> {
  const { port } = new URL(gateway.url);
  const lines = [`${sent.method} ${sent.path} HTTP/1.0`];
  if (sent.key !== undefined) lines.push(`authorization: Bearer ${sent.key}`);
  if (sent.host !== null) lines.push(`host: ${sent.host ?? `127.0.0.1:${port}`}`);
  if (sent.body !== undefined)
    lines.push('content-type: application/json', `content-length: ${sent.body.length}`);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), '127.0.0.1', () => {
      // No half-close: HTTP/1.0 without keep-alive means the server closes once it has answered.
      socket.write(`${lines.join('\r\n')}\r\n\r\n${sent.body ?? ''}`);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

const bodyFor = (method: string): string | undefined => (method === 'POST' ? CHAT_BODY : undefined);

/** The JSON error code of a reply, asserting the body is an OpenAI-shaped error. */
function errorCode(reply: Reply): string {
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  const parsed = JSON.parse(reply.body) as { error?: { message?: unknown; code?: unknown } };
  expect(typeof parsed.error?.message).toBe('string');
  return String(parsed.error?.code);
}

/** Every spelling of `path` that must mean `path`. */
function pathVariants(path: string): string[] {
  const segments = path.split('/').slice(1);
  const last = segments.length - 1;
  return [
    `/${path}`, // //v1/models: must not be read as a scheme-relative URL with host `v1`
    `${path}/`,
    `${path}//`,
    path.toUpperCase(),
    path.replace(/[a-z]/, (letter) => `%${letter.toUpperCase().charCodeAt(0).toString(16).toUpperCase()}`),
    `/%2e${path}`,
    `/%2E%2E${path}`,
    `/x/..${path}`,
    `/x/%2e%2e${path}`,
    `/./${segments.join('/./')}`,
    `/${segments.join('//')}`,
    segments.length > 1 ? `/${segments.join('%2F')}` : `/%2F${segments[0]}`,
    `/${segments.slice(0, last).join('/')}${last > 0 ? '/' : ''}x/../${segments[last]}`,
    `${path}?x=1&limit=5`,
    `${path}#fragment`,
  ];
}

const HOSTS: readonly (string | null)[] = ['evil.example', 'localhost:1', '169.254.169.254', '[::1]', null];
const routes = [...ROUTES.entries()];

describe('the route table', () => {
  it('has the routes the docs promise, each declaring who may call it', () => {
    expect(routes.map(([path]) => path).sort()).toEqual(
      [
        '/admin/ledger',
        '/chat/completions',
        '/healthz',
        '/metrics',
        '/models',
        '/readyz',
        '/v1/chat/completions',
        '/v1/models',
      ].sort(),
    );
    // Only the probes a load balancer calls without a key are public.
    expect(routes.filter(([, route]) => route.access === 'public').map(([path]) => path)).toEqual([
      '/healthz',
      '/readyz',
    ]);
  });

  it.each(routes)('%s: no key is a 401 JSON error, except the public probes', async (path, route) => {
    for (const sent of [
      { method: route.method, path, body: bodyFor(route.method) },
      { method: route.method, path, key: 'ak-not-a-real-key', body: bodyFor(route.method) },
      { method: route.method, path, key: '', body: bodyFor(route.method) },
    ]) {
      const reply = await send(sent);
      if (route.access === 'public') {
        expect(reply.status).toBe(200);
      } else {
        expect(reply.status).toBe(401);
        expect(errorCode(reply)).toMatch(/^(missing|invalid)_api_key$/);
      }
    }
  });

  it.each(routes)(
    '%s: a virtual key is a 403 on master-only routes and accepted elsewhere',
    async (path, route) => {
      const reply = await send({ method: route.method, path, key: virtualKey, body: bodyFor(route.method) });
      if (route.access === 'master') {
        expect(reply.status).toBe(403);
        errorCode(reply); // an OpenAI-shaped JSON error
        expect(reply.body).toContain('master key');
      } else {
        expect(reply.status).toBe(200);
      }
      expect(
        (await send({ method: route.method, path, key: MASTER_KEY, body: bodyFor(route.method) })).status,
      ).toBe(200);
    },
  );

  it.each(routes)('%s: another method is a 405 JSON error with Allow', async (path, route) => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      if (method === route.method) continue;
      for (const key of [undefined, MASTER_KEY]) {
        const reply = await send({ method, path, key, body: bodyFor(method) });
        expect(reply.status, `${method} ${path}`).toBe(405);
        expect(reply.headers['allow']).toBe(route.method);
        expect(errorCode(reply)).toBe('method_not_allowed');
      }
    }
  });

  it('validates the body on every POST route before anything reaches an upstream', async () => {
    const before = fake.requests.length;
    for (const [path, route] of routes) {
      if (route.method !== 'POST') continue;
      for (const body of ['{', '[]', '{"model":"main","messages":"hi"}', '{"model":"main"}']) {
        const reply = await send({ method: 'POST', path, key: MASTER_KEY, body });
        expect(reply.status, `${path} ${body}`).toBe(400);
        expect(errorCode(reply)).toMatch(/^invalid_(json|request)$/);
      }
    }
    expect(fake.requests.length).toBe(before);
  });
});

describe('path and Host spellings', () => {
  /** The decision for the canonical path, by who is asking. */
  async function decisions(path: string, method: string, sent: Partial<Sent> = {}): Promise<number[]> {
    const statuses: number[] = [];
    for (const key of [undefined, virtualKey, MASTER_KEY]) {
      statuses.push((await send({ method, path, key, body: bodyFor(method), ...sent })).status);
    }
    return statuses;
  }

  it.each(routes)('%s: every path spelling gets the canonical decision', async (path, route) => {
    const canonical = await decisions(path, route.method);
    for (const variant of pathVariants(path)) {
      expect(await decisions(variant, route.method), `${route.method} ${variant}`).toEqual(canonical);
    }
  });

  it.each(routes)('%s: the Host header changes nothing', async (path, route) => {
    const canonical = await decisions(path, route.method);
    for (const host of HOSTS) {
      expect(await decisions(path, route.method, { host }), `Host: ${host}`).toEqual(canonical);
    }
    expect(await decisions(path, route.method, { host: null, http10: true }), 'HTTP/1.0').toEqual(canonical);
    // An absolute-form request line (as sent to a proxy) names a host; it is ignored too.
    const absolute = await decisions(`http://169.254.169.254${path}`, route.method, { host: 'evil.example' });
    expect(absolute, 'absolute-form').toEqual(canonical);
  });

  it('answers unknown and look-alike paths with a JSON 404 or 401, never a 2xx without the master key', async () => {
    const paths = [
      '/',
      '/admin',
      '/admin/',
      // `/admin/keys` is a route now (any key may list what it reaches: http/admin-routes.test.ts).
      '/admin/keys/x/y',
      '/admin/ledger/x',
      '/v1/admin/ledger',
      '/../admin/ledger',
      '/%2e%2e/admin/ledger',
      '/admin%2fledger',
      '/admin/ledger%00',
      '/admin/ledger%2500',
      '/v1',
      '/v1/chat',
      '/v2/models',
      '/%',
      '/%zz/admin/ledger',
      '*',
      `/${'a/'.repeat(2000)}`,
    ];
    for (const path of paths) {
      for (const method of ['GET', 'POST']) {
        for (const key of [undefined, virtualKey]) {
          const reply = await send({ method, path, key, body: bodyFor(method) });
          expect(reply.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
          expect(reply.status, `${method} ${path}`).toBeLessThan(500);
          // 404 for what does not exist, 401/403 for what does; the code says which.
          expect(errorCode(reply)).toMatch(
            /^(not_found|method_not_allowed|missing_api_key|invalid_api_key|model_not_allowed)$/,
          );
        }
      }
    }
  });

  it('refuses a request target that is not a URL with a 4xx JSON error, not a 500', async () => {
    for (const path of ['http://[', 'http://a:b', 'http://', '//', '///', 'https://[::1']) {
      const reply = await send({ method: 'GET', path, key: MASTER_KEY });
      expect(reply.status, path).toBeGreaterThanOrEqual(400);
      expect(reply.status, path).toBeLessThan(500);
    }
    expect((await send({ method: 'GET', path: '/healthz' })).status).toBe(200);
  });
});
