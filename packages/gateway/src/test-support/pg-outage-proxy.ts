/**
 * A TCP proxy in front of PostgreSQL that can take the database away, for outage tests (after the
 * proxy in postgres-lost-commit.test.ts):
 *
 * - `up`: bytes flow both ways.
 * - `stall`: a network partition. Open connections freeze (nothing is forwarded; what was sent is
 *   held, and flows again on `up`), new connections are accepted and held without an answer, so
 *   queries hang and connection attempts time out.
 * - `refuse`: the server is gone. Every open or held connection is dropped, and new ones are closed
 *   as soon as they are accepted.
 *
 * `loseNextCommitAnswer()`: the next COMMIT reaches the server, which commits, but its answer (and
 * everything after it on that connection) is held back: the client cannot know it committed.
 */
import { connect as connectTcp, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'up' | 'stall' | 'refuse';

export interface OutageProxy {
  /** The target URL with the proxy's host and port. */
  readonly url: string;
  readonly mode: ProxyMode;
  setMode(mode: ProxyMode): void;
  loseNextCommitAnswer(): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  upstream: Socket | null;
  /** The server's answers are held back from here on. */
  muted: boolean;
}

const COMMIT = Buffer.from('COMMIT\u0000', 'latin1');

export async function startOutageProxy(targetUrl: string): Promise<OutageProxy> {
  const target = new URL(targetUrl);
  const pairs = new Set<Pair>();
  let mode: ProxyMode = 'up';
  let accepted = 0;
  let loseCommit = false;

  const drop = (pair: Pair): void => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  /** Connects a held client to the server and starts forwarding. */
  const forward = (pair: Pair): void => {
    const upstream = connectTcp(Number(target.port || 5432), target.hostname);
    pair.upstream = upstream;
    upstream.on('data', (chunk) => {
      if (!pair.muted) pair.client.write(chunk);
    });
    pair.client.on('data', (chunk: Buffer) => {
      if (loseCommit && chunk.includes(COMMIT)) {
        loseCommit = false;
        pair.muted = true;
      }
      upstream.write(chunk);
    });
    upstream.on('error', () => drop(pair));
    upstream.on('close', () => drop(pair));
    pair.client.resume();
  };

  const server: Server = createServer((client) => {
    accepted += 1;
    const pair: Pair = { client, upstream: null, muted: false };
    client.on('error', () => drop(pair));
    client.on('close', () => drop(pair));
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    pairs.add(pair);
    client.pause();
    if (mode === 'up') forward(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);

  return {
    url: url.toString(),
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    setMode(next) {
      mode = next;
      for (const pair of [...pairs]) {
        if (next === 'refuse') drop(pair);
        else if (next === 'stall') {
          pair.client.pause();
          pair.upstream?.pause();
        } else if (pair.upstream === null) {
          forward(pair);
        } else {
          pair.client.resume();
          pair.upstream.resume();
        }
      }
    },
    loseNextCommitAnswer() {
      loseCommit = true;
    },
    close() {
      for (const pair of [...pairs]) drop(pair);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
