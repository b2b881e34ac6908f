/**
 * Picks the store backend from the `store` section of the gateway config: PostgreSQL when a URL is
 * given (several gateway instances share it), otherwise the embedded SQLite file.
 */
import { openPostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
import type { GatewayStore } from './store.js';

export interface StoreLocation {
  /** Path of the SQLite file (`store.sqlite`). */
  readonly sqlite?: string | undefined;
  /** postgres://user@host:port/database (`store.postgres_url`); wins over `sqlite` when both are set. */
  readonly postgresUrl?: string | undefined;
}

export function openStore(
  store: StoreLocation,
  options: { readonly sqlite?: SqliteStoreOptions; readonly postgres?: PostgresStoreOptions } = {},
): GatewayStore {
  if (store.postgresUrl !== undefined && store.postgresUrl !== '') {
    return openPostgresStore(store.postgresUrl, options.postgres);
  }
  if (store.sqlite !== undefined && store.sqlite !== '') {
    return openSqliteStore(store.sqlite, options.sqlite);
  }
  throw new Error('store: set store.sqlite (a file path) or store.postgres_url (postgres://...)');
}
