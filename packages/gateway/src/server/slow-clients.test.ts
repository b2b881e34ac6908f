/**
 * Slow and idle clients: slowloris (headers one byte every 200 ms) is cut off with a 408 once the
 * headers timeout passes; clients trickling a body hold a concurrency slot only until the request
 * timeout, and while they do, excess requests are shed with a 503; thousands of idle TCP
 * connections (10,000 when the file-descriptor limit allows) leave a normal request working and
 * memory bounded, and are closed by the same timeout; a client that stops reading a stream makes
 * the gateway stop reading the upstream (backpressure), instead of buffering it.
 *
 * The timeouts are shortened on the running server (Node reads them at each check) so the test
 * takes seconds; the production values are asserted separately.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { MASTER_KEY, startTestGateway, type TestGateway, testModel } from '../test-support/test-gateway.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  baseUrl?: string,
  server: Parameters<typeof startTestGateway>[1] = {},
): Promise<{ gateway: TestGateway; fake: FakeUpstream; port: number }> {
  const fake = await startFakeUpstream();
  const gateway = await startTestGateway(
    [
      testModel('main', baseUrl ?? fake.baseUrl, {
        timeouts: { connectMs: 1000, firstByteMs: 2000, idleMs: 500 },
      }),
    ],
    server,
  );
  cleanups.push(
    () => fake.close(),
    () => gateway.close(),
  );
  return { gateway, fake, port: Number(new URL(gateway.url).port) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CHAT = JSON.stringify({ model: 'main', messages: [{ role: 'user', content: 'hi' }] });

async function chat(gateway: TestGateway): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${MASTER_KEY}`,
      'content-type': 'application/json',
      connection: 'close',
    },
    body: CHAT,
  });
}

interface Trickle {
  readonly socket: Socket;
  /** Resolves with what the server sent and when the connection ended (ms since it opened). */
  readonly ended: Promise<{ text: string; afterMs: number }>;
  stop(): void;
}

