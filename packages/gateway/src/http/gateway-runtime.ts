/** What request handlers share: configuration, upstreams, the ledger, and injected time and chance. */

import type { Authenticator } from '../auth/keys.js';
import type { GatewayConfig } from '../config/config.js';
import type { BudgetGuard } from '../governance/budget-guard.js';
import type { Logger } from '../ops/logger.js';
import type { GatewayMetrics } from '../ops/metrics.js';
import type { CancelSignal } from '../providers/cancellation.js';
import type { Upstream } from '../routing/failover.js';
import type { GatewayStore, LedgerEntryInput } from '../store/store.js';

export interface LedgerSink {
  /** Resolves once the entry is durably committed. */
  write(entry: LedgerEntryInput): Promise<void>;
  /** Waits (bounded) until every entry written so far is readable from the store. */
  caughtUp(): Promise<void>;
  readonly depth: number;
}

export interface GatewayRuntime {
  readonly config: GatewayConfig;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly store: GatewayStore;
  readonly ledger: LedgerSink;
  readonly auth: Authenticator;
  /** Budgets and limits of governed keys (governance/budget-guard.ts). */
  readonly governance: BudgetGuard;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number, signal: CancelSignal) => Promise<void>;
  /** False once draining has begun. */
  ready(): boolean;
}
