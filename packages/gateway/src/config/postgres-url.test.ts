import { describe, expect, it } from 'vitest';
import { postgresUrlSecrets } from './postgres-url.js';
import { config, MASTER, OPENAI, VALID } from './test-helpers.js';

describe('postgresUrlSecrets', () => {
  it('is the password, as written and decoded, not the user, host or database', () => {
    expect(postgresUrlSecrets('postgres://autocap:s3cr%2Ft%40pw@db.internal:5432/ledger')).toEqual([
      's3cr%2Ft%40pw',
      's3cr/t@pw',
    ]);
  });

  it('is nothing for a URL without a password (trust or peer authentication, PGPASSWORD)', () => {
    expect(postgresUrlSecrets('postgres://postgres@127.0.0.1:5432/test')).toEqual([]);
    expect(postgresUrlSecrets('postgresql://127.0.0.1/test?application_name=x')).toEqual([]);
  });

  it('finds passwords given as connection parameters', () => {
    const url = 'postgres://u@h/d?sslmode=require&password=p%26ss+word&sslpassword=keypass9';
    expect(new Set(postgresUrlSecrets(url))).toEqual(
      new Set(['p%26ss+word', 'p&ss+word', 'p&ss word', 'keypass9']),
    );
  });

  it('keeps a URL it cannot parse secret whole', () => {
    expect(postgresUrlSecrets('postgres://u:pw@[bad/d')).toEqual(['postgres://u:pw@[bad/d']);
  });
});

describe('config secrets from store.postgres_url', () => {
  it('holds the URL password, not the whole URL', () => {
    const resolved = config(
      `${VALID}store: {postgres_url: "postgres://gw:hunter2-db-pass@10.1.2.3:5432/autocap"}\n`,
    );
    expect(resolved.secrets).toEqual([MASTER, 'hunter2-db-pass', OPENAI]);
  });
});
