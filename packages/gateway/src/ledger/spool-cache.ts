/**
 * The spool's unreplayed tail, kept in memory as it is appended, so that replaying what this
 * process spooled needs no read back and no JSON parse. Each entry is kept with the byte offset
 * just past its line. Bounded: past `maxEntries` it empties itself and stays off until `reset`
 * (the spool is empty again), and replay reads the file instead.
 */
import type { LedgerEntryInput } from '../store/store.js';

export class SpoolCache {
  /** Consumed slots are cleared at once, so an entry dies young instead of waiting for a trim. */
  private entries: (LedgerEntryInput | undefined)[] = [];
  private ends: number[] = [];
  private fresh: boolean[] = [];
  /** Index of the first entry not yet consumed. */
  private head = 0;
  /** Byte offset where the entry at `head` starts. */
  private start = 0;
  private on = true;

  constructor(private readonly maxEntries: number) {}

  /** Records entries whose lines were appended from byte `start`, with each line's byte length. */
  add(
    entries: readonly LedgerEntryInput[],
    lineBytes: readonly number[],
    start: number,
    fresh: boolean,
  ): void {
    if (!this.on) return;
    if (this.entries.length - this.head + entries.length > this.maxEntries) {
      this.off();
      return;
    }
    if (this.head === this.entries.length) this.start = start;
    let end = start;
    for (let index = 0; index < entries.length; index++) {
      end += lineBytes[index] as number;
      this.entries.push(entries[index] as LedgerEntryInput);
      this.ends.push(end);
      this.fresh.push(fresh);
    }
  }

  /** Up to `max` entries starting at byte `offset`, or null when the cache does not start there. */
  read(offset: number, max: number): { entries: LedgerEntryInput[]; end: number; fresh: boolean } | null {
    if (this.head === this.entries.length || this.start !== offset) return null;
    const stop = Math.min(this.entries.length, this.head + max);
    let fresh = true;
    for (let index = this.head; index < stop; index++) fresh &&= this.fresh[index] as boolean;
    const entries = this.entries.slice(this.head, stop) as LedgerEntryInput[];
    return { entries, end: this.ends[stop - 1] as number, fresh };
  }

  /** Forgets entries whose lines end at or before `offset` (consumed by replay). */
  consume(offset: number): void {
    while (this.head < this.entries.length && (this.ends[this.head] as number) <= offset) {
      this.start = this.ends[this.head] as number;
      this.entries[this.head] = undefined;
      this.head += 1;
    }
    if (this.head === this.entries.length) this.clear();
    else if (this.head > 4096 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.ends = this.ends.slice(this.head);
      this.fresh = this.fresh.slice(this.head);
      this.head = 0;
    }
  }

  /** Empties the cache and keeps it off until `reset`. */
  off(): void {
    this.clear();
    this.on = false;
  }

  /** The spool was emptied: start caching again. */
  reset(): void {
    this.clear();
    this.on = true;
  }

  private clear(): void {
    this.entries = [];
    this.ends = [];
    this.fresh = [];
    this.head = 0;
  }
}
