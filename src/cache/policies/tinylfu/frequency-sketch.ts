/**
 * A count-min sketch of 4-bit counters that estimates how often each key was
 * seen recently: the popularity memory of W-TinyLFU.
 *
 * Structure: one `Int32Array` of 2 * 2^k words, eight 4-bit counters per
 * word, where 2^k is the power of two at or above the expected number of
 * entries (so about 16 counters, 8 bytes, per cached entry). A key's 32-bit
 * hash picks one 16-byte block of 4 words (from the top bits of its
 * product with a constant), then one counter in each of the four words
 * (from other hash bits); its frequency is the smallest of the four, which
 * over-estimates only when all four collide with more popular keys.
 * Keeping the four counters in one block costs one memory-cache miss per
 * operation instead of four (Caffeine's idea, with 64-byte blocks). A
 * 16-byte block lies within one 64-byte cache line wherever the table
 * starts (engines allocate array buffers at least 16-byte aligned), where
 * a 64-byte block spans two lines unless the table happens to be 64-byte
 * aligned: one miss, not two. Collisions are as likely as with larger
 * blocks (as many keys per counter), only less evenly spread; the hit
 * ratios on the benchmark traces moved by 0.3 points at most, and evicting
 * inserts got about 4% faster.
 *
 * Increment uses the conservative update: only the counters equal to the
 * current minimum are raised, which keeps collisions from inflating the
 * estimates of other keys more than needed. Counters saturate at 15: the
 * sketch only has to tell "popular" from "not", not count exactly.
 *
 * Aging: after 5 increments per expected entry, every counter is halved
 * (one shift and mask per word), so yesterday's favourites fade and a shift
 * in popularity is picked up within one sample period.
 *
 * Cost: increment and frequency touch four words, O(1); the halving is O(size)
 * once per 5 * capacity increments, O(1) amortized.
 */

const MIN_ENTRIES = 16;
/** 2^22 expected entries: a 32 MiB table. Beyond that more counters add little. */
const MAX_ENTRIES = 1 << 22;
/**
 * Increments per expected entry between two halvings. Caffeine uses 10; 5
 * measured as well or better on every benchmark trace (bench/hit-ratio), and
 * lets a hot set that went cold fade twice as fast.
 */
const SAMPLE_FACTOR = 5;
/** A counter's saturation (a `const enum`, written into the code: in a bundle a `const` becomes a variable, read at every use; docs/design/tinylfu.md). */
const enum Counter {
  MAX = 15,
}

// The helpers below are `const` arrow functions, not function declarations:
// a declared function's binding can be reassigned, so optimized code that
// inlines one re-checks, on every call, that it is still the same function
// (measured with an instruction count: 18 fewer per evicting insert, of 2262).

const ceilPow2 = (n: number): number => {
  let p = MIN_ENTRIES;
  while (p < n && p < MAX_ENTRIES) p *= 2;
  return p;
};

/**
 * The first word of the key's 4-word block: the top bits of the hash's
 * product with a constant (a hash whose low bits are zero, as tinylfu's
 * are, still spreads over every block).
 */
const blockOf = (hash: number, blockShift: number): number => (Math.imul(hash, 0x9e3779b1) >>> blockShift) << 2;

/**
 * Bits that pick the key's counter in each word of its block (bits 8j to
 * 8j + 2 for word j: one of its 8 nibbles): a second mix of the hash,
 * independent of the block's.
 */
const counterBits = (hash: number): number => {
  const h = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  return h ^ (h >>> 13);
};

/**
 * Raises the counters of the key with this hash in table `t` by the
 * conservative update: only the counters equal to the key's current minimum
 * go up, which keeps collisions from inflating other keys' estimates more
 * than needed. Returns the key's new estimate, or 0 when it was already 15
 * (saturated: nothing changed). The four counters are in four different
 * words: each word is read once and written once.
 */
const raise = (t: Int32Array, blockShift: number, hash: number): number => {
  const block = blockOf(hash, blockShift);
  const h = counterBits(hash);
  // The counter's shift in word j, ((h >>> 8j) & 7) << 2, in two operations.
  const s0 = (h << 2) & 28;
  const s1 = (h >>> 6) & 28;
  const s2 = (h >>> 14) & 28;
  const s3 = (h >>> 22) & 28;
  const w0 = t[block]!;
  const w1 = t[block | 1]!;
  const w2 = t[block | 2]!;
  const w3 = t[block | 3]!;
  const c0 = (w0 >>> s0) & 15;
  const c1 = (w1 >>> s1) & 15;
  const c2 = (w2 >>> s2) & 15;
  const c3 = (w3 >>> s3) & 15;
  let min = c0 < c1 ? c0 : c1;
  if (c2 < min) min = c2;
  if (c3 < min) min = c3;
  if (min === Counter.MAX) return 0;
  // Branch-free: ((c - min - 1) >>> 31) is 1 exactly when c === min (no
  // counter is below min); `| 0` keeps the words int32 when the top nibble
  // goes from 7 to 8.
  const m1 = min + 1;
  t[block] = (w0 + (((c0 - m1) >>> 31) << s0)) | 0;
  t[block | 1] = (w1 + (((c1 - m1) >>> 31) << s1)) | 0;
  t[block | 2] = (w2 + (((c2 - m1) >>> 31) << s2)) | 0;
  t[block | 3] = (w3 + (((c3 - m1) >>> 31) << s3)) | 0;
  return m1;
};

/**
 * Halves every counter of table `t`. A function of its own: the engine compiles its loop
 * on the stack (it runs once per sample period, never often enough to be compiled ahead),
 * and the statements after the loop, in `halve`, had never run when it did, so that code
 * was thrown away at the end of every halving and compiled again at the next.
 */
