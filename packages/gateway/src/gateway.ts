/**
 * Assembles a gateway from its configuration: the store, the ledger writer, one provider and
 * circuit breaker per model, authentication, metrics and logs. `startGateway` (server/node-server.ts)
 * opens the port; tests can also drive `handle` directly.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Authenticator } from './auth/keys.js';
import type { GatewayConfig } from './config/config.js';
import { BudgetGuard } from './governance/budget-guard.js';
import type { GatewayRuntime } from './http/gateway-runtime.js';
import { handleRequest } from './http/handle-request.js';
import { defaultSpoolDirectory } from './ledger/ledger-spool.js';
import { LedgerWriter } from './ledger/ledger-writer.js';
import { createLogger, type Logger } from './ops/logger.js';
import { GatewayMetrics, Gauge } from './ops/metrics.js';
import { sleepUnlessCancelled } from './providers/cancellation.js';
import { createProvider } from './providers/registry.js';
import { CircuitBreaker } from './routing/circuit-breaker.js';
import type { Upstream } from './routing/failover.js';
import { openStore } from './store/open-store.js';
import type { GatewayStore } from './store/store.js';

export interface GatewayOptions {
  readonly now?: () => number;
  readonly random?: () => number;
  readonly logger?: Logger;
  /** Where log lines go when no logger is given. Default: stderr. */
  readonly writeLog?: (line: string) => void;
  /** Use this store instead of opening `config.store.sqlite`. */
  readonly store?: GatewayStore;
  /** The ledger chain this instance appends to. Default: `config.store.chainId`. */
  readonly chainId?: string;
}

export interface Gateway {
  readonly runtime: GatewayRuntime;
  handle(incoming: IncomingMessage, response: ServerResponse): Promise<void>;
  /** Stop taking requests (readiness turns 503). */
  beginDrain(): void;
  /** Flush the ledger and close the store and upstream pools. */
  close(): Promise<void>;
}

const CIRCUIT = { failureThreshold: 5, cooldownMs: 10_000 };

export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const now = options.now ?? Date.now;
  const logger =
    options.logger ??
    createLogger({
      level: config.logging.level,
      secrets: config.secrets,
      write: options.writeLog ?? ((line) => process.stderr.write(line)),
      now,
    });
  const store = options.store ?? openStore(config.store);
  await store.migrate();
  const chainId = options.chainId ?? config.store.chainId;
  const ledger = new LedgerWriter(store, {
    chainId,
    // Every entry is journaled beside the SQLite file (the durable point a response waits for) and
    // moved into the store in batches; while the database is unreachable the journal holds them.
    spool: {
      directory: defaultSpoolDirectory(config.store.sqlite),
      journal: true,
      fsync: config.store.durability === 'power',
    },
    onError: (error, failure) => logger.error('ledger append failed', { ...failure, error: String(error) }),
  });

  const upstreams = new Map<string, Upstream>();
  for (const model of config.models) {
    upstreams.set(model.name, {
      config: model,
      provider: createProvider(model.provider, {
        baseUrl: model.baseUrl,
        upstreamModel: model.upstreamModel,
        apiKey: model.apiKey,
        maxConnections: model.maxConnections,
      }),
      breaker: new CircuitBreaker({ ...CIRCUIT, now }),
    });
  }

  const metrics = new GatewayMetrics();
  const circuitValue = { closed: 0, half_open: 1, open: 2 } as const;
  metrics.addGauge(
    new Gauge('autocap_circuit_state', 'Circuit breaker per model: 0 closed, 1 half-open, 2 open.', () =>
      [...upstreams.values()].map((upstream) => ({
        labels: { model: upstream.config.name },
        value: circuitValue[upstream.breaker.state],
      })),
    ),
  );
  metrics.addGauge(
    new Gauge('autocap_ledger_queue_depth', 'Ledger entries waiting for their group commit.', () => [
      { labels: {}, value: ledger.depth },
    ]),
  );
  metrics.addGauge(
    new Gauge(
      'autocap_ledger_spool_entries',
      'Ledger entries spooled to local disk, waiting for the database.',
      () => [{ labels: {}, value: ledger.spoolDepth }],
    ),
  );

  let draining = false;
  const runtime: GatewayRuntime = {
    config,
    upstreams,
    store,
    ledger,
    auth: new Authenticator({ masterKey: config.auth.masterKey, keys: store, teams: store.governance, now }),
    governance: new BudgetGuard({
      store: store.governance,
      now,
      logger,
      requestTimeoutMs: config.server.requestTimeoutMs,
      settings: config.governance,
      instanceId: chainId,
    }),
    metrics,
    logger,
    now,
    random: options.random ?? Math.random,
    sleep: sleepUnlessCancelled,
    ready: () => !draining,
  };
  // Leases a crashed run of this instance left would otherwise hold budget until they expire.
  await runtime.governance.releaseStale();
  return {
    runtime,
    handle: (incoming, response) => handleRequest(runtime, incoming, response),
    beginDrain() {
      draining = true;
    },
    async close() {
      draining = true;
      await ledger.flush();
      await ledger.close();
      await runtime.governance.close();
      await Promise.all([...upstreams.values()].map((upstream) => upstream.provider.close()));
      await store.close();
    },
  };
}
