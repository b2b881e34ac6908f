/**
 * The spool's replay offset sidecar, `<chainId>.offset` beside the data file (ledger-spool.ts):
 * how far replay got, written to a temporary file (fsynced with `fsync`) and renamed over it, at
 * most once every `everyMs`: each write is an open, write, close and rename, and the replayer may
 * consume dozens of batches a second. After a crash, replay may start a little early, and skips by
 * entry id what the store already holds.
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';

const NEWLINE = 0x0a;

export interface SpoolOffsetOptions {
  readonly directory: string;
  readonly fsync: boolean;
  /** Shortest time between two writes. */
  readonly everyMs: number;
  readonly now: () => number;
}

export class SpoolOffset {
  /** False once this process removed the file and has not written it since. */
  private mayExist = true;
  /** The offset the file holds, as far as this process knows, and when this process wrote it. */
  private written = 0;
  private writtenAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly path: string,
    private readonly options: SpoolOffsetOptions,
  ) {}

  /**
   * The recorded offset when it falls at a line start of the data file (`fd`, `size` bytes), else
   * 0: a crash between truncating the data and removing this file leaves it beyond the end.
   */
  read(fd: number, size: number): number {
    let offset = 0;
    try {
      offset = Number(readFileSync(this.path, 'utf8').trim());
    } catch {
      return 0;
    }
    if (!Number.isSafeInteger(offset) || offset <= 0 || offset > size) return 0;
    const before = Buffer.alloc(1);
    readSync(fd, before, 0, 1, offset - 1);
    this.written = before[0] === NEWLINE ? offset : 0;
    return this.written;
  }

  /** Records `offset`, unless the last write was under `everyMs` ago; `exact`: now, if it moved. */
  record(offset: number, exact = false): void {
    if (exact ? offset === this.written : this.options.now() - this.writtenAtMs < this.options.everyMs)
      return;
    const temporary = `${this.path}.tmp`;
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, `${offset}\n`);
      if (this.options.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.path);
    this.mayExist = true;
    this.written = offset;
    this.writtenAtMs = this.options.now();
    if (this.options.fsync) syncDirectory(this.options.directory);
  }

  /** Removes the file (the spool is empty). */
  remove(): void {
    // Removing a file that is not there costs an exception in Node: the common case skips it.
    if (this.mayExist) rmSync(this.path, { force: true });
    this.mayExist = false;
    this.written = 0;
  }
}

/** Makes a new or renamed directory entry durable; not every platform can open a directory. */
export function syncDirectory(directory: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(directory, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot fsync a directory; its metadata is journaled.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
