/**
 * `tinylfu`: W-TinyLFU, a scan-resistant admission policy in front of a
 * segmented LRU.
 *
 * The idea is from Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient
 * Cache Admission Policy" (ACM Transactions on Storage, 2017), as refined in
 * the Caffeine cache: a new entry does not push out an old one just because
 * it is newer. It has to be more popular, by the estimate of a compact
 * frequency sketch that remembers recent requests, including those for keys
 * the cache no longer holds.
 *
 * Structure (every list a doubly linked list in typed arrays indexed by the
 * cache's slots, sizes in bytes):
 * - window: a small LRU (1% of the budget to start with) that every new
 *   entry enters, so a burst of requests for a new key can hit before the
 *   key has earned a frequency;
 * - candidates: entries just pushed out of the window, awaiting admission;
 * - probation and protected: a segmented LRU for the main region (99% of the
 *   budget). An entry used while in probation moves to protected (80% of
 *   the main region); protected overflow is demoted back to probation.
 *   Probation's least recently used entry is the main region's victim.
 * - a 4-bit count-min sketch (`FrequencySketch`) of every key's recent
 *   frequency, halved periodically so popularity ages.
 *
 * Eviction is a duel: the oldest candidate (else, when the window is full,
 * the window's least recently used entry) against probation's victim (else
 * protected's); the one with the lower estimated frequency is evicted, and a
 * winning candidate joins probation. The candidate must lead by more than
 * the one request that brought it in; otherwise the old entry stays. This is
 * what keeps a one-time scan, or a loop slightly larger than the cache, from
 * flushing the working set. (Until the sketch has aged, two entries seen
 * once each are told apart by age: the older goes, as in LRU.)
 *
 * The window's share adapts by hill climbing, as in Caffeine: after every
 * sample of 10 requests per entry, the share moves by a step in the
 * direction that raised the hit ratio (reversing when it fell; steps decay
 * while the workload is stable and restart on a jump of 5 points), between
 * 0 and 80% of the budget. A recency-biased workload grows the window
 * (LRU-like); a frequency-biased one shrinks it.
 * A candidate that loses but is warm (frequency >= 6) is admitted anyway
 * with probability 1/128, and keys are hashed with a per-instance random
 * seed: together these keep an attacker from pinning the cache's content
 * by flooding the sketch with colliding keys. When no eviction is needed,
 * candidates join probation for free at the next insertion.
 *
 * The cache asks `victim()` and then calls `remove` on the slot it evicts;
 * `victim()` remembers its decision, so asking twice gives the same answer,
 * and the winner's move into probation happens in `remove`.
 *
 * Cost: every operation is O(1): a few list moves and four sketch counters;
 * the sketch's halving is O(size) once per ten insertions-or-uses per entry
 * (O(1) amortized). A hit does not rehash the key: its hash is kept per
 * slot. Memory: 21 bytes per slot plus the sketch (8 bytes per expected
 * entry, sized from the budget and the average entry size observed).
 */
import {
  growFloat64,
  growInt32,
  type EvictionPolicy,
  type PolicyContext,
  type PolicyFactory,
} from '../policies/policy.js';
import { FrequencySketch } from './frequency-sketch.js';
import { createKeyHasher, randomSeed, type KeyHasher } from './key-hash.js';

const WINDOW = 1;
const CANDIDATE = 2;
const PROBATION = 3;
const PROTECTED = 4;
/** Set in `#region` while an entry is out of the order (pinned); the low bits keep where it was. */
const DETACHED = 8;

/** Initial share of the budget for the window; the climber moves it within the bounds below. */
const WINDOW_FRACTION = 0.01;
const MIN_WINDOW_FRACTION = 0;
const MAX_WINDOW_FRACTION = 0.8;
/** A climb step, as a share of the budget; steps decay by 2% per sample unless the hit ratio jumps by 5 points. */
const STEP_FRACTION = 0.0625;
const STEP_DECAY = 0.98;
const RESTART_THRESHOLD = 0.05;
/** Share of the main region for protected entries. */
const PROTECTED_FRACTION = 0.8;
/** Candidates this warm may be admitted at random even when they lose (flood resistance). */
const WARM_FREQUENCY = 6;