const halveCounters = (t: Int32Array): void => {
  for (let i = 0; i < t.length; i++) t[i] = (t[i]! >>> 1) & 0x77777777;
};

export class FrequencySketch {
  #table: Int32Array = new Int32Array(0);
  /** 32 minus the bits of a block index (see `blockOf`). */
  #blockShift = 32;
  #capacity = 0;
  #sampleSize = 0;
  #additions = 0;
  /**
   * 1 once halved (see `aged`): a number, not a boolean, because optimized
   * code tests a boolean field through a generic truthiness check, where the
   * comparison in the getter gives it a boolean it knows.
   */
  #aged = 0;
  #halvings = 0;

  constructor(expectedEntries = MIN_ENTRIES) {
    this.ensureCapacity(expectedEntries);
  }

  /** The number of entries the table is sized for (a power of two). */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * Whether the counters were halved since the table was (re)allocated or
   * reset. Until then a count of 1 means "seen exactly once"; afterwards it
   * may stand for a longer, decayed history.
   */
  get aged(): boolean {
    return this.#aged !== 0;
  }

  /**
   * Counts the halvings (a reset or a growth, which forget every count,
   * count as four: enough to take any 4-bit estimate to 0). An estimate
   * taken when this read `h` is now that estimate shifted right by
   * `halvings - h` (see `incrementAll`).
   */
  get halvings(): number {
    return this.#halvings;
  }

  /** Increments between two halvings: the sketch's memory, as a number of requests. */
  get samplePeriod(): number {
    return this.#sampleSize;
  }

  /** Increments since the last halving. */
  get additions(): number {
    return this.#additions;
  }

  /**
   * Grows the table so it suits `expectedEntries` (never shrinks). Growing
   * forgets every count: counts cannot be re-spread without the keys, and
   * growth happens only while the cache is still filling up.
   */
  ensureCapacity(expectedEntries: number): void {
    const expected = Math.min(MAX_ENTRIES, Math.max(MIN_ENTRIES, Math.ceil(expectedEntries)));
    this.#sampleSize = Math.max(this.#sampleSize, SAMPLE_FACTOR * expected);
    const capacity = ceilPow2(expected);
    if (capacity <= this.#capacity) return;
    this.#capacity = capacity;
    this.#table = new Int32Array(capacity * 2);
    // 2 * capacity words in blocks of 4: log2(capacity / 2) index bits.
    this.#blockShift = 32 - (Math.log2(capacity) - 1);
    this.#additions = 0;
    this.#aged = 0;
    this.#halvings += 4;
  }

  /** The estimated recent frequency of the key with this hash, 0 to 15. */
  frequency(hash: number): number {
    const t = this.#table;
    const block = blockOf(hash, this.#blockShift);
    const h = counterBits(hash);
    let min = (t[block]! >>> ((h & 7) << 2)) & 15;
    let c = (t[block | 1]! >>> (((h >>> 8) & 7) << 2)) & 15;
    if (c < min) min = c;
    c = (t[block | 2]! >>> (((h >>> 16) & 7) << 2)) & 15;
    if (c < min) min = c;
    c = (t[block | 3]! >>> (((h >>> 24) & 7) << 2)) & 15;
    return c < min ? c : min;
  }

  /**
   * Records one occurrence of the key with this hash, at once; returns the
   * key's estimate afterwards (1 to 15), as of the sketch's `halvings` after
   * the call.
   */
  increment(hash: number): number {
    const raised = raise(this.#table, this.#blockShift, hash);
    if (raised === 0) return Counter.MAX;
    if (++this.#additions >= this.#sampleSize) {
      this.halve();
      return raised >>> 1;
    }
    return raised;
  }

  /**
   * Records `count` occurrences, one per hash in `hashes`, whose low 4 bits
   * must be 0: each key's estimate afterwards (as of `halvings` after the
   * call) is written there, in place (one array for the batch, not two).
   * It first reads every block in a tight loop: the reads are
   * independent, so the processor overlaps their cache misses instead of
   * waiting for one after the other. Returns a meaningless value computed
   * from those reads, so that no compiler drops them. The table and the
   * counts are held in locals for the whole batch (this loop is the hot path
   * of every hit).
   */
  incrementAll(hashes: Int32Array, count: number): number {
    const t = this.#table;
    const blockShift = this.#blockShift;
    let touched = 0;
    for (let i = 0; i < count; i++) touched |= t[blockOf(hashes[i]!, blockShift)]!;
    let additions = this.#additions;
    const sampleSize = this.#sampleSize;
    for (let i = 0; i < count; i++) {
      const hash = hashes[i]!;
      const raised = raise(t, blockShift, hash);
      if (raised === 0) {
        hashes[i] = hash | Counter.MAX;
        continue;
      }
      hashes[i] = hash | raised;
      if (++additions >= sampleSize) {
        this.#additions = additions;
        this.halve();
        additions = this.#additions;
        // The estimates given so far predate the halving: age them with it.
        for (let j = 0; j <= i; j++) {
          const given = hashes[j]!;
          hashes[j] = (given & ~Counter.MAX) | ((given & Counter.MAX) >>> 1);
        }
      }
    }
    this.#additions = additions;
    return touched;
  }

  /** Halves every counter: the aging step, run after every sample period of increments. */
  halve(): void {
    halveCounters(this.#table);
    this.#additions >>>= 1;
    this.#aged = 1;
    this.#halvings++;
  }

  /** Forgets every count (for `clear`). */
  reset(): void {
    this.#table.fill(0);
    this.#additions = 0;
    this.#aged = 0;
    this.#halvings += 4;
  }
}
