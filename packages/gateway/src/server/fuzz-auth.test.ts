/**
 * 10,000 fuzzed `Authorization` values (seeded fast-check samples: random text, invalid UTF-8,
 * SQL metacharacters, key look-alikes) plus fixed nasty cases (64 KB, NUL, CR/LF, duplicate
 * headers). Each gets a 4xx JSON error and never a 5xx: a 401 when the value is legal in a header,
 * the HTTP parser's 400 or 431 when it is not. Afterwards the virtual_keys table is intact and
 * the real keys still work. Requests are pipelined on raw sockets: fetch refuses some of these
 * bytes, and one request at a time would take minutes.
 */
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newVirtualKey } from '../auth/keys.js';
import type { VirtualKeyRecord } from '../store/store.js';
import { type FakeUpstream, startFakeUpstream } from '../test-support/fake-upstream.js';
import { MASTER_KEY, startTestGateway, type TestGateway, testModel } from '../test-support/test-gateway.js';

const FUZZ_RUNS = 10_000;
const SEED = 20_240_611;
const SOCKETS = 4;

interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

let fake: FakeUpstream;
let gateway: TestGateway;
let port: number;
let virtualKey: string;
let record: VirtualKeyRecord;

beforeAll(async () => {
  fake = await startFakeUpstream();
  gateway = await startTestGateway([testModel('main', fake.baseUrl)]);
  port = Number(new URL(gateway.url).port);
  const minted = newVirtualKey();
  virtualKey = minted.key;
  record = {
    id: minted.id,
    hash: minted.hash,
    name: "fuzz'; --",
    createdAtMs: 1,
    expiresAtMs: null,
    allowedModels: ['main'],
    revoked: false,
  };
  await gateway.running.gateway.runtime.store.insertKey(record);
});
afterAll(async () => {
  await gateway.close();
  await fake.close();
});

/** `GET /v1/models` with the given Authorization value bytes (`null`: no header at all). */
function requestBytes(value: Buffer | null, close = false): Buffer {
  return Buffer.concat([
    Buffer.from(`GET /v1/models HTTP/1.1\r\nhost: gateway\r\n${close ? 'connection: close\r\n' : ''}`),
    value === null
      ? Buffer.alloc(0)
      : Buffer.concat([Buffer.from('authorization: '), value, Buffer.from('\r\n')]),
    Buffer.from('\r\n'),
  ]);
}

/**
 * Reads pipelined HTTP/1.1 responses from `socket` until `count` have arrived or it closes.
 * Every response the gateway sends has a content-length, which keeps this parser small.
 */
function readReplies(socket: Socket, count: number): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const replies: Reply[] = [];
    let buffer: Buffer = Buffer.alloc(0);
    const finish = () => {
      socket.off('data', onData);
      resolve(replies);
    };
    const onData = (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? '0');
        if (buffer.length < end + 4 + length) return;
        replies.push({
          status: Number(head.slice(9, 12)),
          contentType: /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1] ?? '',
          body: buffer.subarray(end + 4, end + 4 + length).toString('utf8'),
        });
        buffer = buffer.subarray(end + 4 + length);
        if (replies.length === count) {
          finish();
          return;
        }
      }
    };
    socket.on('data', onData);
    socket.on('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The gateway closes a connection after refusing unparseable bytes; a reset then is fine.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish();
      else reject(error);
    });
  });
}

/** Sends every value pipelined on one keep-alive connection; one reply per value. */
async function pipelined(values: readonly Buffer[]): Promise<Reply[]> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const replies = readReplies(socket, values.length);
  socket.write(Buffer.concat(values.map((value) => requestBytes(value))));
  const result = await replies;
  socket.destroy();
  return result;
}

/** One connection for a value the parser may refuse (it closes the connection when it does). */
async function alone(value: Buffer | null): Promise<Reply> {
  const socket = connect(port, '127.0.0.1');
  const replies = readReplies(socket, 1);
  socket.on('connect', () => socket.write(requestBytes(value, true)));
  const [reply] = await replies;
  socket.destroy();
  if (reply === undefined) throw new Error(`no reply for ${value?.subarray(0, 40).toString('latin1')}`);
  return reply;
}

/** Bytes Node's HTTP parser refuses inside a header value: controls other than tab, and DEL. */
const isHeaderSafe = (value: Buffer) =>
  value.every((byte) => byte === 0x09 || (byte >= 0x20 && byte !== 0x7f));

const SQL = [
  "' OR 1=1 --",
  "' OR '1'='1",
  '"; DROP TABLE virtual_keys; --',
  "'; DELETE FROM virtual_keys WHERE '1'='1",
  "ak-x'); UPDATE virtual_keys SET revoked = 0; --",
  "' UNION SELECT id, hash, name, 0, NULL, NULL, 0 FROM virtual_keys --",
  "%' OR hash LIKE '%",
  '*',
  '%',
  '_',
  '\\',
  "\\'",
  '0x00',
  'NULL',
  "1; ATTACH DATABASE '/tmp/x.db' AS x; --",
  "'||(SELECT hash FROM virtual_keys LIMIT 1)||'",
];

