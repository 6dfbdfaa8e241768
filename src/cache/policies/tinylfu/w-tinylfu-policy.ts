/**
 * `tinylfu`: W-TinyLFU, a scan-resistant admission policy in front of a segmented LRU: a new entry
 * must beat the main region's victim by a frequency sketch's estimate to be admitted. Regions, lists,
 * duel and measurements: docs/design/tinylfu.md; the lists' cold helpers: region-lists.ts.
 */
import { growInt32, renumberStamps, type EvictionPolicy, type PolicyContext, type PolicyFactory } from '../policy.js';
import { DeferredIncrements } from './deferred-increments.js';
import { FrequencySketch } from './frequency-sketch.js';
import { HillClimber, sampleRequests } from './hill-climber.js';
import { createKeyHasher, numberHash, randomSeed, stringHash, type KeyHasher } from './key-hash.js';
import { emptyRegionLists, nodesInOrder, regionName, type RegionName } from './region-lists.js';
import type { TinyLfuOptions } from './tinylfu-options.js';

export type { TinyLfuOptions } from './tinylfu-options.js';

const WINDOW = 1;
const CANDIDATE = 2;
const PROBATION = 3;
const PROTECTED = 4;
const REGION_MASK = 7;
/** The entry in slot `s` is node `s + NODE_OFFSET`; nodes 1 to 4, the regions, are the lists' sentinels (see docs/design/tinylfu.md). */
const NODE_OFFSET = 4;
/** Nodes up to this one are sentinels: a list is empty when its sentinel's `next` is at most this. */
const LAST_SENTINEL = PROTECTED;
/** A node's words in `#links`. */
const PREV = 0;
const NEXT = 1;
/** An entry's words in `#state`. */
const STAMP = 0;
const FLAGS = 1;
/** Set in an entry's flags while it is out of the order (pinned); the region bits keep where it was. */
const DETACHED = 8;
/** Set by a hit: the deferred move is made when the entry reaches the old end of its list. */
const REFERENCED = 16;

// Module-local, not imported: an imported constant is read from its module's cell, and checked, at every use.
/** policy.ts's STAMP_LIMIT (stamps stay below it), read on every use. */
const STAMP_LIMIT = 0x7fffffff;
/** A tag's hash bits (see `#tags`; as in deferred-increments.ts). */
const HASH_BITS = ~15;
/** A tag's kept estimate (0 to 15, as the sketch's counters). */
const ESTIMATE_BITS = 15;

/** Share of the main region for protected entries. */
const PROTECTED_FRACTION = 0.8;
/** Once the cache evicts, candidates join probation for free again only after it falls to this share of the budget. */
const FREE_ADMISSION_FRACTION = 0.5;
/** Share of the budget candidates may hold once the cache evicts; beyond it the oldest join probation (see docs/design/tinylfu.md). */
const CANDIDATES_FRACTION = 0.01;
/** ... and at least this many entries of the average size (a default batch is 10). */
const MIN_CANDIDATES = 16;
/** Candidates this warm may be admitted at random even when they lose (flood resistance). */
const WARM_FREQUENCY = 6;

export class WTinyLfuPolicy implements EvictionPolicy {
  readonly tracksUse = true;
  readonly admits = true;
  readonly #context: PolicyContext;
  readonly #maxBytes: number | undefined;
  /** `#maxBytes`, or Infinity without a budget: one number for the test on every insertion. */
  readonly #budgetBytes: number;
  readonly #hash: KeyHasher;
  readonly #seed: number;
  readonly #sketch = new FrequencySketch();
  #random: number;

  // Per node, 20 bytes (docs/design/tinylfu.md, "Per-node memory"). An entry's bytes are the cache's,
  // fixed while it is in the order: `add`, `remove` and `readd` are given them, a move reads `sizeOf`.
  /** Two words per node: its `prev` then its `next` in its region's list. */
  #links!: Int32Array;
  /** The key's hash (bits 4 to 31) and its kept estimate (bits 0 to 3; see deferred-increments.ts). */
  #tags!: Int32Array;
  /** Two words per node: the stamp of the last use (`lastUse`), then the flags (region, DETACHED, REFERENCED). */
  #state!: Int32Array;
  /** The window region's oldest node (the WINDOW sentinel when empty); the candidates are the window's list's entries before it: a
   *  drain moves this mark, not the entry (docs/design/tinylfu.md, "The candidates in the window's list"). */
  #windowHead = WINDOW;
  /** The last stamp given: uses (adds, hits, readds) so far, until renumbered. */
  #stamp = 0;
  readonly #firstStamp: number;