/** Opens a connection, sends `head`, then one byte of `drip` every `intervalMs`, forever. */
function trickle(port: number, head: string, intervalMs: number): Trickle {
  const opened = performance.now();
  const socket = connect(port, '127.0.0.1');
  let text = '';
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    socket.write(head);
    timer = setInterval(() => {
      if (socket.writable) socket.write('a');
    }, intervalMs);
  });
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
  });
  socket.on('error', () => undefined);
  const ended = new Promise<{ text: string; afterMs: number }>((resolve) => {
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ text, afterMs: performance.now() - opened });
    });
  });
  return {
    socket,
    ended,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

describe('slow clients', () => {
  it('uses production timeouts of 10 s for headers and 60 s for the request, checked every second', async () => {
    const { gateway } = await setup();
    const server = gateway.running.server;
    expect(server.headersTimeout).toBe(10_000);
    expect(server.requestTimeout).toBe(60_000);
    expect(server.keepAliveTimeout).toBe(5_000);
    expect(Reflect.get(server, 'connectionsCheckingInterval')).toBe(1_000);
  });

  it('cuts off slowloris clients with a 408 JSON error once the headers timeout passes', async () => {
    const { gateway, port } = await setup();
    gateway.running.server.headersTimeout = 1000;
    const clients = Array.from({ length: 50 }, () =>
      trickle(port, 'GET /v1/models HTTP/1.1\r\nhost: gateway\r\nx-slow: ', 200),
    );
    cleanups.push(() => {
      for (const client of clients) client.stop();
    });
    // While they drip, a normal request is served at once.
    const started = performance.now();
    expect((await chat(gateway)).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(1000);
    const results = await Promise.all(clients.map((client) => client.ended));
    for (const { text, afterMs } of results) {
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(text).toContain('"code":"request_timeout"');
      // The 1 s timeout plus at most one 1 s check interval, with slack for a busy machine.
      expect(afterMs).toBeGreaterThanOrEqual(900);
      expect(afterMs).toBeLessThan(3500);
    }
  });

  it('lets body tricklers hold a slot only until the request timeout, shedding excess with 503 meanwhile', async () => {
    const { gateway, port, fake } = await setup(undefined, { server: { maxConcurrentRequests: 4 } });
    // Node checks the request timeout only once the headers timeout has passed: shorten both.
    gateway.running.server.headersTimeout = 1000;
    gateway.running.server.requestTimeout = 1500;
    const head = [
      'POST /v1/chat/completions HTTP/1.1',
      'host: gateway',
      `authorization: Bearer ${MASTER_KEY}`,
      'content-type: application/json',
      'content-length: 100000',
      '',
      '{"model":"main","messages":[{"role":"user","content":"',
    ].join('\r\n');
    const clients = Array.from({ length: 4 }, () => trickle(port, head, 200));
    cleanups.push(() => {
      for (const client of clients) client.stop();
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const shed = await chat(gateway);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(((await shed.json()) as { error: { code: string } }).error.code).toBe('overloaded');
    const results = await Promise.all(clients.map((client) => client.ended));
    for (const { text, afterMs } of results) {
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(afterMs).toBeLessThan(4000);
    }
    // The slots are free again.
    expect((await chat(gateway)).status).toBe(200);
    expect(fake.requests).toHaveLength(1);
    // A cut-off body is the client's doing: no error log (with a stack) per slow client.
    expect(gateway.logs.join('')).not.toContain('"level":"error"');
  });
});

/** The soft file-descriptor limit (`ulimit -n`), or undefined when it cannot be read. */
function descriptorLimit(): number | undefined {
  const result = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const text = result.stdout.trim();
  if (text === 'unlimited') return Number.POSITIVE_INFINITY;
  const limit = Number(text);
  return Number.isFinite(limit) && limit > 0 ? limit : undefined;
}

// Each idle connection costs one descriptor in this process (the gateway's end) and one in the
// child holding the client ends; keep a margin for everything else the test process has open.
const IDLE_TARGET = 10_000;
const IDLE = Math.max(0, Math.min(IDLE_TARGET, (descriptorLimit() ?? 1024) - 512));

/** A child process that opens `count` TCP connections, sends nothing, and reports on stdout. */
const IDLE_CLIENTS = `
const net = require('node:net');
const [port, count] = process.argv.slice(1).map(Number);
let open = 0, failed = 0, closed = 0;
const report = () => process.stdout.write('open ' + open + ' failed ' + failed + ' closed ' + closed + '\\n');
(async () => {
  for (let start = 0; start < count; start += 500) {
    await Promise.all(Array.from({ length: Math.min(500, count - start) }, () => new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('connect', () => { open++; resolve(); });
      socket.on('error', () => { failed++; resolve(); });
      socket.on('close', () => { closed++; });
      socket.on('data', () => {});
    })));
  }
  report();
  setInterval(report, 100);
})();
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

interface IdleReport {
  readonly open: number;
  readonly failed: number;
  readonly closed: number;
}

function startIdleClients(
  port: number,
  count: number,
): { child: ChildProcess; next: (check: (report: IdleReport) => boolean) => Promise<IdleReport> } {
  const child = spawn(process.execPath, ['-e', IDLE_CLIENTS, String(port), String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let latest: IdleReport | undefined;
  const waiters: { check: (report: IdleReport) => boolean; resolve: (report: IdleReport) => void }[] = [];
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const [, open, , failed, , closed] = line.split(' ');
      latest = { open: Number(open), failed: Number(failed), closed: Number(closed) };
      for (const waiter of waiters.splice(0)) {
        if (waiter.check(latest)) waiter.resolve(latest);
        else waiters.push(waiter);
      }
    }
  });
  return {
    child,
    next: (check) =>
      new Promise((resolve) => {
        if (latest && check(latest)) resolve(latest);
        else waiters.push({ check, resolve });
      }),
  };
}

const MB = 1024 * 1024;

describe('idle connections', () => {
  it(`holds ${IDLE.toLocaleString('en-US')} idle connections${IDLE < IDLE_TARGET ? ` (the file-descriptor limit allows no more than ${IDLE + 512})` : ''} with bounded memory, serving requests, then closes them`, async () => {
    const { gateway, port } = await setup();
    const server = gateway.running.server;
    const before = process.memoryUsage().rss;
    const idle = startIdleClients(port, IDLE);
    cleanups.push(() => {
      idle.child.stdin?.end();
      idle.child.kill();
    });
    const connected = await idle.next((report) => report.open + report.failed === IDLE);
    expect(connected.failed).toBe(0);
    // The client side counts a connection once the kernel completed it; the gateway may still be
    // accepting the last ones from its backlog.
    const held = async () =>
      new Promise<number>((resolve, reject) =>
        server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      );
    const deadline = performance.now() + 10_000;
    while ((await held()) < IDLE && performance.now() < deadline) await sleep(50);
    expect(await held()).toBeGreaterThanOrEqual(IDLE);
    // A normal request still goes through, promptly.
    const started = performance.now();
    expect((await chat(gateway)).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(2000);
    const grownMb = (process.memoryUsage().rss - before) / MB;
    expect(grownMb).toBeLessThan(200);
    // Idle connections are subject to the headers timeout: they do not stay forever.
    server.headersTimeout = 500;
    const closed = await idle.next((report) => report.closed === IDLE);
    expect(closed.closed).toBe(IDLE);
  }, 40_000);
});

interface EndlessUpstream {
  readonly baseUrl: string;
  /** Bytes of SSE written to the gateway so far. */
  readonly written: number;
  /** Ends every open stream properly (usage chunk and `[DONE]`). */
  finish(): void;
  close(): Promise<void>;
}

/**
 * An OpenAI-compatible upstream whose streams never end on their own: it writes 4 KB chunks as
 * fast as the gateway takes them, and waits on `drain` when the gateway stops reading.
 */
async function startEndlessUpstream(): Promise<EndlessUpstream> {
  let written = 0;
  let finishing = false;
  const content = 'x'.repeat(4096);
  const server: Server = createServer((incoming, response) => {
    incoming.resume();
    incoming.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: unknown, usage?: unknown) =>
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: delta === null ? [] : [{ index: 0, delta }], ...(usage ? { usage } : {}) })}\n\n`;
      const pump = (): void => {
        while (!response.destroyed) {
          if (finishing) {
            response.end(
              `${chunk(null, { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 })}data: [DONE]\n\n`,
            );
            return;
          }
          const event = chunk({ content });
          written += event.length;
          if (!response.write(event)) {
            response.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    baseUrl: `http://127.0.0.1:${address.port}/v1`,
    get written() {
      return written;
    },
    finish() {
      finishing = true;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a client that reads slowly', () => {
  it('makes the gateway stop reading the upstream instead of buffering the stream', async () => {
    const upstream = await startEndlessUpstream();
    cleanups.push(() => upstream.close());
    const { port } = await setup(upstream.baseUrl);
    const rssBefore = process.memoryUsage().rss;
    const body = JSON.stringify({ model: 'main', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const socket = connect(port, '127.0.0.1');
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > 256 * 1024) socket.pause(); // read a little, then stop reading
    });
    socket.on('error', () => undefined);
    cleanups.push(() => {
      socket.destroy();
    });
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer ${MASTER_KEY}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await sleep(1000);
    const stalledAt = upstream.written;
    await sleep(1000);
    const stalledLater = upstream.written;
    // The upstream is held back: a few socket buffers' worth in flight, then nothing more.
    expect(stalledLater - stalledAt).toBeLessThan(MB);
    expect(stalledLater).toBeLessThan(32 * MB);
    // Socket buffers on both hops hold a few MB in the kernel; the process itself stays bounded.
    expect((process.memoryUsage().rss - rssBefore) / MB).toBeLessThan(200);

    // Reading again resumes the flow: the stream was paused, not dropped.
    socket.removeAllListeners('data');
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.resume();
    await sleep(300);
    expect(upstream.written).toBeGreaterThan(stalledLater + MB);
    upstream.finish();
    await sleep(200);
    expect(received).toBeGreaterThan(stalledLater);
  }, 15_000);
});
