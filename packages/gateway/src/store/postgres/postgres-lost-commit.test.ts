/**
 * A COMMIT whose answer never reaches the gateway, produced for real: a TCP proxy between the
 * store and PostgreSQL forwards the COMMIT, lets the server commit and answer, then drops the
 * connection instead of passing the answer on. The ledger writer retries the batch; the store must
 * recognize it as already stored, neither failing on the duplicate ids nor storing it twice.
 */
import { connect as connectTcp, createServer, type Server } from 'node:net';
import { afterAll, afterEach, expect, it } from 'vitest';
import { LedgerWriter } from '../../ledger/ledger-writer.js';
import { sampleLedgerEntries } from '../../test-support/ledger-entries.js';
import {
  adminQuery,
  cleanupPostgres,
  endAdmin,
  freshSchema,
  openTestStore,
  TEST_POSTGRES_URL,
  tableOf,
} from './postgres-test-support.js';

afterAll(endAdmin);
afterEach(cleanupPostgres);

interface CommitDroppingProxy {
  readonly url: string;
  /** The next COMMIT is carried out by the server, and its answer lost with the connection. */
  loseNextCommitAnswer(): void;
  readonly lostAnswers: () => number;
  close(): Promise<void>;
}

async function startProxy(): Promise<CommitDroppingProxy> {
  const target = new URL(TEST_POSTGRES_URL);
  let armed = false;
  let lost = 0;
  const commit = Buffer.from('COMMIT\u0000', 'latin1');
  const server: Server = createServer((client) => {
    const upstream = connectTcp(Number(target.port || 5432), target.hostname);
    let dropAnswer = false;
    client.on('data', (chunk) => {
      if (armed && chunk.includes(commit)) {
        armed = false;
        dropAnswer = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!dropAnswer) {
        client.write(chunk);
        return;
      }
      // The server has committed and answered: the answer goes nowhere.
      lost += 1;
      client.destroy();
      upstream.destroy();
    });
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      socket.on('error', () => other.destroy());
      socket.on('close', () => other.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  const url = new URL(TEST_POSTGRES_URL);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  return {
    url: url.toString(),
    loseNextCommitAnswer: () => {
      armed = true;
    },
    lostAnswers: () => lost,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

it('retries a batch whose COMMIT answer was lost, storing it once', async () => {
  const proxy = await startProxy();
  try {
    const schema = freshSchema();
    const store = await openTestStore(schema, {}, proxy.url);
    const failures: unknown[] = [];
    const writer = new LedgerWriter(store, {
      chainId: 'gateway-1',
      onError: (error) => failures.push(error),
      sleep: async () => {},
    });
    const [first, ...rest] = sampleLedgerEntries(11);
    if (!first) throw new Error('no entries');
    await writer.write(first);
    proxy.loseNextCommitAnswer();
    const last = rest.pop();
    await Promise.all(rest.map((entry) => writer.write(entry)));
    expect(proxy.lostAnswers()).toBe(1);
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/Connection terminated|ECONNRESET/);
    if (last) await writer.write(last);
    await writer.close();
    expect(writer.head?.seq).toBe(11);
    await expect(store.verifyLedger()).resolves.toEqual({ ok: true, entries: 11, chains: 1 });
    const dead = await adminQuery(`SELECT count(*)::int AS n FROM ${tableOf(schema, 'ledger_dead_letter')}`);
    expect(dead.rows).toEqual([{ n: 0 }]);
  } finally {
    await cleanupPostgres();
    await proxy.close();
  }
});