  // Per region (index = region constant): bytes and entries.
  readonly #regionBytes = new Float64Array(5);
  readonly #regionCount = new Int32Array(5);
  /** The bytes in the order: the regions' sum, one field for the insertion path (docs/design/tinylfu.md, "Engine notes"). */
  #held = 0;
  #peakBytes = 0;
  #expectedEntries = 0;
  /** Insertions so far (`add`). */
  #adds = 0;

  /** The window's share of the budget (see hill-climber.ts). */
  readonly #climber = new HillClimber();
  /** The window's and protected's shares in bytes, kept in step with the fraction and the capacity. */
  #windowMax = 0;
  /** Held bytes up to which candidates join probation for free (see `#resize`). */
  #freeAdmissionBytes = 0;
  /** 1 from the first eviction until the cache holds at most `#freeAdmissionBytes` again. */
  #evicting = 0;
  /** Bytes the candidates may hold once the cache evicts (see CANDIDATES_FRACTION). */
  #candidatesMax = 0;
  /** The average bytes per entry held, as of the last sizing of the sketch. */
  #entryBytes = 0;
  #protectedMax = 0;
  // The climber's current sample, counted here (the hot paths count it).
  /** Requests left in the current sample. */
  #sampleLeft = 1;
  /** 0 until the first sample starts. */
  #sampleSize = 0;
  /** `#adds` when it started: every other request of the sample is a hit (`touch`), which then counts nothing more. */
  #sampleStartAdds = 0;

  /** The sketch increments requests defer, and the estimates kept in `#tags`. */
  readonly #increments = new DeferredIncrements(this.#sketch);

  // Flags the hot paths test are numbers (0 or 1), not booleans (see docs/design/tinylfu.md).
  /** 1 when the last `add` left the window over its share for the next duel (no drain since). */
  #windowOverflow = 0;

  // The last `victim()` decision, until the next change: the slot to evict (0: none), the candidate's node that then joins probation.
  #decided = 0;
  #loserSlot = 0;
  #winner = 0;

  constructor(context: PolicyContext, capacity: number, options: TinyLfuOptions = {}) {
    this.#context = context;
    this.#maxBytes = options.maxBytes;
    this.#budgetBytes = options.maxBytes ?? Infinity;
    const seed = (options.seed ?? randomSeed()) | 0;
    this.#seed = seed;
    this.#hash = createKeyHasher(seed);
    this.#random = seed | 1;
    this.#firstStamp = options.firstStamp ?? 0;
    this.#stamp = this.#firstStamp;
    this.#allocate(capacity);
    this.#resize();
  }

  #allocate(capacity: number): void {
    const nodes = capacity + NODE_OFFSET;
    this.#links = new Int32Array(nodes * 2);
    this.#tags = new Int32Array(nodes);
    this.#increments.tags = this.#tags;
    this.#state = new Int32Array(nodes * 2);
    emptyRegionLists(this.#links);
    this.#windowHead = WINDOW;
  }

  grow(capacity: number): void {
    const nodes = capacity + NODE_OFFSET;
    this.#links = growInt32(this.#links, nodes * 2);
    this.#tags = growInt32(this.#tags, nodes);
    this.#increments.tags = this.#tags;
    this.#state = growInt32(this.#state, nodes * 2);
  }

  clear(capacity: number): void {
    this.#allocate(capacity);
    this.#regionBytes.fill(0);
    this.#regionCount.fill(0);
    this.#held = 0;
    this.#peakBytes = 0;
    this.#entryBytes = 0;
    this.#adds = 0;
    this.#stamp = this.#firstStamp;
    this.#sketch.reset();
    this.#increments.clear();
    this.#climber.reset();
    this.#resize();
    this.#sampleLeft = 1;
    this.#sampleSize = 0;
    this.#sampleStartAdds = 0;
    this.#decided = 0;
    this.#windowOverflow = 0;
    this.#evicting = 0;
  }

