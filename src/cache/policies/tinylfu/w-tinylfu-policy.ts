/**
 * `tinylfu`: W-TinyLFU, a scan-resistant admission policy in front of a segmented LRU: a new entry
 * must beat the main region's victim by a frequency sketch's estimate to be admitted. Regions, lists,
 * duel and measurements: docs/design/tinylfu.md; the lists' cold helpers: region-lists.ts.
 */
import { growInt32, growUint8, renumberStamps, type EvictionPolicy, type PolicyContext, type PolicyFactory } from '../policy.js';
import { DeferredIncrements } from './deferred-increments.js';
import { FrequencySketch } from './frequency-sketch.js';
import { HillClimber, sampleRequests } from './hill-climber.js';
import { createKeyHasher, numberHash, randomSeed, stringHash, type KeyHasher } from './key-hash.js';
import { emptyRegionLists, nodesInOrder, regionName, type RegionName } from './region-lists.js';
import type { TinyLfuOptions } from './tinylfu-options.js';

export type { TinyLfuOptions } from './tinylfu-options.js';

// The layout's integers are `const enum`s, whose values the compiler writes into the code: in a bundle, a module's
// `const` becomes a variable that V8 reads, with a type check, at every use (docs/design/tinylfu.md, "Layout across files").
/** The regions, which are also their lists' sentinel nodes; `MASK`: the region bits of an entry's flags. */
const enum Region { WINDOW = 1, CANDIDATE = 2, PROBATION = 3, PROTECTED = 4, MASK = 7 }
const enum Layout {
  /** The entry in slot `s` is node `s + NODE_OFFSET`; nodes 1 to 4, the regions, are the lists' sentinels (see docs/design/tinylfu.md). */
  NODE_OFFSET = 4,
  /** policy.ts's STAMP_LIMIT (stamps stay below it). */
  STAMP_LIMIT = 0x7fffffff,
}
/** A node's words in `#links`. */
const enum Link { PREV = 0, NEXT = 1 }
const enum Flag {
  /** Set in an entry's flags while it is out of the order (pinned); the region bits keep where it was. */
  DETACHED = 8,
  /** Set by a hit: the deferred move is made when the entry reaches the old end of its list. */
  REFERENCED = 16,
}
/** A tag's hash bits (see `#tags`; as in deferred-increments.ts) and its kept estimate (0 to 15, as the sketch's counters). */
const enum Tag { HASH_BITS = ~15, ESTIMATE_BITS = 15 }

