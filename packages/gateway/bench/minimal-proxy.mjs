// Mirrors ../shared/bench/minimal-proxy.mjs unchanged from its first line on (copied here so that
// `undici` resolves from the repo's node_modules). It is the floor autocap is compared with: keep it
// identical to the shared reference, hence these suppressions:
// biome-ignore-all format: kept byte for byte as the shared reference.
// biome-ignore-all assist/source/organizeImports: kept byte for byte as the shared reference.
// biome-ignore-all lint/correctness/noUnusedVariables: kept byte for byte as the shared reference.
// Minimal pass-through proxy: the floor for any Node gateway (no auth, no routing, no metering).
import http from 'node:http';
import { Pool } from 'undici';
const port = Number(process.argv[2] || 8790);
const upstream = new Pool(process.env.UPSTREAM || 'http://127.0.0.1:18080', { connections: 128, pipelining: 1 });
http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  try {
    const r = await upstream.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body });
    res.writeHead(r.statusCode, { 'content-type': r.headers['content-type'] || 'application/json' });
    for await (const c of r.body) res.write(c);
    res.end();
  } catch (e) { res.writeHead(502); res.end('{"error":{"message":"upstream"}}'); }
}).listen(port, '127.0.0.1');
