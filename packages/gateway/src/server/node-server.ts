/**
 * The only place that opens a port. Node's HTTP server with bounds on everything a client
 * controls: header and request time (slowloris), idle keep-alive, concurrent requests (excess is
 * shed with a 503 before any work), requests the HTTP parser refuses (a JSON 400/408/431), and a
 * drain on shutdown that lets in-flight streams finish.
 */
import { createServer, type Server, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { GatewayConfig } from '../config/config.js';
import { createGateway, type Gateway, type GatewayOptions } from '../gateway.js';
import { GatewayError } from '../http/gateway-error.js';
import { sendJson } from '../http/handle-request.js';
import { preloadTokenizer } from '../metering/estimate-tokens.js';

/** Bounds on what a client controls at the HTTP layer, before any request handler runs. */
const LIMITS = {
  /** Time a client gets to send its whole request head (slowloris). */
  headersTimeoutMs: 10_000,
  /** Time a client gets to send the whole request, body included. */
  requestTimeoutMs: 60_000,
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /**
   * How often the two timeouts above are checked. Node's default is 30 s, which would let a
   * slowloris client hold its connection for up to 40 s instead of 10.
   */
  checkIntervalMs: 1_000,
} as const;

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
  const finished = (): void => {
    inFlight--;
    if (inFlight === 0) idle?.();
  };
  const server = createServer(
    {
      // The Host header is never read (handle-request.ts), so its absence changes nothing either.
      requireHostHeader: false,
      headersTimeout: LIMITS.headersTimeoutMs,
      requestTimeout: LIMITS.requestTimeoutMs,
      keepAliveTimeout: LIMITS.keepAliveTimeoutMs,
      connectionsCheckingInterval: LIMITS.checkIntervalMs,
    },
    (incoming, response) => {
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
      gateway.handle(incoming, response).then(finished, (error: unknown) => {
        logger.error('unhandled request failure', { error: String(error) });
        finished();
      });
    },
  );
  server.maxHeadersCount = 100;
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) =>
    refuseMalformed(error, socket, server),
  );

  // Token counting (for streams without usage) loads its tables (about 0.4 s of CPU) before the
  // port opens: loaded after, it would stall the first requests of a gateway just started.
  await preloadTokenizer().catch((error: unknown) =>
    logger.warn('tokenizer unavailable', { error: String(error) }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, a server error (accept failing with EMFILE under a connection flood) is
  // logged: without a listener Node would throw it and take every in-flight request down.
  server.on('error', (error: Error) => logger.error('server error', { error: String(error) }));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
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

/**
 * A request Node's parser refused (or a client too slow to send one) gets a JSON error with the
 * right status and the connection is closed. Nothing is written when a response is already on
 * its way on that socket: bytes in the middle of it would corrupt what the client reads.
 */
function refuseMalformed(error: Error & { code?: string }, socket: Socket, server: Server): void {
  const inProgress = Reflect.get(socket, '_httpMessage') as { headersSent?: boolean } | null | undefined;
  if (error.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const failure =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new GatewayError(
          'request_timeout',
          `The request did not arrive in time: send the headers within ${server.headersTimeout / 1000} s and the whole request within ${server.requestTimeout / 1000} s.`,
        )
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new GatewayError(
            'headers_too_large',
            'The request headers are too large (16 KB at most): send a shorter Authorization header or fewer headers.',
          )
        : new GatewayError(
            'invalid_request',
            `The request is not valid HTTP (${error.code ?? 'unparseable'}).`,
          );
  const body = JSON.stringify(failure.toBody());
  socket.end(
    `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status] ?? ''}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
