// Holds many slow streaming chat completions open through a gateway at once, from one Node
// client (node:http, one socket per stream), while sampling the gateway's resident memory.
import http from 'node:http';
import { statusKb } from './bench-lib.mjs';

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