/** Values the fuzzer draws from: mostly wrong, some shaped like real keys, some raw bytes. */
function fuzzValues(): Buffer[] {
  const text = (unit: 'binary' | 'grapheme' | 'grapheme-ascii', maxLength: number) =>
    fc.string({ unit, maxLength }).map((value) => Buffer.from(value, 'utf8'));
  const sql = fc
    .array(fc.constantFrom(...SQL, ' ', 'Bearer ', 'ak-', '--', ';', "'", '"', '`'), {
      minLength: 1,
      maxLength: 6,
    })
    .map((parts) => Buffer.from(parts.join(''), 'utf8'));
  const keyShaped = fc
    .string({
      unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
      minLength: 1,
      maxLength: 60,
    })
    .map((body) => Buffer.from(`Bearer ak-${body}`));
  const bearer = (inner: fc.Arbitrary<Buffer>) =>
    inner.map((value) => Buffer.concat([Buffer.from('Bearer '), value]));
  // Invalid UTF-8 and stray high bytes; header-safe, so they reach the authenticator.
  const rawBytes = fc.uint8Array({ minLength: 1, maxLength: 80 }).map((bytes) => {
    const safe = Buffer.from(bytes).filter((byte) => byte >= 0x80 || (byte > 0x20 && byte < 0x7f));
    return Buffer.from(safe.length > 0 ? safe : [0xff]);
  });
  const long = fc
    .integer({ min: 264, max: 14_000 })
    .map((length) => Buffer.from(`Bearer ${'k'.repeat(length)}`));
  const mutated = fc
    .tuple(fc.integer({ min: 3, max: 45 }), fc.integer({ min: 0x21, max: 0x7e }))
    .map(([at, code]) => {
      const key = Buffer.from(virtualKey);
      key[at] = code === key[at] ? (code === 0x41 ? 0x42 : 0x41) : code; // always a different byte
      return Buffer.concat([Buffer.from('Bearer '), key]);
    });
  const arbitrary = fc.oneof(
    { weight: 3, arbitrary: text('grapheme-ascii', 40) },
    { weight: 2, arbitrary: text('binary', 40) },
    { weight: 2, arbitrary: bearer(text('grapheme', 60)) },
    { weight: 2, arbitrary: sql },
    { weight: 2, arbitrary: bearer(sql) },
    { weight: 3, arbitrary: keyShaped },
    { weight: 2, arbitrary: bearer(rawBytes) },
    { weight: 1, arbitrary: rawBytes },
    { weight: 2, arbitrary: mutated },
    { weight: 1, arbitrary: long },
  );
  return fc.sample(arbitrary, { seed: SEED, numRuns: FUZZ_RUNS });
}

function expectAuthError(reply: Reply | undefined, label: string): void {
  expect(reply?.status, label).toBe(401);
  expect(reply?.contentType, label).toMatch(/^application\/json/);
  const body = JSON.parse(reply?.body ?? '') as { error: { code: string; type: string } };
  expect(body.error.type, label).toBe('authentication_error');
  expect(['missing_api_key', 'invalid_api_key'], label).toContain(body.error.code);
}

describe(`${FUZZ_RUNS.toLocaleString('en-US')} fuzzed Authorization values`, () => {
  it("each get a 401 JSON error (or the parser's 4xx for bytes illegal in a header), never a 5xx", async () => {
    const values = fuzzValues();
    expect(values).toHaveLength(FUZZ_RUNS);
    const legal = values.filter(isHeaderSafe);
    const illegal = values.filter((value) => !isHeaderSafe(value));
    // Pipelined over a few keep-alive connections.
    const slices = Array.from({ length: SOCKETS }, (_, index) =>
      legal.filter((_value, position) => position % SOCKETS === index),
    );
    const replies = await Promise.all(slices.map(pipelined));
    const messages = new Set<string>();
    slices.forEach((slice, index) => {
      const got = replies[index] ?? [];
      expect(got).toHaveLength(slice.length);
      got.forEach((reply, position) => {
        const label = slice[position]?.subarray(0, 60).toString('latin1') ?? '';
        expectAuthError(reply, label);
        messages.add((JSON.parse(reply.body) as { error: { message: string } }).error.message);
      });
    });
    // A fixed set of messages: nothing from the header is reflected back.
    expect(messages.size).toBeLessThanOrEqual(3);
    for (const value of illegal) {
      const reply = await alone(value);
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
    }
  }, 30_000);
});

