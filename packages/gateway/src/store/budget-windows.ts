/**
 * Budget windows in UTC: a `day` starts at 00:00 UTC, a `month` on the 1st at 00:00 UTC, and the
 * `total` window starts at 0 and never resets. Both store backends and the budget guard use these,
 * so a window means the same thing everywhere.
 */
import type { BudgetWindow } from './governance-types.js';

const DAY_MS = 86_400_000;

/** The epoch ms at which the window containing `nowMs` started. */
export function windowStartMs(window: BudgetWindow, nowMs: number): number {
  if (window === 'total') return 0;
  if (window === 'day') return Math.floor(nowMs / DAY_MS) * DAY_MS;
  const date = new Date(nowMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/** When the window containing `nowMs` ends and a fresh one starts; null for `total`. */
export function windowResetMs(window: BudgetWindow, nowMs: number): number | null {
  if (window === 'total') return null;
  if (window === 'day') return windowStartMs('day', nowMs) + DAY_MS;
  const date = new Date(nowMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** The start of the UTC minute containing `nowMs` (rate counters). */
export function minuteStartMs(nowMs: number): number {
  return Math.floor(nowMs / 60_000) * 60_000;
}
