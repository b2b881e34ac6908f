/**
 * Request ids are UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ledger entry
 * ids derive from them and are indexed, so time-ordered ids land at the end of the index B-tree
 * rather than on a random page each, which keeps every ledger commit small.
 */
import { randomUUID } from 'node:crypto';

export function requestId(nowMs: number = Date.now()): string {
  const random = randomUUID(); // v4: xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, V the variant
  const time = Math.floor(nowMs).toString(16).padStart(12, '0').slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}