  /** The sketch's estimate for a key (for tests and diagnostics). */
  frequencyOf(key: unknown): number {
    this.#increments.applyPending();
    return this.#sketch.frequency(this.#hash(key) & HASH_BITS);
  }

  /**
   * The estimate a duel would use for the entry in `slot` (its kept
   * estimate, aged; for tests and diagnostics): at most `frequencyOf` its
   * key, and equal unless other keys collided on all of its counters.
   */
  estimateOf(slot: number): number {
    this.#increments.applyPending();
    return this.#estimate(slot + NODE_OFFSET);
  }

  /** Bytes per region, for tests and diagnostics. */
  get regions(): { window: number; candidates: number; probation: number; protected: number } {
    const b = this.#regionBytes;
    return { window: b[WINDOW]!, candidates: b[CANDIDATE]!, probation: b[PROBATION]!, protected: b[PROTECTED]! };
  }

  /** The region of an entry in the order, or undefined (for tests and diagnostics). */
  regionOf(slot: number): RegionName | undefined {
    return regionName(this.#state[(slot + NODE_OFFSET) * 2 + FLAGS]!);
  }

  // `add`'s bytecode stays over 460 bytes, V8's inlining limit (docs/design/tinylfu.md, "Layout across files").
  add(slot: number, key: unknown, bytes: number): void {
    this.#decided = 0;
    // Counted first: the climbing step reads it.
    const adds = ++this.#adds;
    if (--this.#sampleLeft <= 0) this.#climb();
    const node = slot + NODE_OFFSET;
    const hash = (typeof key === 'number' ? numberHash(key, this.#seed) : this.#hash(key)) & HASH_BITS;
    // First, so the last entry added still holds its node's tag.
    const increments = this.#increments;
    if (increments.late !== 0) increments.applyLate();
    // Its estimate is 0 until its increment is applied.
    this.#tags[node] = hash;
    this.#stampUse(node);
    const windowCountBefore = this.#regionCount[WINDOW]!;
    // Its increment is made late (see deferred-increments.ts): its block is read now.
    this.#sketch.prefetch(hash);
    increments.deferLate(node, hash);
    if (this.#regionCount[CANDIDATE]! !== 0) {
      if (this.#admitsFree()) this.#flushCandidates();
      else if (this.#regionBytes[CANDIDATE]! > this.#candidatesMax) this.#trimCandidates();
    }
    const windowBefore = this.#regionBytes[WINDOW]!;
    this.#link(node, WINDOW, bytes);
    const held = (this.#held += bytes);
    // The sketch's size only matters at the scale of many entries.
    if ((adds & 63) === 1) this.#sizeSketch();
    // A cache too full for another entry of this size evicts next: where draining would move one entry at most, the
    // window stays over its share for that duel (docs/design/tinylfu.md, "Eviction: the duel"). No budget: Infinity.
    if ((windowBefore <= this.#windowMax || windowCountBefore <= 1) && held + bytes > this.#budgetBytes) {
      this.#windowOverflow = 1;
      return;
    }
    this.#drainWindow();
  }

  touch(slot: number, key?: unknown): void {
    const node = slot + NODE_OFFSET;
    const state = this.#state;
    // A `get` of a pinned entry: outside the order, not a use to track.
    let flags = state[node * 2 + FLAGS]!;
    if ((flags & DETACHED) !== 0) return;
    this.#stampUse(node);
    // Read again after a climbing step, which may have moved this very entry (a shrinking window drains to the candidates).
    if (--this.#sampleLeft <= 0) {
      this.#climb();
      flags = state[node * 2 + FLAGS]!;
    }
    // A main-region entry marked since its list last examined it is not counted again (docs/design/tinylfu.md, "Cheap requests").
    if ((flags & REFERENCED) !== 0 && (flags & REGION_MASK) >= PROBATION) return;
    // Rehashing a number or a short string at hand is cheaper than reading the stored hash; both give the same value.
    const seed = this.#seed;
    const hash =
      typeof key === 'number' ? numberHash(key, seed) & HASH_BITS
      : typeof key === 'string' && key.length <= 32 ? stringHash(key, seed) & HASH_BITS
      : this.#tags[node]! & HASH_BITS;
    this.#increments.record(hash, node);
    if ((flags & REFERENCED) !== 0) return;
    if (
      (flags & REGION_MASK) === CANDIDATE ||
      (flags === WINDOW &&
        node === this.#windowHead &&
        this.#windowOverflow !== 0 &&
        this.#regionBytes[WINDOW]! > this.#windowMax)
    ) {
      // Used while awaiting admission (a candidate, or the window's oldest left over its share for the next duel): protected now.
      this.#move(node, PROTECTED);
      this.#demoteProtected();
      return;
    }
    // Window, probation, protected: moved lazily, at the old end of its list (#secondChance, #promoteUsedProbation).
    state[node * 2 + FLAGS] = flags | REFERENCED;
  }

  lastUse(slot: number): number {
    const node = slot + NODE_OFFSET;
    const flags = this.#state[node * 2 + FLAGS]!;
    return flags === 0 || (flags & DETACHED) !== 0 ? 0 : this.#state[node * 2 + STAMP]!;
  }

  #stampUse(node: number): void {
    let stamp = this.#stamp + 1;
    if (stamp === STAMP_LIMIT) {
      // The entry may not be in a list yet (add, readd): stamped after.
      this.#renumber();
      stamp = this.#stamp + 1;
    }
    this.#stamp = stamp;
    this.#state[node * 2 + STAMP] = stamp;
  }

  /** Renumbers the stamps 1, 2, ... in order, so they stay int32 (docs/design/tinylfu.md, "Per-node memory"). */
  #renumber(): void {
    this.#stamp = renumberStamps(nodesInOrder(this.#links), this.#state, (node) => node * 2 + STAMP);
  }

  remove(slot: number, bytes: number): void {
    const node = slot + NODE_OFFSET;
    const state = this.#state;
    const region = state[node * 2 + FLAGS]! & REGION_MASK;
    this.#unlink(node, bytes);
    this.#held -= bytes;
    state[node * 2 + FLAGS] = region | DETACHED;
    if (this.#decided !== 0 && slot === this.#loserSlot && this.#winner !== 0) {
      // The candidate won its duel: it is admitted to probation.
      const winner = this.#winner;
      const winnerRegion = state[winner * 2 + FLAGS]! & (REGION_MASK | DETACHED);
      if (winnerRegion === CANDIDATE || winnerRegion === WINDOW) {
        this.#move(winner, PROBATION);
      }
    }
    this.#decided = 0;
  }

  readd(slot: number, bytes: number): void {
    const node = slot + NODE_OFFSET;
    this.#decided = 0;
    this.#stampUse(node);
    this.#held += bytes;
    // `bytes` may differ from its size when it left (a replacing `set`).
    const home = this.#state[node * 2 + FLAGS]! & REGION_MASK;
    if (home === PROTECTED) {
      this.#link(node, PROTECTED, bytes);
      this.#demoteProtected();
    } else if (home === PROBATION || home === CANDIDATE) {
      this.#link(node, PROBATION, bytes);
    } else {
      this.#link(node, WINDOW, bytes);
      this.#drainWindow();
    }
  }

  victim(): number {
    if (this.#decided !== 0) return this.#loserSlot;
    // The steps below are called only when they have work (their first lines' checks): a call costs as much as the check.
    const links = this.#links;
    const state = this.#state;
    if (links[PROTECTED * 2 + NEXT]! !== PROTECTED) this.#sweepProtected();
    const oldestProbation = links[PROBATION * 2 + NEXT]!;
    if (oldestProbation !== PROBATION && (state[oldestProbation * 2 + FLAGS]! & REFERENCED) !== 0) this.#promoteUsedProbation();
    // The candidates are the oldest of the window's list.
    let candidate = this.#regionCount[CANDIDATE]! !== 0 ? links[WINDOW * 2 + NEXT]! : 0;
    const victim = this.#oldest(PROBATION) || this.#oldest(PROTECTED);
    if (
      candidate === 0 &&
      this.#regionCount[WINDOW]! > (this.#windowOverflow !== 0 ? 0 : 1) &&
      this.#regionBytes[WINDOW]! >= this.#windowMax
    ) {
      // A full window competes (with one entry too, when the last insertion left its overflow here); a used
      // oldest entry gets its second chance first, as in a drain (each consumes a hit's flag: one turn at most).
      candidate = this.#windowHead;
      while ((state[candidate * 2 + FLAGS]! & REFERENCED) !== 0 && this.#secondChance(candidate, WINDOW)) candidate = this.#windowHead;
    }
    let loser: number;
    let winner = 0;
    if (candidate === 0) {
      loser = victim || this.#oldest(WINDOW);
    } else if (victim === 0) {
      loser = candidate;
    } else if (this.#admit(candidate, victim)) {
      loser = victim;
      winner = candidate;
    } else {
      loser = candidate;
    }
    const loserSlot = loser === 0 ? 0 : loser - NODE_OFFSET;
    this.#decided = 1;
    this.#evicting = 1;
    this.#loserSlot = loserSlot;
    this.#winner = winner;
    return loserSlot;
  }

  /** The oldest entry of `region` (its node), or 0 when the list is empty (its sentinel's `next` is itself). */
  #oldest(region: number): number {
    const node = this.#links[region * 2 + NEXT]!;
    return node > LAST_SENTINEL ? node : 0;
  }

  #admit(candidate: number, victim: number): boolean {
    // The duelists' estimates must include their buffered requests, if any.
    const increments = this.#increments;
    const late = increments.late;
    if (late !== 0 && (late === candidate || late === victim)) increments.applyLate();
    if (increments.mayBeBuffered(this.#tags[candidate]!)) increments.applyPending();
    // Once the sketch has aged, a candidate seen at most once can win by no rule below: the victim's count is not needed.
    const aged = this.#sketch.aged;
    if (aged && this.#estimate(candidate) <= 1) return false;
    if (increments.mayBeBuffered(this.#tags[victim]!)) increments.applyPending();
    const candidateFrequency = this.#estimate(candidate);
    const victimFrequency = this.#estimate(victim);
    // The candidate must lead by more than the request that brought it in (loop resistance: docs/design/tinylfu.md, "Eviction: the duel").
    if (candidateFrequency > victimFrequency + 1) return true;
    // Before the sketch has aged, 1 is "seen once" on both sides: the older goes, as in LRU (after, a victim's 1 may be a decayed history).
    if (victimFrequency <= 1 && candidateFrequency >= victimFrequency && !this.#sketch.aged) return true;
    if (candidateFrequency < WARM_FREQUENCY) return false;
    // xorshift32: cheap, and seeded per instance like the hash.
    let x = this.#random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#random = x;
    return (x & 127) === 0;
  }

  /** The key's kept estimate: the sketch's, without its cache miss (see deferred-increments.ts). */
  #estimate(node: number): number {
    return this.#tags[node]! & ESTIMATE_BITS;
  }

  /** Ends a climbing sample: the climber moves the window's share on its hit rate, the regions follow. */
  #climb(): void {
    const requests = this.#sampleSize - this.#sampleLeft;
    this.#sampleSize = this.#sampleLeft = sampleRequests(this.#expectedEntries);
    const hits = requests - (this.#adds - this.#sampleStartAdds);
    this.#sampleStartAdds = this.#adds;
    // While the cache is filling up, misses say nothing about the window's share.
    if (requests === 0 || this.#held < this.#capacityBytes() / 2) return;
    if (!this.#climber.climb(hits / requests)) return;
    this.#resize();
    this.#drainWindow();
    this.#demoteProtected();
  }

  /** Bytes the regions are sized against: the budget, else the most ever held. */
  #capacityBytes(): number {
    return this.#maxBytes ?? this.#peakBytes;
  }

  /** Recomputes the regions' shares in bytes (after the window's fraction or the capacity changed). */
  #resize(): void {
    const capacity = this.#capacityBytes();
    const windowFraction = this.#climber.fraction;
    this.#windowMax = capacity * windowFraction;
    this.#protectedMax = capacity * (1 - windowFraction) * PROTECTED_FRACTION;
    this.#candidatesMax = Math.max(capacity * CANDIDATES_FRACTION, this.#entryBytes * MIN_CANDIDATES);
    this.#freeAdmissionBytes = this.#maxBytes === undefined ? Infinity : capacity * FREE_ADMISSION_FRACTION;
  }

  /** Moves the window's overflow, oldest first, to the candidates (the newest entry always stays): the window's head moves past
   *  each, which stays where it is, the candidates being the oldest of the window's list. */
  #drainWindow(): void {
    this.#windowOverflow = 0;
    const windowMax = this.#windowMax;
    const regionBytes = this.#regionBytes;
    const regionCount = this.#regionCount;
    while (regionBytes[WINDOW]! > windowMax && regionCount[WINDOW]! > 1) {
      const oldest = this.#windowHead;
      if (this.#secondChance(oldest, WINDOW)) continue;
      const bytes = this.#context.sizeOf(oldest - NODE_OFFSET);
      this.#windowHead = this.#links[oldest * 2 + NEXT]!;
      this.#state[oldest * 2 + FLAGS] = CANDIDATE;
      regionBytes[WINDOW] = regionBytes[WINDOW]! - bytes;
      regionCount[WINDOW] = regionCount[WINDOW]! - 1;
      regionBytes[CANDIDATE] = regionBytes[CANDIDATE]! + bytes;
      regionCount[CANDIDATE] = regionCount[CANDIDATE]! + 1;
    }
  }

  /** Promotes the used entries at probation's old end to protected, until the oldest is unused: the true victim (O(1) amortized). */
  #promoteUsedProbation(): void {
    let oldest = this.#links[PROBATION * 2 + NEXT]!;
    while (oldest !== PROBATION && (this.#state[oldest * 2 + FLAGS]! & REFERENCED) !== 0) {
      this.#move(oldest, PROTECTED);
      this.#demoteProtected();
      oldest = this.#links[PROBATION * 2 + NEXT]!;
    }
  }

  /** One step of the sweep over protected before every eviction (docs/design/tinylfu.md, "The protected sweep"). */
  #sweepProtected(): void {
    const oldest = this.#links[PROTECTED * 2 + NEXT]!;
    if (oldest === PROTECTED || this.#secondChance(oldest, PROTECTED)) return;
    // Uses since its last (fewer after a renumbering: never demoted sooner).
    if (this.#stamp - this.#state[oldest * 2 + STAMP]! <= this.#sketch.samplePeriod) return;
    this.#move(oldest, PROBATION);
  }

  /** Whether candidates join probation without a duel: while the cache fills up (docs/design/tinylfu.md, "The candidates' share"). */
  #admitsFree(): boolean {
    if (this.#evicting === 0) return true;
    if (this.#held > this.#freeAdmissionBytes) return false;
    this.#evicting = 0;
    return true;
  }

  /** Candidates beyond their share join probation for free, oldest first (the main region is then below its share). */
  #trimCandidates(): void {
    const candidatesMax = this.#candidatesMax;
    while (this.#regionBytes[CANDIDATE]! > candidatesMax) this.#move(this.#links[WINDOW * 2 + NEXT]!, PROBATION);
  }

  /** Candidates nobody needed room for are admitted to probation. */
  #flushCandidates(): void {
    const links = this.#links;
    for (let left = this.#regionCount[CANDIDATE]!; left > 0; left--) this.#move(links[WINDOW * 2 + NEXT]!, PROBATION);
  }

  #demoteProtected(): void {
    const protectedMax = this.#protectedMax;
    while (this.#regionBytes[PROTECTED]! > protectedMax && this.#regionCount[PROTECTED]! > 1) {
      const oldest = this.#links[PROTECTED * 2 + NEXT]!;
      if (this.#secondChance(oldest, PROTECTED)) continue;
      this.#move(oldest, PROBATION);
    }
  }

  /** If `node`, the oldest of `region` (for WINDOW, its head, after the candidates), was used since last examined: clears the
   *  flag, moves it to the recent end, returns true. */
  #secondChance(node: number, region: number): boolean {
    const flags = this.#state[node * 2 + FLAGS]!;
    if ((flags & REFERENCED) === 0) return false;
    this.#state[node * 2 + FLAGS] = flags & ~REFERENCED;
    const links = this.#links;
    const after = links[node * 2 + NEXT]!;
    // The newest of its list: already the most recent.
    if (after === region) return true;
    if (region === WINDOW) this.#windowHead = after;
    // Out of its place (after the sentinel, or the newest candidate), in after the newest.
    const before = links[node * 2 + PREV]!;
    links[before * 2 + NEXT] = after;
    links[after * 2 + PREV] = before;
    const newest = links[region * 2 + PREV]!;
    links[newest * 2 + NEXT] = node;
    links[node * 2 + PREV] = newest;
    links[node * 2 + NEXT] = region;
    links[region * 2 + PREV] = node;
    return true;
  }

  /** Sizes the sketch for the entries the budget holds at the average size seen so far (only grows). */
  #sizeSketch(): void {
    const bytes = this.#held;
    let count = 0;
    for (let r = WINDOW; r <= PROTECTED; r++) count += this.#regionCount[r]!;
    if (bytes > this.#peakBytes) {
      this.#peakBytes = bytes;
      if (this.#maxBytes === undefined) this.#resize();
    }
    if (count !== 0 && bytes / count !== this.#entryBytes) {
      this.#entryBytes = bytes / count;
      this.#resize();
    }
    let expected = count;
    if (this.#maxBytes !== undefined && count >= 32 && bytes > 0) {
      expected = Math.max(count, Math.ceil((this.#maxBytes * count) / bytes));
    }
    if (expected > this.#expectedEntries) {
      this.#expectedEntries = expected;
      this.#sketch.ensureCapacity(expected);
      // A new table forgets every count: so do the kept estimates.
      this.#increments.ageEstimates();
    }
  }

  /** Appends `node` as the newest entry of `region`, accounting `bytes` (given to `add` or `readd`; a move reads them). */
  #link(node: number, region: number, bytes: number): void {
    const links = this.#links;
    const newest = links[region * 2 + PREV]!;
    links[newest * 2 + NEXT] = node;
    links[node * 2 + PREV] = newest;
    links[node * 2 + NEXT] = region;
    links[region * 2 + PREV] = node;
    if (region === WINDOW && this.#windowHead === WINDOW) this.#windowHead = node;
    this.#state[node * 2 + FLAGS] = region;
    this.#regionBytes[region] = this.#regionBytes[region]! + bytes;
    this.#regionCount[region] = this.#regionCount[region]! + 1;
  }

  /** Takes `node` out of its region's list, which accounted it with `bytes`. */
  #unlink(node: number, bytes: number): void {
    const region = this.#state[node * 2 + FLAGS]! & REGION_MASK;
    const links = this.#links;
    const before = links[node * 2 + PREV]!;
    const after = links[node * 2 + NEXT]!;
    links[before * 2 + NEXT] = after;
    links[after * 2 + PREV] = before;
    if (node === this.#windowHead) this.#windowHead = after;
    this.#regionBytes[region] = this.#regionBytes[region]! - bytes;
    this.#regionCount[region] = this.#regionCount[region]! - 1;
  }

  /** Moves `node` to the recent end of `region`, with the cache's size for it (fixed while in the order). */
  #move(node: number, region: number): void {
    const bytes = this.#context.sizeOf(node - NODE_OFFSET);
    this.#unlink(node, bytes);
    this.#link(node, region, bytes);
  }
}

/** The registry's factory: regions sized from the cache's budget, a random seed. */
export const createTinyLfuPolicy: PolicyFactory = (context, capacity) =>
  new WTinyLfuPolicy(context, capacity, { maxBytes: context.maxBytes });
