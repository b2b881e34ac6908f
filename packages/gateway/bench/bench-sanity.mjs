// Before gateway-bench.mjs measures a target: one request through it must reach the mock, and
// autocap must have recorded it and stream an answer to its end.
import { log, parseHeaders, request } from './bench-lib.mjs';
import { BenchError } from './bench-setup.mjs';

/** The request every run sends (the body wrk-post.lua sends too). */
export const BODY =
  '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}],"max_tokens":32}';

/** Requests the mock upstream has served so far. */
export const mockServed = async (port) =>
  JSON.parse((await request(`http://127.0.0.1:${port}/stats`)).text).served;

const headersOf = (target) => ({
  'content-type': 'application/json',
  authorization: 'Bearer sk-mock',
  ...parseHeaders(target.extra),
});

/** One request through the target: it must answer 200 and the mock must have served it. */
export async function sanity(target, mockPort) {
  const before = await mockServed(mockPort);
  const answer = await request(target.url, { method: 'POST', headers: headersOf(target), body: BODY });
  const served = (await mockServed(mockPort)) - before;
  if (answer.status !== 200) {
    throw new BenchError(
      `${target.name}: sanity request got HTTP ${answer.status}: ${answer.text.slice(0, 300)}`,
    );
  }
  if (served !== 1)
    throw new BenchError(`${target.name}: answered 200 but the mock served ${served} requests`);
  target.upstreamCalls = (target.upstreamCalls ?? 0) + 1;
  log(`sanity ${target.name}: HTTP 200, reached the mock`);
}

/** autocap's ledger shows the sanity requests, and a streamed answer through `vkey` ends with [DONE]. */
export async function sanityAutocap({ port, masterKey, vkey }) {
  const auth = { authorization: `Bearer ${masterKey}` };
  const page = await request(`http://127.0.0.1:${port}/admin/ledger?limit=1`, { headers: auth });
  if (page.status !== 200 || JSON.parse(page.text).data.length < 1) {
    throw new BenchError(
      `autocap's ledger is empty after a request (GET /admin/ledger: HTTP ${page.status})`,
    );
  }
  const streamBody = BODY.replace('{', '{"stream":true,');
  const sse = await request(vkey.url, { method: 'POST', headers: headersOf(vkey), body: streamBody });
  if (sse.status !== 200 || !sse.text.includes('data: [DONE]')) {
    throw new BenchError(
      `autocap streaming sanity request failed: HTTP ${sse.status}: ${sse.text.slice(0, 300)}`,
    );
  }
  vkey.upstreamCalls++;
  log('sanity autocap: GET /admin/ledger shows entries; a streamed answer ends with [DONE]');
}
