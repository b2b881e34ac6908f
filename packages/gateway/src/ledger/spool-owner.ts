/**
 * Which process owns a ledger spool: `<chainId>.owner` beside it holds the pid of the process that
 * opened it. Ledger tools move a spool left by a dead gateway into the store, and leave a live
 * gateway's spool to it (ledger-leftovers.ts).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ownerPath = (directory: string, chainId: string): string =>
  join(directory, `${encodeURIComponent(chainId)}.owner`);

/** Marks the spool as this process's (its directory must exist). */
export function claimSpool(directory: string, chainId: string): void {
  writeFileSync(ownerPath(directory, chainId), `${process.pid}\n`);
}

/** Removes this process's claim; another process's claim is left alone. */
export function releaseSpool(directory: string, chainId: string): void {
  const path = ownerPath(directory, chainId);
  if (existsSync(path) && readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path);
}

/** The pid of a running process that claimed the spool, or null (no claim, or its process is gone). */
export function liveSpoolOwner(directory: string, chainId: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(ownerPath(directory, chainId), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}
