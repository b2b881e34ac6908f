/**
 * The only place that opens a port. Node's HTTP server with bounds on everything a client
 * controls: header and request time (slowloris), idle keep-alive, concurrent requests (excess is
 * shed with a 503 before any work), and a drain on shutdown that lets in-flight streams finish.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '../config/config.js';
import { createGateway, type Gateway, type GatewayOptions } from '../gateway.js';
import { sendJson } from '../http/handle-request.js';
import { preloadTokenizer } from '../metering/estimate-tokens.js';

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly server: Server;
  readonly url: string;
  /** Readiness 503, stop accepting, let in-flight requests finish (up to the drain timeout), flush, close. */
  shutdown(): Promise<void>;
}

export async function startGateway(
  config: GatewayConfig,
  options: GatewayOptions = {},
): Promise<RunningGateway> {
  const gateway = await createGateway(config, options);
  const { logger } = gateway.runtime;
  let inFlight = 0;
  let idle: (() => void) | null = null;
  const server = createServer((incoming, response) => {
    if (inFlight >= config.server.maxConcurrentRequests) {
      response.setHeader('retry-after', '1');
      sendJson(response, 503, {
        error: {
          message: `The gateway is at its limit of ${config.server.maxConcurrentRequests} concurrent requests (server.max_concurrent_requests); retry shortly.`,
          type: 'api_error',
          code: 'overloaded',
          param: null,
        },
      });
      return;
    }
    inFlight++;
    gateway
      .handle(incoming, response)
      .catch((error: unknown) => logger.error('unhandled request failure', { error: String(error) }))
      .finally(() => {
        inFlight--;
        if (inFlight === 0) idle?.();
      });
  });
  server.headersTimeout = 10_000; // a client gets 10 s to send its headers
  server.requestTimeout = 60_000; // and 60 s for the whole request body
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  // Token counting (for streams without usage) loads its tables now, not on a request's path.
  preloadTokenizer().catch((error: unknown) =>
    logger.warn('tokenizer unavailable', { error: String(error) }),
  );
  logger.info('listening', { url, models: config.models.map((model) => model.name), config: config.source });

  let stopping: Promise<void> | null = null;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      gateway.beginDrain();
      server.close();
      server.closeIdleConnections();
      if (inFlight > 0) {
        logger.info('draining', { inFlight, timeoutMs: config.server.drainTimeoutMs });
        await new Promise<void>((resolve) => {
          idle = resolve;
          setTimeout(resolve, config.server.drainTimeoutMs).unref();
        });
      }
      server.closeAllConnections();
      await gateway.close();
      logger.info('stopped', { unfinished: inFlight });
    })();
    return stopping;
  };
  return { gateway, server, url, shutdown };
}