export interface TinyLfuOptions {
  /** The cache's byte budget, when it has one; otherwise the peak of the bytes held stands in. */
  maxBytes?: number | undefined;
  /** Seed for the key hash and the random admission; random by default. */
  seed?: number;
}

export class WTinyLfuPolicy implements EvictionPolicy {
  readonly tracksUse = true;
  readonly #context: PolicyContext;
  readonly #maxBytes: number | undefined;
  readonly #hash: KeyHasher;
  readonly #sketch = new FrequencySketch();
  #random: number;

  // Per slot.
  #prev!: Int32Array;
  #next!: Int32Array;
  #region!: Uint8Array;
  #hashes!: Int32Array;
  #bytes!: Float64Array;

  // Per region (index = region constant): list ends and bytes.
  readonly #head = new Int32Array(5);
  readonly #tail = new Int32Array(5);
  readonly #regionBytes = new Float64Array(5);
  readonly #regionCount = new Int32Array(5);
  #peakBytes = 0;
  #expectedEntries = 0;

  // Hill climbing over the window's share of the budget.
  #windowFraction = WINDOW_FRACTION;
  #step = -STEP_FRACTION;
  #sampleHits = 0;
  #sampleMisses = 0;
  #previousHitRate = 0;

  // The last `victim()` decision, valid until the next change.
  #decided = false;
  #loser = 0;
  #winner = 0;

  constructor(context: PolicyContext, capacity: number, options: TinyLfuOptions = {}) {
    this.#context = context;
    this.#maxBytes = options.maxBytes;
    const seed = options.seed ?? randomSeed();
    this.#hash = createKeyHasher(seed);
    this.#random = seed | 1;
    this.#allocate(capacity);
  }