/** Share of the main region for protected entries. */
const PROTECTED_FRACTION = 0.8;
/** Once the cache evicts, candidates join probation for free again only after it falls to this share of the budget. */
const FREE_ADMISSION_FRACTION = 0.5;
/** Share of the budget candidates may hold once the cache evicts; beyond it the oldest join probation (see docs/design/tinylfu.md). */
const CANDIDATES_FRACTION = 0.01;
/** ... and at least this many entries of the average size (a default batch is 10). */
const MIN_CANDIDATES = 16;
/** While the cache fills up, the window's overflow joins probation in batches of about this many entries (see `#fillProbation`). */
const FILL_BATCH = 64;
/** Once it evicts, the window's overflow is drained to the candidates in batches of about this many entries (see `add`). */
const DRAIN_BATCH = 16;
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

  // Per node, 17 bytes (docs/design/tinylfu.md, "Per-node memory"). An entry's bytes are the cache's,
  // fixed while it is in the order: `add`, `remove` and `readd` are given them, a move reads `sizeOf`.
  // Each array is created with its field (`#allocate` replaces it): a field first left undefined, then given an array, is
  // read as "any object", and the engine checks the array's type at every access (docs/design/tinylfu.md, "Engine notes").
  /** Two words per node: its `prev` then its `next` in its region's list. */
  #links = new Int32Array(0);
  /** The key's hash (bits 4 to 31) and its kept estimate (bits 0 to 3; see deferred-increments.ts). */
  #tags = new Int32Array(0);
  /** Per node, its flags (region, Flag.DETACHED, Flag.REFERENCED): one byte, what a hit reads (docs/design/tinylfu.md, "Per-node memory"). */
  #flags = new Uint8Array(0);
  /** Per node, the stamp of its last use (`lastUse`), which a hit writes. */
  #stamps = new Int32Array(0);
  /** The window region's oldest node (the WINDOW sentinel when empty); the candidates are the window's list's entries before it: a
   *  drain moves this mark, not the entry (docs/design/tinylfu.md, "The candidates in the window's list"). */
  #windowHead = Region.WINDOW;
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
  /** Bytes the window may exceed its share by before `add` drains it: FILL_BATCH (DRAIN_BATCH once the cache evicts) entries of the
   *  average size, at most its share. Kept in step with `#evicting` (`#setEvicting`) and the sizes (`#resize`). */
  #windowSlackBytes = 0;
  /** The average bytes per entry held, as of the last sizing of the sketch. */
  #entryBytes = 0;
  #protectedMax = 0;
  // The climber's current sample, counted here (the hot paths count it).
  // The first sample starts with the policy, not at its first request: a new cache in a warm process then does not reach
  // `#climb` at its first `add`, which the engine's code for `add` has no feedback for, and throws away (docs/design/tinylfu.md, "The fill").
  /** Requests left in the current sample. */
  #sampleLeft = sampleRequests(0);
  /** Requests in the current sample. */
  #sampleSize = sampleRequests(0);
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
    const nodes = capacity + Layout.NODE_OFFSET;
    this.#links = new Int32Array(nodes * 2);
    this.#tags = new Int32Array(nodes);
    this.#increments.tags = this.#tags;
    this.#flags = new Uint8Array(nodes);
    this.#stamps = new Int32Array(nodes);
    emptyRegionLists(this.#links);
    this.#windowHead = Region.WINDOW;
  }

  grow(capacity: number): void {
    const nodes = capacity + Layout.NODE_OFFSET;
    this.#links = growInt32(this.#links, nodes * 2);
    this.#tags = growInt32(this.#tags, nodes);
    this.#increments.tags = this.#tags;
    this.#flags = growUint8(this.#flags, nodes);
    this.#stamps = growInt32(this.#stamps, nodes);
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
    this.#setEvicting(0);
    this.#sampleSize = this.#sampleLeft = sampleRequests(0);
    this.#sampleStartAdds = 0;
    this.#decided = 0;
    this.#windowOverflow = 0;
  }

  /** The sketch's estimate for a key (for tests and diagnostics). */
  frequencyOf(key: unknown): number {
    this.#increments.applyPending();
    return this.#sketch.frequency(this.#hash(key) & Tag.HASH_BITS);
  }

  /**
   * The estimate a duel would use for the entry in `slot` (its kept
   * estimate, aged; for tests and diagnostics): at most `frequencyOf` its
   * key, and equal unless other keys collided on all of its counters.
   */
  estimateOf(slot: number): number {
    this.#increments.applyPending();
    return this.#estimate(slot + Layout.NODE_OFFSET);
  }

  /** Bytes per region, for tests and diagnostics. */
  get regions(): { window: number; candidates: number; probation: number; protected: number } {
    const b = this.#regionBytes;
    return { window: b[Region.WINDOW]!, candidates: b[Region.CANDIDATE]!, probation: b[Region.PROBATION]!, protected: b[Region.PROTECTED]! };
  }

  /** The region of an entry in the order, or undefined (for tests and diagnostics). */
  regionOf(slot: number): RegionName | undefined {
    return regionName(this.#flags[slot + Layout.NODE_OFFSET]!);
  }

  // `add`'s bytecode stays over 460 bytes, V8's inlining limit (docs/design/tinylfu.md, "Layout across files").
  add(slot: number, key: unknown, bytes: number): void {
    this.#decided = 0;
    // Counted first: the climbing step reads it.
    const adds = ++this.#adds;
    if (--this.#sampleLeft <= 0) this.#climb();
    const node = slot + Layout.NODE_OFFSET;
    const hash = (typeof key === 'number' ? numberHash(key, this.#seed) : this.#hash(key)) & Tag.HASH_BITS;
    // A full buffer (which hits never apply themselves: see deferred-increments.ts), so that this entry's increment fits.
    const increments = this.#increments;
    if (increments.full) increments.applyPending();
    // Its estimate is 0 until its increment, buffered like a hit's, is applied.
    this.#tags[node] = hash;
    increments.record(hash, node);
    this.#stampUse(node);
    const windowCountBefore = this.#regionCount[Region.WINDOW]!;
    if (this.#regionCount[Region.CANDIDATE]! !== 0) {
      if (this.#admitsFree()) this.#flushCandidates();
      else if (this.#regionBytes[Region.CANDIDATE]! > this.#candidatesMax) this.#trimCandidates();
    }
    // `#link(node, Region.WINDOW, bytes)` written out: it keeps `add` itself out of the cache's insert (see above).
    const regionBytes = this.#regionBytes;
    const windowBefore = regionBytes[Region.WINDOW]!;
    const links = this.#links;
    const newest = links[Region.WINDOW * 2 + Link.PREV]!;
    links[newest * 2 + Link.NEXT] = node;
    links[node * 2 + Link.PREV] = newest;
    links[node * 2 + Link.NEXT] = Region.WINDOW;
    links[Region.WINDOW * 2 + Link.PREV] = node;
    // Stored on every insertion: a store only a new cache's first one made would throw away the engine's code (see #sampleLeft).
    const windowHead = this.#windowHead;
    this.#windowHead = windowHead === Region.WINDOW ? node : windowHead;
    this.#flags[node] = Region.WINDOW;
    regionBytes[Region.WINDOW] = windowBefore + bytes;
    this.#regionCount[Region.WINDOW] = this.#regionCount[Region.WINDOW]! + 1;
    const held = (this.#held += bytes);
    // The sketch's size only matters at the scale of many entries.
    if ((adds & 63) === 1) this.#sizeSketch();
    // A cache too full for another entry of this size evicts next: where draining would move one entry at most, the
    // window stays over its share for that duel (docs/design/tinylfu.md, "Eviction: the duel"). No budget: Infinity.
    if ((windowBefore <= this.#windowMax || windowCountBefore <= 1) && held + bytes > this.#budgetBytes) {
      this.#windowOverflow = 1;
      return;
    }
    // The window's overflow leaves a batch at a time: to probation while the cache fills up (see `#fillProbation`), to the
    // candidates once it evicts, whose duels in between take the window's oldest directly (see `victim`).
    if (windowBefore + bytes <= this.#windowMax + this.#windowSlackBytes) {
      this.#windowOverflow = 0;
      return;
    }
    this.#drainWindow();
  }

  touch(slot: number, key?: unknown): void {
    const node = slot + Layout.NODE_OFFSET;
    // A `get` of a pinned entry: outside the order, not a use to track.
    let flags = this.#flags[node]!;
    if ((flags & Flag.DETACHED) !== 0) return;
    this.#stampUse(node);
    // Read again after a climbing step, which may have moved this very entry (a shrinking window drains to the candidates).
    if (--this.#sampleLeft <= 0) {
      this.#climb();
      flags = this.#flags[node]!;
    }
    // An entry marked since its list last examined it is not counted again, in any region (docs/design/tinylfu.md, "Cheap requests").
    if ((flags & Flag.REFERENCED) !== 0) return;
    // Rehashing a number or a short string at hand is cheaper than reading the stored hash; both give the same value.
    const seed = this.#seed;
    const hash =
      typeof key === 'number' ? numberHash(key, seed) & Tag.HASH_BITS
      : typeof key === 'string' && key.length <= 32 ? stringHash(key, seed) & Tag.HASH_BITS
      : this.#tags[node]! & Tag.HASH_BITS;
    this.#increments.record(hash, node);
    if (
      (flags & Region.MASK) === Region.CANDIDATE ||
      (flags === Region.WINDOW &&
        node === this.#windowHead &&
        this.#windowOverflow !== 0 &&
        this.#regionBytes[Region.WINDOW]! > this.#windowMax)
    ) {
      // Used while awaiting admission (a candidate, or the window's oldest left over its share for the next duel): protected now.
      this.#move(node, Region.PROTECTED);
      this.#demoteProtected();
      return;
    }
    // Window, probation, protected: moved lazily, at the old end of its list (#secondChance, #promoteUsedProbation).
    this.#flags[node] = flags | Flag.REFERENCED;
  }

  lastUse(slot: number): number {
    const node = slot + Layout.NODE_OFFSET;
    const flags = this.#flags[node]!;
    return flags === 0 || (flags & Flag.DETACHED) !== 0 ? 0 : this.#stamps[node]!;
  }

  #stampUse(node: number): void {
    let stamp = this.#stamp + 1;
    if (stamp === Layout.STAMP_LIMIT) {
      // The entry may not be in a list yet (add, readd): stamped after.
      this.#renumber();
      stamp = this.#stamp + 1;
    }
    this.#stamp = stamp;
    this.#stamps[node] = stamp;
  }

  /** Renumbers the stamps 1, 2, ... in order, so they stay int32 (docs/design/tinylfu.md, "Per-node memory"). */
  #renumber(): void {
    this.#stamp = renumberStamps(nodesInOrder(this.#links), this.#stamps, (node) => node);
  }

  remove(slot: number, bytes: number): void {
    const node = slot + Layout.NODE_OFFSET;
    const region = this.#flags[node]! & Region.MASK;
    this.#unlink(node, bytes);
    this.#held -= bytes;
    this.#flags[node] = region | Flag.DETACHED;
    if (this.#decided !== 0 && slot === this.#loserSlot && this.#winner !== 0) {
      // The candidate won its duel: it is admitted to probation.
      const winner = this.#winner;
      const winnerRegion = this.#flags[winner]! & (Region.MASK | Flag.DETACHED);
      if (winnerRegion === Region.CANDIDATE || winnerRegion === Region.WINDOW) {
        this.#move(winner, Region.PROBATION);
      }
    }
    this.#decided = 0;
  }

  readd(slot: number, bytes: number): void {
    const node = slot + Layout.NODE_OFFSET;
    this.#decided = 0;
    this.#stampUse(node);
    this.#held += bytes;
    // `bytes` may differ from its size when it left (a replacing `set`).
    const home = this.#flags[node]! & Region.MASK;
    if (home === Region.PROTECTED) {
      this.#link(node, Region.PROTECTED, bytes);
      this.#demoteProtected();
    } else if (home === Region.PROBATION || home === Region.CANDIDATE) {
      this.#link(node, Region.PROBATION, bytes);
    } else {
      this.#link(node, Region.WINDOW, bytes);
      this.#drainWindow();
    }
  }

  victim(): number {
    if (this.#decided !== 0) return this.#loserSlot;
    // The first eviction since the cache filled up: the window's overflow joins probation first, as the window's share requires.
    if (this.#evicting === 0) {
      this.#fillProbation(true);
      this.#setEvicting(1);
    }
    // The steps below are called only when they have work (their first lines' checks): a call costs as much as the check.
    const links = this.#links;
    if (links[Region.PROTECTED * 2 + Link.NEXT]! !== Region.PROTECTED) this.#sweepProtected();
    const oldestProbation = links[Region.PROBATION * 2 + Link.NEXT]!;
    if (oldestProbation !== Region.PROBATION && (this.#flags[oldestProbation]! & Flag.REFERENCED) !== 0) this.#promoteUsedProbation();
    // The candidates are the oldest of the window's list.
    let candidate = this.#regionCount[Region.CANDIDATE]! !== 0 ? links[Region.WINDOW * 2 + Link.NEXT]! : 0;
    const victim = this.#oldest(Region.PROBATION) || this.#oldest(Region.PROTECTED);
    if (
      candidate === 0 &&
      this.#regionCount[Region.WINDOW]! > (this.#windowOverflow !== 0 ? 0 : 1) &&
      this.#regionBytes[Region.WINDOW]! >= this.#windowMax
    ) {
      // A full window competes (with one entry too, when the last insertion left its overflow here); a used
      // oldest entry gets its second chance first, as in a drain (each consumes a hit's flag: one turn at most).
      candidate = this.#windowHead;
      while ((this.#flags[candidate]! & Flag.REFERENCED) !== 0 && this.#secondChance(candidate, Region.WINDOW)) candidate = this.#windowHead;
    }
    let loser: number;
    let winner = 0;
    if (candidate === 0) {
      loser = victim || this.#oldest(Region.WINDOW);
    } else if (victim === 0) {
      loser = candidate;
    } else if (this.#admit(candidate, victim)) {
      loser = victim;
      winner = candidate;
    } else {
      loser = candidate;
    }
    const loserSlot = loser === 0 ? 0 : loser - Layout.NODE_OFFSET;
    this.#decided = 1;
    this.#loserSlot = loserSlot;
    this.#winner = winner;
    return loserSlot;
  }

  /** The oldest entry of `region` (its node), or 0 when the list is empty (its sentinel's `next` is itself: nodes 1 to 4 are sentinels). */
  #oldest(region: number): number {
    const node = this.#links[region * 2 + Link.NEXT]!;
    return node > Region.PROTECTED ? node : 0;
  }

  #admit(candidate: number, victim: number): boolean {
    // The duelists' estimates must include their buffered requests, if any.
    const increments = this.#increments;
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
    return this.#tags[node]! & Tag.ESTIMATE_BITS;
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
    this.#windowSlackBytes = Math.min(this.#entryBytes * (this.#evicting === 0 ? FILL_BATCH : DRAIN_BATCH), this.#windowMax);
    this.#freeAdmissionBytes = this.#maxBytes === undefined ? Infinity : capacity * FREE_ADMISSION_FRACTION;
  }

  /** Moves the window's overflow, oldest first, to the candidates (the newest entry always stays): the window's head moves past
   *  each, which stays where it is, the candidates being the oldest of the window's list. */
  #drainWindow(): void {
    this.#windowOverflow = 0;
    if (this.#evicting === 0) {
      this.#fillProbation(false);
      return;
    }
    const windowMax = this.#windowMax;
    const regionBytes = this.#regionBytes;
    const regionCount = this.#regionCount;
    while (regionBytes[Region.WINDOW]! > windowMax && regionCount[Region.WINDOW]! > 1) {
      const oldest = this.#windowHead;
      if (this.#secondChance(oldest, Region.WINDOW)) continue;
      const bytes = this.#context.sizeOf(oldest - Layout.NODE_OFFSET);
      this.#windowHead = this.#links[oldest * 2 + Link.NEXT]!;
      this.#flags[oldest] = Region.CANDIDATE;
      regionBytes[Region.WINDOW] = regionBytes[Region.WINDOW]! - bytes;
      regionCount[Region.WINDOW] = regionCount[Region.WINDOW]! - 1;
      regionBytes[Region.CANDIDATE] = regionBytes[Region.CANDIDATE]! + bytes;
      regionCount[Region.CANDIDATE] = regionCount[Region.CANDIDATE]! + 1;
    }
  }

  /**
   * While the cache fills up (every entry is admitted), the window's oldest entries beyond its share join probation, in order,
   * a run at a time: a walk that sets each one's flags, then one splice. A used one gets its second chance in the window first,
   * as in a drain. With `overflow`, the first eviction's, one entry stays over the share, for its duel (as `add` leaves it).
   */
  #fillProbation(overflow: boolean): void {
    const windowMax = this.#windowMax;
    const links = this.#links;
    const flags = this.#flags;
    const regionBytes = this.#regionBytes;
    const regionCount = this.#regionCount;
    for (;;) {
      let bytes = regionBytes[Region.WINDOW]!;
      let count = regionCount[Region.WINDOW]!;
      const first = this.#windowHead;
      let node = first;
      while (count > 1 && (flags[node]! & Flag.REFERENCED) === 0) {
        const size = this.#context.sizeOf(node - Layout.NODE_OFFSET);
        if ((overflow ? bytes - size : bytes) <= windowMax) break;
        bytes -= size;
        count--;
        flags[node] = Region.PROBATION;
        node = links[node * 2 + Link.NEXT]!;
      }
      if (node !== first) {
        // The run first..last out of the window's list (after its candidates, if any), in after probation's newest.
        const last = links[node * 2 + Link.PREV]!;
        const before = links[first * 2 + Link.PREV]!;
        links[before * 2 + Link.NEXT] = node;
        links[node * 2 + Link.PREV] = before;
        this.#windowHead = node;
        const newest = links[Region.PROBATION * 2 + Link.PREV]!;
        links[newest * 2 + Link.NEXT] = first;
        links[first * 2 + Link.PREV] = newest;
        links[last * 2 + Link.NEXT] = Region.PROBATION;
        links[Region.PROBATION * 2 + Link.PREV] = last;
        regionBytes[Region.PROBATION] = regionBytes[Region.PROBATION]! + (regionBytes[Region.WINDOW]! - bytes);
        regionCount[Region.PROBATION] = regionCount[Region.PROBATION]! + (regionCount[Region.WINDOW]! - count);
        regionBytes[Region.WINDOW] = bytes;
        regionCount[Region.WINDOW] = count;
      }
      // Stopped at a used entry still over the share: its second chance, then the next run.
      if (count <= 1 || (flags[node]! & Flag.REFERENCED) === 0) return;
      if ((overflow ? bytes - this.#context.sizeOf(node - Layout.NODE_OFFSET) : bytes) <= windowMax) return;
      this.#secondChance(node, Region.WINDOW);
    }
  }

  /** Promotes the used entries at probation's old end to protected, until the oldest is unused: the true victim (O(1) amortized). */
  #promoteUsedProbation(): void {
    let oldest = this.#links[Region.PROBATION * 2 + Link.NEXT]!;
    while (oldest !== Region.PROBATION && (this.#flags[oldest]! & Flag.REFERENCED) !== 0) {
      this.#move(oldest, Region.PROTECTED);
      this.#demoteProtected();
      oldest = this.#links[Region.PROBATION * 2 + Link.NEXT]!;
    }
  }

  /** One step of the sweep over protected before every eviction (docs/design/tinylfu.md, "The protected sweep"). */
  #sweepProtected(): void {
    const oldest = this.#links[Region.PROTECTED * 2 + Link.NEXT]!;
    if (oldest === Region.PROTECTED || this.#secondChance(oldest, Region.PROTECTED)) return;
    // Uses since its last (fewer after a renumbering: never demoted sooner).
    if (this.#stamp - this.#stamps[oldest]! <= this.#sketch.samplePeriod) return;
    this.#move(oldest, Region.PROBATION);
  }

  /** Whether candidates join probation without a duel: while the cache fills up (docs/design/tinylfu.md, "The candidates' share"). */
  #admitsFree(): boolean {
    if (this.#evicting === 0) return true;
    if (this.#held > this.#freeAdmissionBytes) return false;
    this.#setEvicting(0);
    return true;
  }

  /** Enters or leaves the evicting state, with the window's slack that goes with it (see `#resize`). */
  #setEvicting(evicting: number): void {
    this.#evicting = evicting;
    this.#resize();
  }

  /** Candidates beyond their share join probation for free, oldest first (the main region is then below its share). */
  #trimCandidates(): void {
    const candidatesMax = this.#candidatesMax;
    while (this.#regionBytes[Region.CANDIDATE]! > candidatesMax) this.#move(this.#links[Region.WINDOW * 2 + Link.NEXT]!, Region.PROBATION);
  }

  /** Candidates nobody needed room for are admitted to probation. */
  #flushCandidates(): void {
    const links = this.#links;
    for (let left = this.#regionCount[Region.CANDIDATE]!; left > 0; left--) this.#move(links[Region.WINDOW * 2 + Link.NEXT]!, Region.PROBATION);
  }

  #demoteProtected(): void {
    const protectedMax = this.#protectedMax;
    while (this.#regionBytes[Region.PROTECTED]! > protectedMax && this.#regionCount[Region.PROTECTED]! > 1) {
      const oldest = this.#links[Region.PROTECTED * 2 + Link.NEXT]!;
      if (this.#secondChance(oldest, Region.PROTECTED)) continue;
      this.#move(oldest, Region.PROBATION);
    }
  }

  /** If `node`, the oldest of `region` (for Region.WINDOW, its head, after the candidates), was used since last examined: clears the
   *  flag, moves it to the recent end, returns true. */
  #secondChance(node: number, region: number): boolean {
    const flags = this.#flags[node]!;
    if ((flags & Flag.REFERENCED) === 0) return false;
    this.#flags[node] = flags & ~Flag.REFERENCED;
    const links = this.#links;
    const after = links[node * 2 + Link.NEXT]!;
    // The newest of its list: already the most recent.
    if (after === region) return true;
    if (region === Region.WINDOW) this.#windowHead = after;
    // Out of its place (after the sentinel, or the newest candidate), in after the newest.
    const before = links[node * 2 + Link.PREV]!;
    links[before * 2 + Link.NEXT] = after;
    links[after * 2 + Link.PREV] = before;
    const newest = links[region * 2 + Link.PREV]!;
    links[newest * 2 + Link.NEXT] = node;
    links[node * 2 + Link.PREV] = newest;
    links[node * 2 + Link.NEXT] = region;
    links[region * 2 + Link.PREV] = node;
    return true;
  }

  /** Sizes the sketch for the entries the budget holds at the average size seen so far (only grows). */
  #sizeSketch(): void {
    const bytes = this.#held;
    let count = 0;
    for (let r = Region.WINDOW; r <= Region.PROTECTED; r++) count += this.#regionCount[r]!;
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
    const newest = links[region * 2 + Link.PREV]!;
    links[newest * 2 + Link.NEXT] = node;
    links[node * 2 + Link.PREV] = newest;
    links[node * 2 + Link.NEXT] = region;
    links[region * 2 + Link.PREV] = node;
    if (region === Region.WINDOW && this.#windowHead === Region.WINDOW) this.#windowHead = node;
    this.#flags[node] = region;
    this.#regionBytes[region] = this.#regionBytes[region]! + bytes;
    this.#regionCount[region] = this.#regionCount[region]! + 1;
  }

  /** Takes `node` out of its region's list, which accounted it with `bytes`. */
  #unlink(node: number, bytes: number): void {
    const region = this.#flags[node]! & Region.MASK;
    const links = this.#links;
    const before = links[node * 2 + Link.PREV]!;
    const after = links[node * 2 + Link.NEXT]!;
    links[before * 2 + Link.NEXT] = after;
    links[after * 2 + Link.PREV] = before;
    if (node === this.#windowHead) this.#windowHead = after;
    this.#regionBytes[region] = this.#regionBytes[region]! - bytes;
    this.#regionCount[region] = this.#regionCount[region]! - 1;
  }

  /** Moves `node` to the recent end of `region`, with the cache's size for it (fixed while in the order). */
  #move(node: number, region: number): void {
    const bytes = this.#context.sizeOf(node - Layout.NODE_OFFSET);
    this.#unlink(node, bytes);
    this.#link(node, region, bytes);
  }
}

/** The registry's factory: regions sized from the cache's budget, a random seed. */
export const createTinyLfuPolicy: PolicyFactory = (context, capacity) =>
  new WTinyLfuPolicy(context, capacity, { maxBytes: context.maxBytes });
