/**
 * The ledger's local journal (the gateway writes every entry here first; ledger-writer.ts), which
 * is also where entries wait while the database cannot be reached: ledger entries, one canonical
 * JSON object a line, appended to `<directory>/<chainId>.jsonl`, each batch written with one
 * writeSync (and one fsync unless `fsync: false`), so a write() can resolve durably whatever the
 * database is doing. The replayer reads it back from the front, one batch at a time (memory holds
 * one batch, never the spool), and records how far it got in a sidecar file `<chainId>.offset`
 * (written to a temporary file, fsynced, renamed), at most once a second and on close: after a
 * crash, replay may start a little early, and skips by id what the store holds. Once everything
 * is replayed the data file is truncated to zero and the sidecar removed.
 *
 * Crash safety, checked when the spool is opened:
 * - a line cut short by a crash during an append (never acknowledged) is cut off;
 * - a sidecar beyond the end of the file (a crash between truncating and removing the sidecar),
 *   or not at a line boundary, is discarded: replay starts from the front, and the ledger store's
 *   `ledgerEntryIds` lets the replayer skip what was already appended (exactly once);
 * - an unreadable line followed by readable ones is corruption: opening fails, naming the file.
 *
 * Bounded: an append that would take the file past `maxBytes` throws LedgerSpoolFullError and
 * writes nothing, rather than filling the disk.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { canonicalizeEntry } from '../store/ledger-hash.js';
import type { LedgerEntryInput } from '../store/store.js';
import { SpoolCache } from './spool-cache.js';
import { SpoolOffset, syncDirectory } from './spool-offset.js';
import { claimSpool, releaseSpool } from './spool-owner.js';

/** Default bound of one chain's spool file: 1 GiB. */
export const DEFAULT_SPOOL_MAX_BYTES = 1024 ** 3;
const READ_CHUNK = 1024 * 1024;
const NEWLINE = 0x0a;

/** The spool is full: the database has been unreachable for too long. Nothing was written. */
export class LedgerSpoolFullError extends Error {
  override readonly name = 'LedgerSpoolFullError';
}

export interface LedgerSpoolOptions {
  /** Created (with its parents) on the first append. */
  readonly directory: string;
  readonly chainId: string;
  /** Largest size of the spool file, in bytes. Default 1 GiB. */
  readonly maxBytes?: number;
  /**
   * fsync each append and offset update (default true): survives power loss. Without it a write
   * still survives the process being killed, since the data is in the kernel once writeSync returns.
   */
  readonly fsync?: boolean;
  /** Shortest time between two writes of the replay offset sidecar (default 1000 ms). */
  readonly offsetEveryMs?: number;
  /** Clock for `offsetEveryMs` (default Date.now). */
  readonly now?: () => number;
}

/** Entries read from the front of the spool; pass it to `consume` once they are in the store. */
export interface SpoolBatch {
  readonly entries: readonly LedgerEntryInput[];
  /** Byte offset just past the batch's last line. */
  readonly end: number;
  /** Every entry was spooled by this process without ever being sent to the store. */
  readonly fresh: boolean;
}

/**
 * Most entries kept in memory for replay (about 10 MB): a second of traffic at 8,000 requests/s.
 * Past it the cache is dropped until the spool is empty, and replay reads the file back and parses
 * every line, which costs more CPU than the request path spends on an entry. A PostgreSQL append
 * that takes 150 ms at 7,000 requests/s already holds 1,000 entries.
 */
const MAX_CACHED_ENTRIES = 8192;

/** Where the gateway spools by default: beside its SQLite file, or `.autocap/spool` for `:memory:`. */
export function defaultSpoolDirectory(sqlitePath: string): string {
  if (sqlitePath === ':memory:' || sqlitePath === '') return resolve('.autocap', 'spool');
  return join(dirname(sqlitePath), `${basename(sqlitePath)}.spool`);
}

export class LedgerSpool {
  readonly path: string;
  readonly maxBytes: number;
  private readonly directory: string;
  private readonly offsetFile: SpoolOffset;
  private readonly chainId: string;
  private fd: number | null = null;
  /** Size of the data file. */
  private size = 0;
  /** Offset of the first entry not yet replayed. */
  private offset = 0;
  private pending = 0;
  private readonly fsync: boolean;
  private readonly cache = new SpoolCache(MAX_CACHED_ENTRIES);