describe('fixed nasty Authorization values', () => {
  const valid = () => Buffer.from(`Bearer ${virtualKey}`);

  it.each(SQL)('SQL %s is a 401, bare and after Bearer', async (sql) => {
    for (const value of [sql, `Bearer ${sql}`, `Bearer ak-${sql}`, `Bearer ${virtualKey}${sql}`]) {
      expectAuthError(await alone(Buffer.from(value)), value);
    }
  });

  it('refuses values the HTTP parser cannot accept with a 4xx JSON error and closes only that connection', async () => {
    const cases: [string, Buffer, number][] = [
      ['64 KB', Buffer.from(`Bearer ${'A'.repeat(64 * 1024)}`), 431],
      ['64 KB of SQL', Buffer.from(`Bearer ${"' OR 1=1 --".repeat(6000)}`), 431],
      ['NUL', Buffer.from(`Bearer ak-\0${virtualKey.slice(3)}`), 400],
      ['NUL after a valid key', Buffer.concat([valid(), Buffer.from([0])]), 400],
      ['bare CR', Buffer.from('Bearer x\rinjected: 1'), 400],
      ['bare LF', Buffer.from('Bearer x\ninjected: 1'), 400],
      ['DEL', Buffer.from('Bearer x\x7f'), 400],
      ['escape', Buffer.from('Bearer \x1b[31mred'), 400],
    ];
    for (const [label, value, status] of cases) {
      const reply = await alone(value);
      expect(reply.status, label).toBe(status);
      expect(reply.contentType, label).toMatch(/^application\/json/);
      expect(JSON.parse(reply.body), label).toMatchObject({ error: { type: 'invalid_request_error' } });
      expect(reply.body).not.toContain(virtualKey);
    }
    expectAuthError(await alone(Buffer.from('Bearer ok-after-refusals')), 'still up');
  });

  it('answers CRLF header splitting, duplicates and look-alikes of a real key with 401', async () => {
    const cases: string[] = [
      '', // an empty header is "no key"
      ' ',
      'Bearer',
      'Bearer ',
      `Bearer  ${virtualKey}`, // two spaces
      `Bearer\t${virtualKey}`,
      `Basic ${Buffer.from(`${virtualKey}:`).toString('base64')}`,
      `Token ${virtualKey}`,
      virtualKey,
      `Bearer ${virtualKey.toUpperCase()}`,
      `Bearer ${virtualKey.slice(0, -1)}`,
      `Bearer ${virtualKey}x`,
      `Bearer ${virtualKey},${virtualKey}`,
      `Bearer ${virtualKey} ${virtualKey}`,
      `Bearer ${record.hash}`, // the stored hash is not a key
      `Bearer ${record.id}`,
      `Bearer ${MASTER_KEY.slice(0, -1)}`,
      `Bearer ${MASTER_KEY}${MASTER_KEY}`,
      `Bearer x\r\nx-injected: 1`, // a second header, not part of this one
      `Bearer x\r\nauthorization: Bearer ${MASTER_KEY}`, // a duplicate: Node keeps the first
    ];
    for (const value of cases) expectAuthError(await alone(Buffer.from(value)), JSON.stringify(value));
    // Look-alike Unicode: a Cyrillic а, a zero-width space, a full-width letter (sent as UTF-8).
    for (const value of [
      `Bearer ${virtualKey.replace('a', '\u0430')}`,
      `Bearer ${virtualKey.slice(0, 5)}\u200b${virtualKey.slice(5)}`,
      `Bearer ${virtualKey.replace('k', '\uff4b')}`,
      `Bearer ${virtualKey}\u200b`,
    ]) {
      expectAuthError(await alone(Buffer.from(value, 'utf8')), JSON.stringify(value));
    }
    // Invalid UTF-8 right after a valid key, and alone.
    for (const bytes of [
      [0xff],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
    ]) {
      expectAuthError(await alone(Buffer.concat([valid(), Buffer.from(bytes)])), `key + ${bytes.join(',')}`);
      expectAuthError(
        await alone(Buffer.concat([Buffer.from('Bearer ak-'), Buffer.from(bytes)])),
        bytes.join(','),
      );
    }
  });

  it('leaves virtual_keys intact and the real keys working afterwards', async () => {
    const store = gateway.running.gateway.runtime.store;
    expect(await store.listKeys()).toEqual([record]);
    expect((await store.findKeyByHash(record.hash))?.id).toBe(record.id);
    for (const value of [
      `Bearer ${virtualKey}`,
      `bearer ${virtualKey}`,
      `Bearer ${MASTER_KEY}`,
      `Bearer ${virtualKey} `,
    ]) {
      const reply = await alone(Buffer.from(value));
      expect(reply.status, value).toBe(200);
    }
    expect((await alone(null)).status).toBe(401);
    const health = await fetch(`${gateway.url}/healthz`);
    expect(health.status).toBe(200);
    // Nothing above touched an upstream or wrote a ledger entry.
    expect(fake.requests).toHaveLength(0);
    expect((await store.pageLedger({ limit: 10 })).entries).toHaveLength(0);
  });
});
