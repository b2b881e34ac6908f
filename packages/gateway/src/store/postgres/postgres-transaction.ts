/**
 * Pooled connections and transactions over them, for the store and its governance half. A
 * connection gets an error listener while it is checked out: the pool listens only to idle ones,
 * and a connection that drops between two queries of a transaction would otherwise crash the
 * process with an unhandled 'error' event.
 */
import type pg from 'pg';

export interface CheckedOut {
  readonly client: pg.PoolClient;
  /** Returns the connection to the pool; `true` destroys it instead. */
  release(destroy: boolean): void;
}

export async function checkout(pool: pg.Pool, onConnectionLost: (error: Error) => void): Promise<CheckedOut> {
  const client = await pool.connect();
  client.on('error', onConnectionLost);
  return {
    client,
    release: (destroy) => {
      client.off('error', onConnectionLost);
      client.release(destroy);
    },
  };
}

/**
 * Runs `work` in a transaction on one pooled connection: `begin` first (null: `work` begins it),
 * COMMIT when `work` resolves, ROLLBACK when it throws. A connection that cannot roll back (it
 * dropped) is destroyed rather than reused.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  onConnectionLost: (error: Error) => void,
  begin: string | null,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const { client, release } = await checkout(pool, onConnectionLost);
  try {
    if (begin !== null) await client.query(begin);
  } catch (error) {
    release(true);
    throw error;
  }
  let destroy = false;
  try {
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      destroy = true;
    });
    throw error;
  } finally {
    release(destroy);
  }
}