  constructor(options: LedgerSpoolOptions) {
    this.directory = options.directory;
    this.fsync = options.fsync ?? true;
    this.chainId = options.chainId;
    this.maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 1) {
      throw new RangeError(`spool maxBytes must be a positive integer, got ${this.maxBytes}`);
    }
    const name = encodeURIComponent(options.chainId);
    this.path = join(this.directory, `${name}.jsonl`);
    this.offsetFile = new SpoolOffset(join(this.directory, `${name}.offset`), {
      directory: this.directory,
      fsync: this.fsync,
      everyMs: options.offsetEveryMs ?? 1000,
      now: options.now ?? Date.now,
    });
    this.recover();
  }

  /** Entries waiting to be replayed. */
  get entries(): number {
    return this.pending;
  }

  /** Size of the spool file in bytes (replayed entries included, until it is truncated). */
  get bytes(): number {
    return this.size;
  }

  /**
   * Appends the entries with one write (and one fsync). `fresh`: none of them was ever sent to the
   * store, so replay need not ask which are stored. Throws LedgerSpoolFullError, or an I/O error.
   */
  append(entries: readonly LedgerEntryInput[], fresh = false): void {
    if (entries.length === 0) return;
    // The canonical text (already made when the entry was queued) is the entry as JSON.
    let text = '';
    let size = 0;
    const lineBytes: number[] = [];
    for (const entry of entries) {
      const line = `${canonicalizeEntry(entry)}\n`;
      const bytes = Buffer.byteLength(line);
      text += line;
      size += bytes;
      lineBytes.push(bytes);
    }
    if (this.size + size > this.maxBytes) {
      throw new LedgerSpoolFullError(
        `the ledger spool ${this.path} is full (${this.size} of ${this.maxBytes} bytes; ${this.pending} ` +
          `entries wait for the database): ${entries.length} ${entries.length === 1 ? 'entry was' : 'entries were'} refused`,
      );
    }
    const fd = this.open();
    try {
      // The text goes to the kernel as it is (no Buffer of ours on the request path); a short write
      // (a disk filling up) is finished from its bytes.
      let written = writeSync(fd, text);
      if (written < size) {
        const data = Buffer.from(text, 'utf8');
        while (written < size) written += writeSync(fd, data, written, size - written);
      }
      if (this.fsync) fsyncSync(fd);
    } catch (error) {
      // Leave no half batch behind: it was not acknowledged.
      try {
        ftruncateSync(fd, this.size);
      } catch {
        // recover() cuts off a torn line at the next open.
      }
      throw error;
    }
    this.cache.add(entries, lineBytes, this.size, fresh);
    this.size += size;
    this.pending += entries.length;
  }

  /** Up to `max` entries from the front of the spool (fewer at its end), in append order. */
  read(max: number): SpoolBatch {
    return this.cache.read(this.offset, max) ?? this.readFile(max);
  }

  private readFile(max: number): SpoolBatch {
    const entries: LedgerEntryInput[] = [];
    let end = this.offset;
    if (this.fd === null || this.pending === 0) return { entries, end, fresh: false };
    let carry = Buffer.alloc(0);
    let position = this.offset;
    while (entries.length < max && position < this.size) {
      const chunk = Buffer.alloc(Math.min(READ_CHUNK, this.size - position));
      const read = readSync(this.fd, chunk, 0, chunk.length, position);
      if (read === 0) break;
      position += read;
      let buffer =
        carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      let start = 0;
      for (let newline = buffer.indexOf(NEWLINE); newline !== -1; newline = buffer.indexOf(NEWLINE, start)) {
        entries.push(this.parse(buffer.subarray(start, newline), end));
        end += newline - start + 1;
        start = newline + 1;
        if (entries.length === max) break;
      }
      buffer = buffer.subarray(start);
      carry = Buffer.from(buffer);
    }
    return { entries, end, fresh: false };
  }

  /** Marks a batch from `read` as replayed. Truncates the spool once everything is. */
  consume(batch: SpoolBatch): void {
    if (batch.entries.length === 0) return;
    this.offset = batch.end;
    this.pending -= batch.entries.length;
    this.cache.consume(this.offset);
    if (this.pending === 0 && this.offset === this.size) {
      this.truncate();
      return;
    }
    this.offsetFile.record(this.offset);
  }

  /**
   * Records the entries of a batch the store refused for good in `<chainId>.dead-letter.jsonl`
   * beside the spool (one line: the reason and the entries), then consumes the batch.
   */
  setAside(batch: SpoolBatch, refused: readonly LedgerEntryInput[], reason: string): string {
    const path = this.path.replace(/\.jsonl$/, '.dead-letter.jsonl');
    const fd = openSync(path, 'a');
    try {
      const line = `${JSON.stringify({ reason, entries: refused })}\n`;
      writeSync(fd, line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.consume(batch);
    return path;
  }

  close(): void {
    // A clean stop leaves the exact position, so the next start checks nothing twice.
    if (this.pending > 0) this.offsetFile.record(this.offset, true);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /**
   * Stops keeping appended entries in memory until the spool is empty again: the store is down,
   * and an outage must not grow the heap. Replay then reads the file back.
   */
  dropCache(): void {
    this.cache.off();
  }

  /** Gives up the claim `open` made (see spool-owner.ts). */
  release(): void {
    releaseSpool(this.directory, this.chainId);
  }

  private open(): number {
    if (this.fd !== null) return this.fd;
    mkdirSync(this.directory, { recursive: true });
    // Claims the spool for this process until `release`, so that no other replays it meanwhile.
    claimSpool(this.directory, this.chainId);
    const created = !existsSync(this.path);
    // 'a+': every write goes to the end (O_APPEND); reads take an explicit position.
    this.fd = openSync(this.path, 'a+');
    if (created) syncDirectory(this.directory);
    return this.fd;
  }

  private truncate(): void {
    const fd = this.open();
    ftruncateSync(fd, 0);
    if (this.fsync) fsyncSync(fd);
    // A crash here leaves a sidecar beyond the (empty) file, which recover() discards.
    this.offsetFile.remove();
    this.size = 0;
    this.offset = 0;
    this.pending = 0;
    this.cache.reset();
  }

  private parse(line: Buffer, at: number): LedgerEntryInput {
    let value: unknown;
    try {
      value = JSON.parse(line.toString('utf8'));
    } catch {
      value = null;
    }
    if (typeof value !== 'object' || value === null || typeof (value as { id?: unknown }).id !== 'string') {
      throw new Error(
        `the ledger spool ${this.path} has an unreadable line at byte ${at}: move the file aside and ` +
          'replay its readable lines by hand',
      );
    }
    return value as LedgerEntryInput;
  }

  /** Reads the state a previous process left: see the header for what is repaired. */
  private recover(): void {
    if (!existsSync(this.path)) {
      this.offsetFile.remove();
      return;
    }
    const fd = this.open();
    this.size = fstatSync(fd).size;
    this.offset = this.offsetFile.read(fd, this.size);
    const scan = this.scan(fd);
    if (scan.validEnd < this.size) {
      ftruncateSync(fd, scan.validEnd);
      fsyncSync(fd);
      this.size = scan.validEnd;
    }
    this.pending = scan.lines;
    if (this.pending === 0) this.truncate();
  }

  /** Counts the readable lines after the offset; `validEnd` is where the readable lines end. */
  private scan(fd: number): { lines: number; validEnd: number } {
    let lines = 0;
    let validEnd = this.offset;
    let firstBad: number | null = null;
    let carry = Buffer.alloc(0);
    let lineStart = this.offset;
    for (let position = this.offset; position < this.size; ) {
      const chunk = Buffer.alloc(Math.min(READ_CHUNK, this.size - position));
      const read = readSync(fd, chunk, 0, chunk.length, position);
      if (read === 0) break;
      position += read;
      const buffer =
        carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      let start = 0;
      for (let newline = buffer.indexOf(NEWLINE); newline !== -1; newline = buffer.indexOf(NEWLINE, start)) {
        if (readable(buffer.subarray(start, newline))) {
          if (firstBad !== null) {
            throw new Error(
              `the ledger spool ${this.path} is corrupt at byte ${firstBad} (readable entries follow): ` +
                'move the file aside and replay its readable lines by hand',
            );
          }
          lines += 1;
          validEnd = lineStart + newline - start + 1;
        } else {
          firstBad ??= lineStart;
        }
        lineStart += newline - start + 1;
        start = newline + 1;
      }
      carry = Buffer.from(buffer.subarray(start));
    }
    return { lines, validEnd };
  }
}

function readable(line: Buffer): boolean {
  try {
    const value: unknown = JSON.parse(line.toString('utf8'));
    return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
  } catch {
    return false;
  }
}
