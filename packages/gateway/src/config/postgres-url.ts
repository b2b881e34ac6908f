/**
 * What the config needs to know of `store.postgres_url` before the driver reads it: the user it
 * will connect as, and which parts of it are secret.
 */
import { safeDecode } from './base-url.js';

/** The user the PostgreSQL driver will connect as: the URL's, else PGUSER, else USER. */
export function postgresUser(url: string): string | undefined {
  let user = '';
  try {
    user = decodeURIComponent(new URL(url).username);
  } catch {
    // Not parseable as a URL: the driver reads it its own way; leave the user to the variables.
  }
  return user || process.env['PGUSER'] || process.env['USER'] || undefined;
}

/** Connection parameters node-postgres reads from the query string that hold a secret. */
const SECRET_PARAMETERS = ['password', 'sslpassword'];

/**
 * The secrets in a PostgreSQL URL, as written and as decoded: the password of its user info and
 * of its `password` or `sslpassword` parameters. The user, host and database are not secret; redacting
 * the whole URL would also make every response that the secret scrub checks go the slow way
 * (a URL holds characters, such as / and @, that the fast check cannot rule out). A URL that
 * cannot be parsed is a secret whole.
 */
export function postgresUrlSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [url];
  }
  const secrets = [parsed.password];
  for (const name of SECRET_PARAMETERS) {
    for (const value of parsed.searchParams.getAll(name)) secrets.push(value);
    const written = new RegExp(`[?&]${name}=([^&#]*)`, 'g');
    for (const match of url.matchAll(written)) secrets.push(match[1] ?? '');
  }
  return [...new Set([...secrets, ...secrets.map(safeDecode)])].filter((secret) => secret !== '');
}
