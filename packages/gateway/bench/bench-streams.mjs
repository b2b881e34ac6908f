// Holds many slow streaming chat completions open through a gateway at once, from one Node
// client (node:http, one socket per stream), while sampling the gateway's resident memory.
import http from 'node:http';
import { join } from 'node:path';
import { cpuSeconds, freePort, log, request, statusKb } from './bench-lib.mjs';
import { writeConfig } from './bench-setup.mjs';

const BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  stream: true,
  messages: [{ role: 'user', content: 'Say hello, slowly.' }],
  max_tokens: 256,
});

/**
 * Opens `count` streams to `url` (ramped in batches so the listen backlog never overflows),
 * counts those that got a first chunk and are still open, and reads every stream to its end.
 * Resolves with counts and RSS figures; bounded by timeoutMs (leftover streams are destroyed).
 */
export function holdStreams({ url, headers, count, gatewayPid, timeoutMs, batch = 100, batchGapMs = 50 }) {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const target = new URL(url);
  const state = {
    started: 0,
    firstChunks: 0,
    open: 0,
    peakOpen: 0,
    completed: 0,
    withDone: 0,
    non200: 0,
    errors: 0,
    errorSamples: [],
    rssIdleKb: statusKb(gatewayPid),
    rssPeakKb: 0,
    rssAllOpenKb: Number.NaN,
    allOpenAfterMs: Number.NaN,
  };
  const t0 = Date.now();
  const requests = [];
  return new Promise((resolve) => {
    let finished = 0;
    const sampler = setInterval(() => {
      const kb = statusKb(gatewayPid);
      if (kb > state.rssPeakKb) state.rssPeakKb = kb;
    }, 100);
    const finishOne = () => {
      finished++;
      if (finished === count) done();
    };
    const timer = setTimeout(() => {
      for (const req of requests) req.destroy();
      done();
    }, timeoutMs);
    let ended = false;
    function done() {
      if (ended) return;
      ended = true;
      clearInterval(sampler);
      clearTimeout(timer);
      agent.destroy();
      const kb = statusKb(gatewayPid);
      if (kb > state.rssPeakKb) state.rssPeakKb = kb;
      state.rssHwmKb = statusKb(gatewayPid, 'VmHWM');
      state.elapsedMs = Date.now() - t0;
      resolve(state);
    }
    const openOne = () => {
      state.started++;
      const req = http.request({
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(BODY),
          ...headers,
        },
      });
      requests.push(req);
      let counted = false;
      let tail = '';
      let sawDone = false;
      let settled = false;
      const settle = (error) => {
        if (settled) return;
        settled = true;
        if (counted) state.open--;
        if (error) {
          state.errors++;
          if (state.errorSamples.length < 3) state.errorSamples.push(String(error.message ?? error));
        } else {
          state.completed++;
          if (sawDone) state.withDone++;
        }
        finishOne();
      };
      req.on('response', (res) => {
        if (res.statusCode !== 200) state.non200++;
        res.setEncoding('utf8');
        res.on('data', (text) => {
          if (!counted) {
            counted = true;
            state.firstChunks++;
            state.open++;
            if (state.open > state.peakOpen) state.peakOpen = state.open;
            if (state.open === count) {
              state.rssAllOpenKb = statusKb(gatewayPid);
              state.allOpenAfterMs = Date.now() - t0;
            }
          }
          const window = tail + text;
          if (window.includes('data: [DONE]')) sawDone = true;
          tail = window.slice(-16);
        });
        res.on('end', () => settle());
        res.on('error', (error) => settle(error));
        res.on('close', () => settle(res.complete ? undefined : new Error('stream closed before its end')));
      });
      req.on('error', (error) => settle(error));
      req.end(BODY);
    };
    const ramp = () => {
      for (let i = 0; i < batch && state.started < count; i++) openOne();
      if (state.started < count) setTimeout(ramp, batchGapMs);
    };
    ramp();
  });
}

/**
 * `settings.streams` slow streams held at once through a fresh autocap (its own slow mock and
 * SQLite file), with its RSS and CPU per chunk; its ledger is verified after it stops.
 */
export async function streamsThroughFreshGateway({
  settings: S,
  masterKey: MASTER_KEY,
  scratch: tmp,
  mockScript,
  cli,
  startService,
  stop,
  autocapCli,
}) {
  const n = S.streams;
  log(`\n== streams: ${n} concurrent streams of ${S.streamChunks} chunks, one every ${S.streamDelayMs} ms`);
  const mockPort = await freePort();
  const env = { STREAM_CHUNKS: String(S.streamChunks), STREAM_DELAY_MS: String(S.streamDelayMs) };
  const mockArgs = [mockScript, String(mockPort)];
  await startService('mock-slow', mockArgs, { cpu: S.loadCpu, env, port: mockPort, path: '/health' });
  const port = await freePort();
  const configFile = join(tmp, 'autocap-streams.yaml');
  // max_connections above the stream count: with the default (128) the streams would queue upstream.
  const maxConnections = n + 24;
  const sqlite = join(tmp, 'streams.db');
  writeConfig(configFile, { port, mockPort, sqlite, masterKey: MASTER_KEY, maxConnections });
  const gwArgs = [cli, 'serve', '--config', configFile];
  const gw = await startService('autocap-streams', gwArgs, { cpu: S.gwCpu, port, path: '/healthz' });
  // One authenticated request first, so the idle RSS below is after start-up, as in the throughput part.
  await request(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
  const cpu0 = cpuSeconds(gw.pid);
  const result = await holdStreams({
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: { authorization: `Bearer ${MASTER_KEY}` },
    count: n,
    gatewayPid: gw.pid,
    timeoutMs: S.streamChunks * S.streamDelayMs + 60_000,
  });
  result.gatewayCpuCores = (cpuSeconds(gw.pid) - cpu0) / (result.elapsedMs / 1000);
  result.maxConnections = maxConnections;
  result.nominalS = (S.streamChunks * S.streamDelayMs) / 1000;
  const chunks = result.withDone * (S.streamChunks + 2); // + the usage chunk and [DONE]
  result.cpuUsPerChunk = (1e6 * result.gatewayCpuCores * (result.elapsedMs / 1000)) / chunks;
  await stop(gw.pid, 15_000);
  const verified = autocapCli(['ledger', 'verify', '--config', configFile, '--json']);
  result.ledger = { exitCode: verified.status, ...JSON.parse(verified.stdout || '{}') };
  return result;
}
