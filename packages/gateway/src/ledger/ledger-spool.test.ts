import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleLedgerEntries, sampleLedgerEntry } from '../test-support/ledger-entries.js';
import { defaultSpoolDirectory, LedgerSpool, LedgerSpoolFullError } from './ledger-spool.js';

let directory: string;
const opened: LedgerSpool[] = [];

beforeEach(() => {
  directory = join(mkdtempSync(join(tmpdir(), 'autocap-spool-')), 'spool');
});

afterEach(() => {
  for (const spool of opened.splice(0)) spool.close();
  rmSync(join(directory, '..'), { recursive: true, force: true });
});

/** Opens the spool as a new process would (the previous instance is simply abandoned). */
function open(maxBytes?: number): LedgerSpool {
  const spool = new LedgerSpool({ directory, chainId: 'gw:1', ...(maxBytes ? { maxBytes } : {}) });
  opened.push(spool);
  return spool;
}

const ids = (entries: readonly { id: string }[]): string[] => entries.map((entry) => entry.id);

describe('LedgerSpool', () => {
  it('creates nothing until the first append', () => {
    const spool = open();
    expect(spool.entries).toBe(0);
    expect(spool.read(10).entries).toEqual([]);
    expect(existsSync(directory)).toBe(false);
  });

  it('round-trips entries exactly, in order, and truncates once all are consumed', () => {
    const spool = open();
    const inputs = [
      ...sampleLedgerEntries(5),
      sampleLedgerEntry(5, {
        id: 'att_ünï_🦜',
        metadata: { ['__proto__']: 'plain', quote: 'a "b"\n\u2028c', nul: 'x\u0000y' },
        costUsd: 0.1 + 0.2,
      }),
    ];
    spool.append(inputs.slice(0, 2));
    spool.append(inputs.slice(2));
    expect(spool.path).toBe(join(directory, 'gw%3A1.jsonl'));
    expect(spool.entries).toBe(6);
    const first = spool.read(4);
    expect(first.entries).toEqual(inputs.slice(0, 4));
    spool.consume(first);
    expect(spool.entries).toBe(2);
    const rest = spool.read(100);
    expect(rest.entries).toEqual(inputs.slice(4));
    expect(Object.keys(rest.entries[1]?.metadata ?? {})).toContain('__proto__');
    spool.consume(rest);
    expect(spool.entries).toBe(0);
    expect(statSync(spool.path).size).toBe(0);
    expect(existsSync(join(directory, 'gw%3A1.offset'))).toBe(false);
    spool.append([sampleLedgerEntry(9)]);
    expect(ids(spool.read(10).entries)).toEqual([sampleLedgerEntry(9).id]);
  });

  it('replays from memory what a slow store let pile up (5,000 entries), and from the file past its bound', () => {
    const spool = open();
    // A PostgreSQL append that takes a second at 5,000 requests/s: appends go on meanwhile.
    const held = sampleLedgerEntries(5000);
    for (let i = 0; i < held.length; i += 50) spool.append(held.slice(i, i + 50), true);
    const batch = spool.read(2048);
    // The very objects appended: no read back, no JSON parse.
    expect(batch.entries[0]).toBe(held[0]);
    expect(batch.entries[2047]).toBe(held[2047]);
    spool.consume(batch);
    // Past the bound the cache is dropped until the spool is empty: replay reads the file.
    const more = sampleLedgerEntries(11_000).slice(5000);
    for (let i = 0; i < more.length; i += 50) spool.append(more.slice(i, i + 50), true);
    const fromFile = spool.read(10);
    expect(fromFile.entries[0]).toEqual(held[2048]);
    expect(fromFile.entries[0]).not.toBe(held[2048]);
  });

  it('reads a batch larger than one read chunk', () => {
    const spool = open();
    const big = sampleLedgerEntries(3).map((entry, index) => ({
      ...entry,
      rawUsage: 'x'.repeat(700_000 + index),
    }));
    spool.append(big);
    const batch = spool.read(10);
    expect(batch.entries).toEqual(big);
    expect(batch.end).toBe(statSync(spool.path).size);
  });

  it('survives a crash after consuming part of the spool: the next process resumes there', () => {
    const spool = open();
    spool.append(sampleLedgerEntries(10));
    spool.consume(spool.read(3));
    // kill -9: nothing is closed; a new process opens the same directory.
    const reopened = open();
    expect(reopened.entries).toBe(7);
    expect(ids(reopened.read(100).entries)).toEqual(ids(sampleLedgerEntries(7, 3)));
  });

  it('records its replay offset at most once a second, and exactly on close', () => {
    let ms = 0;
    const options = { directory, chainId: 'gw:1', offsetEveryMs: 1000, now: () => ms };
    const spool = new LedgerSpool(options);
    opened.push(spool);
    spool.append(sampleLedgerEntries(10));
    spool.consume(spool.read(2)); // written: the first one
    ms += 400;
    spool.consume(spool.read(3)); // not yet: 400 ms later
    // kill -9 now: the next process starts at entry 2 (entries 2-4 are then found in the store).
    const crashed = new LedgerSpool(options);
    opened.push(crashed);
    expect(crashed.entries).toBe(8);
    ms += 700;
    spool.consume(spool.read(1)); // 1.1 s after the last write: written
    expect(new LedgerSpool(options).entries).toBe(4);
    spool.consume(spool.read(1));
    spool.close(); // a clean stop records the exact position
    expect(new LedgerSpool(options).entries).toBe(3);
  });

  it('cuts off a line torn by a crash during an append, which was never acknowledged', () => {
    const spool = open();
    spool.append(sampleLedgerEntries(4));
    const size = statSync(spool.path).size;
    appendFileSync(spool.path, '{"id":"att_torn","requestId":"req_');
    const reopened = open();
    expect(reopened.entries).toBe(4);
    expect(statSync(spool.path).size).toBe(size);
    reopened.append([sampleLedgerEntry(4)]);
    expect(ids(reopened.read(100).entries)).toEqual(ids(sampleLedgerEntries(5)));
  });

  it('drops a garbage tail (zeros after a power loss) but refuses corruption followed by entries', () => {
    const spool = open();
    spool.append(sampleLedgerEntries(2));
    appendFileSync(spool.path, `${'\u0000'.repeat(64)}\n`);
    expect(open().entries).toBe(2);
    appendFileSync(spool.path, `not json\n${JSON.stringify(sampleLedgerEntry(2))}\n`);
    expect(() => open()).toThrow(/gw%3A1\.jsonl is corrupt at byte \d+ \(readable entries follow\)/);
  });

  it('discards an offset left beyond the file by a crash between truncating and removing it', () => {
    const spool = open();
    spool.append(sampleLedgerEntries(6));
    spool.consume(spool.read(2));
    const offsetFile = join(directory, 'gw%3A1.offset');
    const offset = readFileSync(offsetFile, 'utf8');
    spool.consume(spool.read(100)); // truncates and removes the offset file
    writeFileSync(offsetFile, offset); // ...as if the crash came before the removal
    const reopened = open();
    expect(reopened.entries).toBe(0);
    reopened.append(sampleLedgerEntries(2, 10));
    expect(ids(reopened.read(100).entries)).toEqual(ids(sampleLedgerEntries(2, 10)));
  });

  it('ignores an offset that is not at a line boundary, replaying from the front', () => {
    const spool = open();
    spool.append(sampleLedgerEntries(3));
    writeFileSync(join(directory, 'gw%3A1.offset'), '7\n');
    expect(ids(open().read(100).entries)).toEqual(ids(sampleLedgerEntries(3)));
  });

  it('refuses an append past its size bound, writing nothing, and takes entries again once drained', () => {
    const line = Buffer.byteLength(`${JSON.stringify(sampleLedgerEntry(0))}\n`);
    const spool = open(line * 3);
    spool.append([sampleLedgerEntry(0)]);
    spool.append([sampleLedgerEntry(1)]);
    expect(() => spool.append(sampleLedgerEntries(2, 2))).toThrow(LedgerSpoolFullError);
    expect(() => spool.append(sampleLedgerEntries(2, 2))).toThrow(
      /is full \(\d+ of \d+ bytes; 2 entries wait/,
    );
    expect(spool.entries).toBe(2);
    expect(statSync(spool.path).size).toBeLessThanOrEqual(line * 3);
    spool.consume(spool.read(100));
    spool.append(sampleLedgerEntries(2, 2));
    expect(ids(spool.read(100).entries)).toEqual(ids(sampleLedgerEntries(2, 2)));
  });

  it('sets a refused batch aside in a dead-letter file and moves past it', () => {
    const spool = open();
    spool.append(sampleLedgerEntries(4));
    const batch = spool.read(2);
    const path = spool.setAside(batch, batch.entries.slice(1), 'CHECK constraint failed');
    expect(spool.entries).toBe(2);
    const dead = JSON.parse(readFileSync(path, 'utf8'));
    expect(dead).toEqual({ reason: 'CHECK constraint failed', entries: [sampleLedgerEntry(1)] });
    expect(ids(spool.read(100).entries)).toEqual(ids(sampleLedgerEntries(2, 2)));
  });

  it('lives beside the SQLite file by default', () => {
    expect(defaultSpoolDirectory('/var/lib/autocap/autocap.db')).toBe('/var/lib/autocap/autocap.db.spool');
    expect(defaultSpoolDirectory(':memory:')).toBe(join(process.cwd(), '.autocap', 'spool'));
  });
});
