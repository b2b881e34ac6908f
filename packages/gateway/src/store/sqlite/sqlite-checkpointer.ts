/**
 * Moves SQLite's WAL checkpoints off the request path. With autocheckpoint on, the commit that
 * crosses 1,000 WAL pages copies them into the database file and fsyncs it twice, blocking the
 * event loop for milliseconds. The store turns autocheckpoint off and this worker thread, on its
 * own connection, runs a PASSIVE checkpoint every `intervalMs` (it never blocks the writer; SQLite
 * restarts the WAL from the front once a checkpoint has caught up). Pages rewritten many times
 * between checkpoints are copied once, so there is less I/O in all, too.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: the next tick retries */ }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** Where the worker loads better-sqlite3 from, or null when it cannot be found from here. */
function betterSqlitePath(): string | null {
  try {
    return createRequire(import.meta.url).resolve('better-sqlite3');
  } catch {
    return null; // bundled somewhere without node_modules: SQLite keeps checkpointing by itself
  }
}

export class SqliteCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  /** A checkpointer, or null when the worker could not load SQLite (autocheckpoint stays on). */
  static start(path: string, intervalMs = 1000): SqliteCheckpointer | null {
    const module = betterSqlitePath();
    return module === null ? null : new SqliteCheckpointer(module, path, intervalMs);
  }

  private constructor(module: string, path: string, intervalMs: number) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, path, intervalMs } });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    // A checkpoint that fails to start (a missing native module in the worker) only means the WAL
    // grows until the store closes, which checkpoints it; it is not worth failing requests over.
    this.worker.on('error', () => {});
    this.worker.unref();
  }

  /** Stops the worker; the store's own close then checkpoints what is left. */
  async close(): Promise<void> {
    this.worker.postMessage('close');
    await this.exited;
  }
}
