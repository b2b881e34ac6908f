/**
 * Checks a ledger chain against its hashes, one entry at a time: the one definition of "intact"
 * that every backend's verifyLedger and an auditor's check of an export share.
 */
import { hashEntry } from './ledger-hash.js';
import type { ChainHead, LedgerEntry, VerifyResult } from './store.js';

type VerifyFailure = Extract<VerifyResult, { ok: false }>;

/**
 * Checks a stream of entries in (chainId, seq) order, one at a time (constant memory), so every
 * backend's verifyLedger and an auditor's check of a JSONL export share one definition of "intact".
 * Reports the first problem: `altered` (an entry's hash does not match its content, or disagrees
 * with a recorded or expected head), `missing` (a seq gap, a prevHash that is not the previous
 * entry's hash, or a chain that ends before its head), `reordered` (a seq or chain out of order).
 */
export class LedgerChainVerifier {
  private readonly expectedHeads: ReadonlyMap<string, ChainHead>;
  private readonly recordedHeads: ReadonlyMap<string, ChainHead> | null;
  private readonly seenChains = new Set<string>();
  private chainId: string | null = null;
  private lastSeq = 0;
  private lastHash = '';
  private lastId = '';
  private entries = 0;
  private failure: VerifyFailure | null = null;

  /**
   * @param options.expectedHeads heads kept outside the store: the chain must contain them.
   * @param options.recordedHeads heads the store itself recorded: each chain must end exactly there.
   */
  constructor(options: { expectedHeads?: readonly ChainHead[]; recordedHeads?: readonly ChainHead[] } = {}) {
    this.expectedHeads = new Map((options.expectedHeads ?? []).map((head) => [head.chainId, head]));
    this.recordedHeads = options.recordedHeads
      ? new Map(options.recordedHeads.map((head) => [head.chainId, head]))
      : null;
  }

  /** Checks the next entry. Returns the first problem found so far (then stop feeding), or null. */
  push(entry: LedgerEntry): VerifyFailure | null {
    if (this.failure) return this.failure;
    this.failure = this.check(entry);
    return this.failure;
  }

  /** Ends the stream: checks the last chain's end, and chains that have heads but no entries. */
  finish(): VerifyResult {
    if (this.failure) return this.failure;
    this.failure = this.endChain();
    if (this.failure) return this.failure;
    const heads = [...this.expectedHeads.values(), ...(this.recordedHeads?.values() ?? [])];
    for (const head of heads) {
      if (this.seenChains.has(head.chainId)) continue;
      return fail(
        { chainId: head.chainId, seq: 1, entryId: null },
        'missing',
        `chain has a head at seq ${head.seq} but no entries`,
      );
    }
    return { ok: true, entries: this.entries, chains: this.seenChains.size };
  }

  private check(entry: LedgerEntry): VerifyFailure | null {
    const { chainId, seq, id } = entry;
    const at: Position = { chainId, seq, entryId: id };
    if (chainId !== this.chainId) {
      const ended = this.endChain();
      if (ended) return ended;
      if (this.seenChains.has(chainId)) {
        return fail(at, 'reordered', 'chain appears again after another chain');
      }
      this.seenChains.add(chainId);
      this.chainId = chainId;
      this.lastSeq = 0;
      this.lastHash = '';
    }
    const expectedSeq = this.lastSeq + 1;
    if (seq < expectedSeq) {
      return fail(at, 'reordered', `seq ${seq} comes after seq ${this.lastSeq}`);
    }
    if (seq > expectedSeq) {
      const range =
        seq - 1 === expectedSeq ? `entry ${expectedSeq} is` : `entries ${expectedSeq}..${seq - 1} are`;
      return fail(
        { chainId, seq: expectedSeq, entryId: null },
        'missing',
        `${range} missing (next present: seq ${seq}, id ${id})`,
      );
    }
    let recomputed: string;
    try {
      recomputed = hashEntry(entry.prevHash, chainId, seq, entry);
    } catch (error) {
      return fail(at, 'altered', `entry cannot be hashed: ${errorMessage(error)}`);
    }
    if (recomputed !== entry.hash) {
      return fail(at, 'altered', 'stored hash does not match the entry content');
    }
    if (entry.prevHash !== this.lastHash) {
      const message =
        seq === 1
          ? 'the first entry has a prevHash'
          : `prevHash is not the hash of seq ${seq - 1} (id ${this.lastId}): that entry was replaced ` +
            'and re-hashed, or entries between them were removed and renumbered';
      return fail(at, 'missing', message);
    }
    const recorded = this.recordedHeads?.get(chainId);
    if (this.recordedHeads && (!recorded || seq > recorded.seq)) {
      return fail(at, 'altered', 'entry lies beyond the head the store recorded on append');
    }
    if (recorded && seq === recorded.seq && entry.hash !== recorded.hash) {
      return fail(at, 'altered', 'entry does not match the head the store recorded on append');
    }
    const expected = this.expectedHeads.get(chainId);
    if (expected && seq === expected.seq && entry.hash !== expected.hash) {
      return fail(at, 'altered', 'entry does not match the expected head: the chain was rewritten');
    }
    this.entries += 1;
    this.lastSeq = seq;
    this.lastHash = entry.hash;
    this.lastId = id;
    return null;
  }

  private endChain(): VerifyFailure | null {
    const chainId = this.chainId;
    if (chainId === null) return null;
    for (const [head, source] of [
      [this.recordedHeads?.get(chainId), 'the head the store recorded on append'],
      [this.expectedHeads.get(chainId), 'the expected head'],
    ] as const) {
      if (head && head.seq > this.lastSeq) {
        return fail(
          { chainId, seq: this.lastSeq + 1, entryId: null },
          'missing',
          `chain ends at seq ${this.lastSeq} but ${source} is seq ${head.seq}: the newest entries were removed`,
        );
      }
    }
    return null;
  }
}

interface Position {
  readonly chainId: string;
  readonly seq: number;
  readonly entryId: string | null;
}

function fail(at: Position, problem: VerifyFailure['problem'], detail: string): VerifyFailure {
  const { chainId, seq, entryId } = at;
  const entry = entryId === null ? '' : ` (id ${entryId})`;
  return {
    ok: false,
    chainId,
    seq,
    entryId,
    problem,
    message: `chain ${chainId} seq ${seq}${entry}: ${detail}`,
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