  #allocate(capacity: number): void {
    this.#prev = new Int32Array(capacity);
    this.#next = new Int32Array(capacity);
    this.#region = new Uint8Array(capacity);
    this.#hashes = new Int32Array(capacity);
    this.#bytes = new Float64Array(capacity);
  }

  grow(capacity: number): void {
    this.#prev = growInt32(this.#prev, capacity);
    this.#next = growInt32(this.#next, capacity);
    const region = new Uint8Array(capacity);
    region.set(this.#region.length <= capacity ? this.#region : this.#region.subarray(0, capacity));
    this.#region = region;
    this.#hashes = growInt32(this.#hashes, capacity);
    this.#bytes = growFloat64(this.#bytes, capacity);
  }

  clear(capacity: number): void {
    this.#allocate(capacity);
    this.#head.fill(0);
    this.#tail.fill(0);
    this.#regionBytes.fill(0);
    this.#regionCount.fill(0);
    this.#peakBytes = 0;
    this.#sketch.reset();
    this.#decided = false;
  }

  /** The sketch's estimate for a key (for tests and diagnostics). */
  frequencyOf(key: unknown): number {
    return this.#sketch.frequency(this.#hash(key));
  }

  /** Bytes per region, for tests and diagnostics. */
  get regions(): { window: number; candidates: number; probation: number; protected: number } {
    const b = this.#regionBytes;
    return { window: b[WINDOW]!, candidates: b[CANDIDATE]!, probation: b[PROBATION]!, protected: b[PROTECTED]! };
  }

  /** The region of an entry in the order: 'window' | 'candidate' | 'probation' | 'protected', or undefined. */
  regionOf(slot: number): 'window' | 'candidate' | 'probation' | 'protected' | undefined {
    const r = this.#region[slot];
    return r === WINDOW ? 'window' : r === CANDIDATE ? 'candidate' : r === PROBATION ? 'probation' : r === PROTECTED ? 'protected' : undefined;
  }

  add(slot: number): void {
    this.#decided = false;
    const hash = this.#hash(this.#context.keyOf(slot));
    this.#hashes[slot] = hash;
    this.#sketch.increment(hash);
    this.#flushCandidates();
    const bytes = this.#context.sizeOf(slot);
    this.#bytes[slot] = bytes;
    this.#link(slot, WINDOW);
    this.#sizeSketch();
    this.#drainWindow();
    if (++this.#sampleMisses + this.#sampleHits >= this.#expectedEntries * 10) this.#climb();
  }

  touch(slot: number): void {
    this.#decided = false;
    if (++this.#sampleHits + this.#sampleMisses >= this.#expectedEntries * 10) this.#climb();
    this.#sketch.increment(this.#hashes[slot]!);
    const region = this.#region[slot]!;
    const bytes = this.#context.sizeOf(slot);
    if (bytes !== this.#bytes[slot]) {
      this.#regionBytes[region] = this.#regionBytes[region]! + bytes - this.#bytes[slot]!;
      this.#bytes[slot] = bytes;
    }
    this.#unlink(slot);
    if (region === WINDOW) {
      this.#link(slot, WINDOW);
      this.#drainWindow();
    } else {
      // A use in probation (or while awaiting admission) proves the entry: protect it.
      this.#link(slot, PROTECTED);
      this.#demoteProtected();
    }
  }

  remove(slot: number): void {
    const region = this.#region[slot]!;
    this.#unlink(slot);
    this.#region[slot] = region | DETACHED;
    if (this.#decided && slot === this.#loser && this.#winner !== 0) {
      // The candidate won its duel: it is admitted to probation.
      const winner = this.#winner;
      if (this.#region[winner] === CANDIDATE || this.#region[winner] === WINDOW) {
        this.#unlink(winner);
        this.#link(winner, PROBATION);
      }
    }
    this.#decided = false;
  }

  readd(slot: number): void {
    this.#decided = false;
    const home = this.#region[slot]! & ~DETACHED;
    this.#bytes[slot] = this.#context.sizeOf(slot);
    if (home === PROTECTED) {
      this.#link(slot, PROTECTED);
      this.#demoteProtected();
    } else if (home === PROBATION || home === CANDIDATE) {
      this.#link(slot, PROBATION);
    } else {
      this.#link(slot, WINDOW);
      this.#drainWindow();
    }
  }

  victim(): number {
    if (this.#decided) return this.#loser;
    const head = this.#head;
    let candidate = head[CANDIDATE]!;
    const victim = head[PROBATION] || head[PROTECTED]!;
    if (candidate === 0 && this.#regionCount[WINDOW]! > 1 && this.#regionBytes[WINDOW]! >= this.#capacityBytes() * this.#windowFraction) {
      // A full window competes with the main region; one below its share lets the main region shrink.
      candidate = head[WINDOW]!;
    }
    let loser: number;
    let winner = 0;
    if (candidate === 0) {
      loser = victim || head[WINDOW]!;
    } else if (victim === 0) {
      loser = candidate;
    } else if (this.#admit(candidate, victim)) {
      loser = victim;
      winner = candidate;
    } else {
      loser = candidate;
    }
    this.#decided = true;
    this.#loser = loser;
    this.#winner = winner;
    return loser;
  }

  #admit(candidate: number, victim: number): boolean {
    const candidateFrequency = this.#sketch.frequency(this.#hashes[candidate]!);
    const victimFrequency = this.#sketch.frequency(this.#hashes[victim]!);
    // The candidate's count includes the request that brought it in; the
    // victim's last request may lie a whole cycle back. Comparing histories
    // fairly means the candidate must lead by more than that one request,
    // which is what keeps a loop slightly larger than the cache from
    // cycling every entry through (pure LRU's 0% there).
    if (candidateFrequency > victimFrequency + 1) return true;
    // Before the sketch has aged, a count of 1 means "seen once" on both
    // sides: no evidence either way, so the older entry goes, as in LRU.
    // (After aging, a victim's 1 may be a decayed history worth keeping.)
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

  /**
   * One hill-climbing step (Caffeine's adaptive window): after each sample of
   * requests, keep moving the window's share in the direction that raised the
   * hit ratio, reverse when it fell, with steps that shrink while the
   * workload is stable and restart when it changes abruptly. A recency-biased
   * workload grows the window (LRU-like); a frequency-biased one shrinks it.
   */
  #climb(): void {
    const requests = this.#sampleHits + this.#sampleMisses;
    const hitRate = this.#sampleHits / requests;
    const change = hitRate - this.#previousHitRate;
    const amount = change >= 0 ? this.#step : -this.#step;
    this.#step = Math.abs(change) >= RESTART_THRESHOLD ? STEP_FRACTION * (amount >= 0 ? 1 : -1) : STEP_DECAY * amount;
    this.#previousHitRate = hitRate;
    this.#sampleHits = 0;
    this.#sampleMisses = 0;
    this.#windowFraction = Math.min(MAX_WINDOW_FRACTION, Math.max(MIN_WINDOW_FRACTION, this.#windowFraction + amount));
    this.#drainWindow();
    this.#demoteProtected();
  }

  /** Bytes the regions are sized against: the budget, else the most ever held. */
  #capacityBytes(): number {
    return this.#maxBytes ?? this.#peakBytes;
  }

  /** Moves the window's overflow, least recently used first, to the candidates; the newest entry always stays. */
  #drainWindow(): void {
    const windowMax = this.#capacityBytes() * this.#windowFraction;
    while (this.#regionBytes[WINDOW]! > windowMax && this.#regionCount[WINDOW]! > 1) {
      const oldest = this.#head[WINDOW]!;
      this.#unlink(oldest);
      this.#link(oldest, CANDIDATE);
    }
  }

  /** Candidates nobody needed room for are admitted to probation. */
  #flushCandidates(): void {
    let slot = this.#head[CANDIDATE]!;
    while (slot !== 0) {
      const after = this.#next[slot]!;
      this.#unlink(slot);
      this.#link(slot, PROBATION);
      slot = after;
    }
  }

  #demoteProtected(): void {
    const protectedMax = this.#capacityBytes() * (1 - this.#windowFraction) * PROTECTED_FRACTION;
    while (this.#regionBytes[PROTECTED]! > protectedMax && this.#regionCount[PROTECTED]! > 1) {
      const oldest = this.#head[PROTECTED]!;
      this.#unlink(oldest);
      this.#link(oldest, PROBATION);
    }
  }

  /** Sizes the sketch for the entries the budget holds at the average size seen so far (only grows). */
  #sizeSketch(): void {
    let count = 0;
    let bytes = 0;
    for (let r = WINDOW; r <= PROTECTED; r++) {
      count += this.#regionCount[r]!;
      bytes += this.#regionBytes[r]!;
    }
    if (bytes > this.#peakBytes) this.#peakBytes = bytes;
    let expected = count;
    if (this.#maxBytes !== undefined && count >= 32 && bytes > 0) {
      expected = Math.max(count, Math.ceil((this.#maxBytes * count) / bytes));
    }
    if (expected > this.#expectedEntries) {
      this.#expectedEntries = expected;
      this.#sketch.ensureCapacity(expected);
    }
  }

  /** Appends `slot` as the most recent entry of `region`. */
  #link(slot: number, region: number): void {
    const tail = this.#tail[region]!;
    this.#prev[slot] = tail;
    this.#next[slot] = 0;
    if (tail === 0) this.#head[region] = slot;
    else this.#next[tail] = slot;
    this.#tail[region] = slot;
    this.#region[slot] = region;
    this.#regionBytes[region] = this.#regionBytes[region]! + this.#bytes[slot]!;
    this.#regionCount[region] = this.#regionCount[region]! + 1;
  }

  #unlink(slot: number): void {
    const region = this.#region[slot]!;
    const before = this.#prev[slot]!;
    const after = this.#next[slot]!;
    if (before === 0) this.#head[region] = after;
    else this.#next[before] = after;
    if (after === 0) this.#tail[region] = before;
    else this.#prev[after] = before;
    this.#regionBytes[region] = this.#regionBytes[region]! - this.#bytes[slot]!;
    this.#regionCount[region] = this.#regionCount[region]! - 1;
  }
}

/** The registry's factory: regions sized from the cache's budget, a random seed. */
export const createTinyLfuPolicy: PolicyFactory = (context, capacity) =>
  new WTinyLfuPolicy(context, capacity, { maxBytes: context.maxBytes });
