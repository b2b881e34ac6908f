/**
 * No request field or header can change where the gateway connects. A "trap" listener on
 * 127.0.0.1 counts every connection; requests aim at it (and at 169.254.169.254, [::1],
 * 10.0.0.0/8, decimal-encoded and `#`-injected addresses) through body fields, nested objects and
 * headers, and through an upstream that answers with a redirect. The trap must see nothing. The
 * configured upstream URLs themselves are validated when the config loads.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { MASTER_KEY, startTestGateway, type TestGateway, testModel } from '../test-support/test-gateway.js';

interface Trap {
  readonly port: number;
  readonly connections: number;
  close(): Promise<void>;
}

/** A TCP listener that only counts connections (and drops them). */
async function startTrap(host: string, port = 0): Promise<Trap | null> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: NetServer = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.destroy();
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false)); // no IPv6 on this machine: skip that trap
    server.listen(port, host, () => resolve(true));
  });
  if (!listening) return null;
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('trap has no TCP address');
  return {
    port: address.port,
    get connections() {
      return connections;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An upstream that answers every request with a redirect to the trap. */
async function startRedirector(
  status: number,
  location: () => string,
): Promise<{ url: string; server: Server }> {
  const server = createHttpServer((incoming, response) => {
    incoming.resume();
    incoming.on('end', () => {
      response.writeHead(status, { location: location(), 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'moved' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('redirector has no TCP address');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

let trap: Trap;
let trap6: Trap | null;
let fake: FakeUpstream;
let gateway: TestGateway;
const redirectors: Server[] = [];
const REDIRECTS = [301, 302, 303, 307, 308] as const;

const trapConnections = () => trap.connections + (trap6?.connections ?? 0);

beforeAll(async () => {
  const started = await startTrap('127.0.0.1');
  if (started === null) throw new Error('cannot listen on 127.0.0.1');
  trap = started;
  trap6 = await startTrap('::1', trap.port);
  fake = await startFakeUpstream();
  const models = [testModel('main', fake.baseUrl, { retries: 0, maxAttempts: 1 })];
  for (const status of REDIRECTS) {
    const redirector = await startRedirector(
      status,
      () => `http://127.0.0.1:${trap.port}/v1/chat/completions`,
    );
    redirectors.push(redirector.server);
    models.push(testModel(`redirect-${status}`, `${redirector.url}/v1`, { retries: 2, maxAttempts: 3 }));
  }
  gateway = await startTestGateway(models);
});
afterAll(async () => {
  await gateway.close();
  await fake.close();
  for (const server of redirectors) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await trap.close();
  await trap6?.close();
});
beforeEach(() => fake.reset());

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** POST /v1/chat/completions with raw headers (fetch refuses to set Host). */
function post(
  body: unknown,
  headers: Record<string, string> = {},
  path = '/v1/chat/completions',
): Promise<Reply> {
  const { port } = new URL(gateway.url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path,
      setHost: !('host' in headers),
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json', ...headers },
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
    });
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

const ask = (model = 'main') => ({ model, messages: [{ role: 'user', content: 'hi' }] });

/** Every way of writing "connect over there" that the tests aim at. */
function targets(): string[] {
  const port = trap.port;
  return [
    `http://127.0.0.1:${port}`,
    `http://127.0.0.1:${port}/v1`,
    'http://169.254.169.254/',
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    `http://[::1]:${port}/v1`,
    'http://10.0.0.1/v1',
    `http://2130706433:${port}/v1`, // 127.0.0.1 as one decimal number
    `http://0x7f000001:${port}/v1`,
    `http://0177.0.0.1:${port}/v1`,
    `http://127.1:${port}/v1`,
    `http://127.0.0.1:${port}#@evil.example/v1`,
    `http://evil.example#@127.0.0.1:${port}/v1`,
    `http://user:pass@127.0.0.1:${port}/v1`,
    `127.0.0.1:${port}`,
    `//127.0.0.1:${port}/v1`,
    `file:///etc/passwd`,
    `gopher://127.0.0.1:${port}/_`,
  ];
}

const FIELDS = ['api_base', 'base_url', 'baseURL', 'custom_host', 'api_key'] as const;

describe('request bodies cannot choose the upstream', () => {
  it('refuses api_base, base_url, baseURL, custom_host and api_key with a 400 naming the field', async () => {
    let sent = 0;
    for (const field of FIELDS) {
      for (const target of targets()) {
        for (const stream of [false, true]) {
          const reply = await post({ ...ask(), stream, [field]: target });
          sent++;
          expect(reply.status, `${field}: ${target}`).toBe(400);
          const body = JSON.parse(reply.body) as { error: { message: string; param: string | null } };
          expect(body.error.message).toContain(field);
          expect(body.error.param).toBe(field);
        }
      }
      // Any JSON type: the field itself is refused, not just URL-looking strings.
      for (const value of [null, 0, true, [], {}, { url: `http://127.0.0.1:${trap.port}` }]) {
        expect((await post({ ...ask(), [field]: value })).status, `${field}: ${JSON.stringify(value)}`).toBe(
          400,
        );
      }
    }
    expect(sent).toBe(FIELDS.length * targets().length * 2);
    expect(fake.requests).toHaveLength(0);
    expect(trapConnections()).toBe(0);
  });

  it('sends requests that hide those fields in nested objects to the configured upstream only', async () => {
    const target = `http://127.0.0.1:${trap.port}/v1`;
    const nested: Record<string, unknown>[] = [
      { extra_body: { api_base: target, base_url: target, custom_host: target } },
      { extra_headers: { 'x-portkey-custom-host': target, host: `127.0.0.1:${trap.port}` } },
      { litellm_params: { api_base: target, api_key: 'sk-other' } },
      { provider: { base_url: target } },
      { metadata: { api_base: target } },
      { API_BASE: target, Base_Url: target, apiBase: target, 'api-base': target, customHost: target },
      { messages: [{ role: 'user', content: 'hi', api_base: target, base_url: target }] },
    ];
    for (const extra of nested) {
      const reply = await post({ ...ask(), ...extra });
      // 200 from the configured upstream, or a 400 from validation; never another destination.
      expect([200, 400], JSON.stringify(extra)).toContain(reply.status);
    }
    expect(fake.requests.length).toBeGreaterThan(0);
    for (const recorded of fake.requests) expect(recorded.path).toBe('/v1/chat/completions');
    expect(trapConnections()).toBe(0);
  });

  it('treats a URL in `model` as an unknown model name', async () => {
    for (const target of targets()) {
      const reply = await post(ask(target));
      expect(reply.status, target).toBe(404);
    }
    expect(fake.requests).toHaveLength(0);
    expect(trapConnections()).toBe(0);
  });
});

describe('request headers cannot choose the upstream', () => {
  it('routes to the configured upstream whatever Host and forwarding headers say, and forwards none of them', async () => {
    const target = `http://127.0.0.1:${trap.port}`;
    const headerSets: Record<string, string>[] = [
      { 'x-portkey-custom-host': target },
      { 'x-portkey-provider': 'openai', 'x-portkey-config': JSON.stringify({ custom_host: target }) },
      { 'x-api-base': target },
      { 'x-base-url': target },
      { 'x-forwarded-host': `127.0.0.1:${trap.port}`, 'x-forwarded-proto': 'http' },
      { forwarded: `host=127.0.0.1:${trap.port};proto=http` },
      { host: `127.0.0.1:${trap.port}` },
      { host: '169.254.169.254' },
      { host: `[::1]:${trap.port}` },
      { host: '10.0.0.1' },
      { host: `2130706433:${trap.port}` },
      { 'x-original-url': `${target}/v1/chat/completions`, 'x-rewrite-url': `${target}/v1` },
    ];
    for (const headers of headerSets) {
      const reply = await post(ask(), headers);
      expect(reply.status, JSON.stringify(headers)).toBe(200);
    }
    expect(fake.requests).toHaveLength(headerSets.length);
    const { port } = new URL(fake.url);
    for (const recorded of fake.requests) {
      expect(recorded.headers.host).toBe(`127.0.0.1:${port}`);
      for (const name of [
        'x-portkey-custom-host',
        'x-portkey-config',
        'x-api-base',
        'x-base-url',
        'forwarded',
      ]) {
        expect(recorded.headers[name]).toBeUndefined();
      }
      expect(recorded.headers['x-forwarded-host']).toBeUndefined();
      expect(recorded.headers['x-original-url']).toBeUndefined();
    }
    expect(trapConnections()).toBe(0);
  });

  it('ignores the host in an absolute-form request line', async () => {
    const reply = await post(ask(), {}, `http://127.0.0.1:${trap.port}/v1/chat/completions`);
    expect(reply.status).toBe(200);
    expect(fake.requests).toHaveLength(1);
    expect(trapConnections()).toBe(0);
  });
});

describe('upstream redirects', () => {
  it.each(REDIRECTS)('does not follow a %i from the upstream, nor pass it to the client', async (status) => {
    for (const stream of [false, true]) {
      const reply = await post({ ...ask(`redirect-${status}`), stream });
      expect(reply.status, `stream: ${stream}`).toBeGreaterThanOrEqual(400);
      expect(reply.headers.location).toBeUndefined();
      expect(reply.body).not.toContain(String(trap.port));
      expect(JSON.parse(reply.body)).toMatchObject({
        error: { message: expect.stringContaining('redirect') },
      });
    }
    expect(trapConnections()).toBe(0);
  });
});

describe('configured upstream URLs are validated at load', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'autocap-ssrf-'));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  async function load(baseUrl: string, env: Record<string, string> = {}) {
    const path = join(directory, 'autocap.yaml');
    await writeFile(
      path,
      [
        'auth: {master_key: "sk-ssrf-test-master-0123456789"}',
        'models:',
        `  - {name: a, provider: openai-compatible, owned: true, base_url: ${JSON.stringify(baseUrl)}}`,
        '',
      ].join('\n'),
    );
    return loadConfig({ path, cwd: directory, env });
  }

  it.each([
    ['user info', 'http://user:hunter2-secret@127.0.0.1:8000/v1', /contains a user name or password/],
    ['a token as user info', 'http://sk-live-token@127.0.0.1:8000/v1', /contains a user name or password/],
    ['a fragment', 'http://127.0.0.1:8000/v1#@evil.example', /has a fragment/],
    ['an empty fragment', 'http://127.0.0.1:8000/v1#', /has a fragment/],
    ['a query', 'http://127.0.0.1:8000/v1?host=evil.example', /has a query/],
    ['a file URL', 'file:///etc/passwd', /expected an http\(s\) URL/],
    ['a gopher URL', 'gopher://127.0.0.1:6379/_', /expected an http\(s\) URL/],
    ['a javascript URL', 'javascript:alert(1)', /expected an http\(s\) URL/],
    ['no scheme', '127.0.0.1:8000/v1', /expected an http\(s\) URL/],
    ['a trailing space', 'http://127.0.0.1:8000/v1 ', /contains whitespace/],
    ['a newline', 'http://127.0.0.1:8000/v1\nhttp://169.254.169.254/', /contains whitespace/],
    ['a tab in the host', 'http://127.0.0.1\t:8000/v1', /contains whitespace/],
  ])('refuses a base_url with %s, naming the field', async (_name, baseUrl, problem) => {
    const result = await load(baseUrl);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const message = result.errors.join('\n');
    expect(message).toMatch(/models\.0\.base_url/);
    expect(message).toMatch(problem);
    expect(message).not.toContain('hunter2-secret');
    expect(message).not.toContain('sk-live-token');
  });

  it('validates base_url after environment substitution, so a variable cannot smuggle a fragment in', async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal reference is the point
    const result = await load('http://${UPSTREAM_HOST}/v1', {
      UPSTREAM_HOST: '127.0.0.1:8000#@evil.example',
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toMatch(/models\.0\.base_url has a fragment/);
  });

  it('accepts a plain http(s) base URL', async () => {
    const result = await load('http://127.0.0.1:8000/v1/');
    expect(result.ok && result.config.models[0]?.baseUrl).toBe('http://127.0.0.1:8000/v1');
  });
});
