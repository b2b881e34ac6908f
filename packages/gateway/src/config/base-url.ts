/**
 * Upstream URLs are checked once, at load: they are the only thing that decides where the gateway
 * connects (no request field or header can change it), so a URL that smuggles credentials, a
 * query or a fragment is refused rather than passed along.
 */

export type BaseUrlResult =
  | { readonly ok: true; readonly url: string }
  | { readonly ok: false; readonly error: string };

const EXAMPLE = 'http://127.0.0.1:8000/v1';

/** Percent-decoded text, or the text itself when it is not valid percent-encoding. */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Shows a URL without the parts that may carry secrets (user info, query, fragment). */
function shown(text: string): string {
  const clipped = text.replace(/\/\/[^/@]*@/, '//…@').replace(/[?#].*$/, '…');
  return `"${clipped.length > 60 ? `${clipped.slice(0, 60)}…` : clipped}"`;
}

/** Validates `text` as the base URL at `path`; returns it without a trailing slash. */
export function checkBaseUrl(text: string, path: string): BaseUrlResult {
  const fail = (problem: string): BaseUrlResult => ({ ok: false, error: `${path} ${problem}` });
  if (/\s/.test(text)) return fail('contains whitespace: remove it');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(
      `is ${shown(text)}: expected an http(s) URL with its path prefix (example: ${path}: ${EXAMPLE})`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail(`is ${shown(text)}: expected an http(s) URL (example: ${path}: ${EXAMPLE})`);
  }
  if (url.username !== '' || url.password !== '') {
    return fail('contains a user name or password: remove it and give the key in api_key instead');
  }
  if (url.hostname === '') return fail(`has no host name (example: ${path}: ${EXAMPLE})`);
  // `?` and `#` with nothing after them leave url.search/hash empty, so test the text as well.
  if (url.search !== '' || text.includes('?')) {
    return fail(
      'has a query (?...): remove it; the gateway appends the endpoint path (e.g. /chat/completions)',
    );
  }
  if (url.hash !== '' || text.includes('#')) return fail('has a fragment (#...): remove it');
  return { ok: true, url: url.href.replace(/\/+$/, '') };
}
