import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommit } from './sqlite-group-commit.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function database(): { db: Database.Database; path: string } {
  const folder = mkdtempSync(join(tmpdir(), 'autocap-group-commit-'));
  folders.push(folder);
  const path = join(folder, 'g.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (v INTEGER NOT NULL CHECK (v >= 0))');
  return { db, path };
}

describe('GroupCommit', () => {
  it('runs each work as if alone: a throw rolls back only its own writes, later works see earlier ones', async () => {
    const { db, path } = database();
    const commits = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const count = () => (db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;
    const first = commits.run(() => insert.run(1).changes);
    const failing = commits.run(() => {
      insert.run(2);
      insert.run(-1); // CHECK fails: the 2 above must go too
    });
    const third = commits.run(() => {
      insert.run(3);
      return count(); // sees the first work's row, not the failed one's
    });
    // Nothing is committed before the turn ends: another connection sees an empty table.
    const other = new Database(path, { readonly: true });
    expect((other.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(0);
    await expect(first).resolves.toBe(1);
    await expect(failing).rejects.toThrow(/CHECK constraint failed/);
    await expect(third).resolves.toBe(2);
    expect(db.prepare('SELECT v FROM t ORDER BY v').all()).toEqual([{ v: 1 }, { v: 3 }]);
    expect((other.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(2);
    other.close();
    db.close();
  });

  it('rejects every work of a batch whose transaction cannot start', async () => {
    const { db, path } = database();
    db.pragma('busy_timeout = 0');
    const commits = new GroupCommit(db);
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    const works = [1, 2].map((v) => commits.run(() => db.prepare('INSERT INTO t (v) VALUES (?)').run(v)));
    for (const work of works) await expect(work).rejects.toThrow(/locked|busy/i);
    holder.exec('ROLLBACK');
    holder.close();
    await expect(commits.run(() => db.prepare('INSERT INTO t (v) VALUES (5)').run().changes)).resolves.toBe(
      1,
    );
    db.close();
  });
});
