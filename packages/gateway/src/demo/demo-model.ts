/**
 * `autocap serve --demo`: a built-in model so a first run works with nothing else installed. It
 * is a tiny OpenAI-compatible server on 127.0.0.1 (JSON and SSE, with usage) that answers by
 * describing the request, reached through the same provider, failover, metering and ledger as any
 * real model. It is marked owned and priced at the levelized cost of an 8-H100 fleet, so the
 * ledger shows what owned tokens cost. Never used unless asked for.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelConfig } from '../config/config.js';
import { DEFAULTS } from '../config/config.js';
import { fleetPrice } from '../config/fleet-price.js';

export const DEMO_MODEL = 'autocap-demo';

interface DemoUpstream {
  readonly model: ModelConfig;
  close(): Promise<void>;
}

function reply(body: { messages?: { role?: string; content?: unknown }[] }): string {
  const last = [...(body.messages ?? [])].reverse().find((message) => message.role === 'user');
  const said = typeof last?.content === 'string' ? last.content.slice(0, 200) : 'something';
  return `This is autocap's built-in demo model. You said: "${said}". The gateway metered this answer, priced it at an owned 8-H100 fleet's levelized cost and wrote it to the ledger (autocap ledger export). Add real models in autocap.yaml: see docs/configuration.md.`;
}

/** Roughly four characters a token: the demo reports usage like a real server would. */
const tokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

function handle(server: Server): void {
  server.on('request', (request, response) => {
    let raw = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      raw += chunk;
    });
    request.on('end', () => {
      let body: { messages?: { role?: string; content?: unknown }[]; stream?: boolean; model?: string } = {};
      try {
        body = JSON.parse(raw) as typeof body;
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end('{"error":{"message":"invalid JSON","type":"invalid_request_error"}}');
        return;
      }
      const text = reply(body);
      const usage = {
        prompt_tokens: tokens(raw),
        completion_tokens: tokens(text),
        total_tokens: tokens(raw) + tokens(text),
      };
      const base = {
        id: `chatcmpl-demo-${Date.now()}`,
        created: Math.floor(Date.now() / 1000),
        model: DEMO_MODEL,
      };
      if (!body.stream) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            ...base,
            object: 'chat.completion',
            choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
            usage,
          }),
        );
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      response.write(chunk({ role: 'assistant', content: '' }, null));
      for (const word of text.split(/(?<= )/)) response.write(chunk({ content: word }, null));
      response.write(chunk({}, 'stop'));
      response.write(
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`,
      );
      response.end('data: [DONE]\n\n');
    });
  });
}

export async function startDemoUpstream(): Promise<DemoUpstream> {
  const server = createServer();
  handle(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const priced = fleetPrice(
    {
      fleet: { gpu: 'h100-sxm', count: 8 },
      inputTokensPerSecondPerGpu: 20_000,
      outputTokensPerSecondPerGpu: 1_541,
    },
    'demo.',
  );
  const model: ModelConfig = {
    name: DEMO_MODEL,
    provider: 'openai-compatible',
    baseUrl: `http://127.0.0.1:${port}/v1`,
    upstreamModel: DEMO_MODEL,
    apiKey: undefined,
    owned: true,
    price: priced.ok
      ? priced.price
      : { inputPerMtokUsd: 0, outputPerMtokUsd: 0, cachedInputPerMtokUsd: 0, source: 'unpriced' },
    fallbacks: [],
    timeouts: { connectMs: DEFAULTS.connectTimeoutMs, firstByteMs: 10_000, idleMs: 10_000 },
    maxAttempts: 1,
    retries: 0,
    maxConnections: 16,
    contextWindow: undefined,
    maxOutputTokens: undefined,
  };
  return {
    model,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
