/**
 * Request ids are UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ledger entry
 * ids derive from them and are indexed, so time-ordered ids land at the end of the index B-tree
 * rather than on a random page each, which keeps every ledger commit small.
 */
import { randomUUID } from 'node:crypto';

let prefixMs = -1;
let prefix = '';

export function requestId(nowMs: number = Date.now()): string {
  const ms = Math.floor(nowMs);
  if (ms !== prefixMs) {
    // Many requests share a millisecond under load: format its prefix once.
    const time = ms.toString(16).padStart(12, '0').slice(-12);
    prefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
    prefixMs = ms;
  }
  return prefix + randomUUID().slice(15); // v4 is xxxxxxxx-xxxx-4xxx-Vxxx-..., V the variant
}
