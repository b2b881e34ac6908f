/**
 * The real PostgreSQL server the store tests run against, each test in a schema of its own. There
 * is no skip: a machine without the server fails these tests with a message saying what to start.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { GatewayStore } from '../store.js';
import { openPostgresStore, type PostgresStoreOptions } from './postgres-store.js';

export const TEST_POSTGRES_URL =
  process.env['AUTOCAP_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<void> | null = null;
let admin: pg.Pool | null = null;
const schemas: string[] = [];
const stores: GatewayStore[] = [];

/** Resolves when the server answers; rejects with what to do when it does not. */
export function requirePostgres(): Promise<void> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new Error(
        `PostgreSQL must be running on 127.0.0.1:5432 (trust auth, database "test") for the store ` +
          `tests, or AUTOCAP_TEST_POSTGRES_URL must name another server; connecting to ` +
          `${TEST_POSTGRES_URL} failed: ${detail}`,
      );
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

/** A connection of the test's own, as another process or an administrator with psql would have. */
export async function adminQuery(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  await requirePostgres();
  admin ??= new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 4 });
  return admin.query(text, values);
}

/** A new schema name (not yet created: the store creates it), dropped by `cleanupPostgres`. */
export function freshSchema(): string {
  const schema = `autocap_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return schema;
}

/** Opens a store (closed by `cleanupPostgres`) and waits until it has migrated. */
export async function openTestStore(
  schema: string,
  options: Omit<PostgresStoreOptions, 'schema'> = {},
  url = TEST_POSTGRES_URL,
): Promise<GatewayStore> {
  await requirePostgres();
  const store = openPostgresStore(url, { ...options, schema });
  stores.push(store);
  await store.migrate();
  return store;
}

/** A fully qualified table of a test schema, for tampering with it directly. */
export function tableOf(schema: string, table: string): string {
  return `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`;
}

/** Closes the stores and drops the schemas of the test that just ran. */
export async function cleanupPostgres(): Promise<void> {
  for (const store of stores.splice(0)) await store.close();
  for (const schema of schemas.splice(0)) {
    await adminQuery(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  }
}

/** Ends the test's own connections (afterAll). */
export async function endAdmin(): Promise<void> {
  await admin?.end();
  admin = null;
}
