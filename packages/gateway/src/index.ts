/** @autocap/gateway: the owned layer. */

export { hashKey, newVirtualKey } from './auth/keys.js';
export type { GatewayConfig, ModelConfig } from './config/config.js';
export { renderDefaultConfigYaml } from './config/discover.js';
export { loadConfig } from './config/load-config.js';
export { DEMO_MODEL, startDemoUpstream } from './demo/demo-model.js';
export { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { exportLedger } from './ledger/ledger-export.js';
export { ingestLeftovers } from './ledger/ledger-leftovers.js';
export { defaultSpoolDirectory } from './ledger/ledger-spool.js';
export { type RunningGateway, startGateway } from './server/node-server.js';
export {
  KEY_ROLES,
  type KeyRole,
  type Limits,
  NO_LIMITS,
  type TeamRecord,
  USAGE_GROUPS,
  type UsageGroup,
  type UsageRow,
} from './store/governance-types.js';
export { openStore } from './store/open-store.js';
export { openSqliteStore } from './store/sqlite/sqlite-store.js';
export type { GatewayStore, LedgerEntry, VerifyResult, VirtualKeyRecord } from './store/store.js';
