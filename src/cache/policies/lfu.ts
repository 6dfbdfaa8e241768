/**
 * `lfu`: fewest uses first, ties least recently used first.
 *
 * Structure (the O(1) LFU of Shah, Mitra and Matani, in typed arrays):
 * - a list of frequency buckets in increasing use count, circular around the
 *   sentinel bucket 0; only counts that some entry has get a bucket;
 * - in each bucket, a list of its entries in the order they reached that
 *   count, which is the order of their last use, so the head of the lowest
 *   bucket is the victim: fewest uses, least recently used among those.
 *
 * Cost: `add`, `touch`, `remove` and `victim` are O(1): a use moves the entry
 * from bucket `c` to bucket `c + 1`, which is `c`'s neighbour or a new bucket
 * linked right after it. `readd` (unpinning an entry, or putting back an
 * entry a replacing `set` made room around) looks for the bucket of the
 * entry's kept count from the lowest one: O(distinct counts), which is small
 * and only paid on those paths.
 *
 * Counts are kept while an entry is pinned (it keeps the count it had; uses
 * while pinned do not count) and saturate at 2^32 - 1.
 *
 * Memory: per slot a count, two links and a bucket index (16 bytes); buckets
 * are at most as many as entries, 20 bytes each, in arrays grown with the
 * cache's.
 */
import { growInt32, growUint32, type EvictionPolicy, type PolicyFactory } from './policy.js';

const MAX_COUNT = 0xffffffff;

class LfuPolicy implements EvictionPolicy {
  readonly tracksUse = true;
  // Per slot.
  #count!: Uint32Array;
  #prev!: Int32Array;
  #next!: Int32Array;
  #bucketOf!: Int32Array;
  // Per bucket; bucket 0 is the sentinel of the circular bucket list.
  #bucketCount!: Uint32Array;
  #bucketHead!: Int32Array;
  #bucketTail!: Int32Array;
  #bucketPrev!: Int32Array;
  #bucketNext!: Int32Array;
  /** Freed buckets, chained through `#bucketNext`. */
  #freeBucket = 0;
  /** Buckets below this index have been used at least once. */
  #bucketHigh = 1;

  constructor(capacity: number) {
    this.clear(capacity);
  }

  clear(capacity: number): void {
    this.#count = new Uint32Array(capacity);
    this.#prev = new Int32Array(capacity);
    this.#next = new Int32Array(capacity);
    this.#bucketOf = new Int32Array(capacity);
    this.#bucketCount = new Uint32Array(capacity);
    this.#bucketHead = new Int32Array(capacity);
    this.#bucketTail = new Int32Array(capacity);
    this.#bucketPrev = new Int32Array(capacity);
    this.#bucketNext = new Int32Array(capacity);
    this.#freeBucket = 0;
    this.#bucketHigh = 1;
  }

  grow(capacity: number): void {
    this.#count = growUint32(this.#count, capacity);
    this.#prev = growInt32(this.#prev, capacity);
    this.#next = growInt32(this.#next, capacity);
    this.#bucketOf = growInt32(this.#bucketOf, capacity);
    this.#bucketCount = growUint32(this.#bucketCount, capacity);
    this.#bucketHead = growInt32(this.#bucketHead, capacity);
    this.#bucketTail = growInt32(this.#bucketTail, capacity);
    this.#bucketPrev = growInt32(this.#bucketPrev, capacity);
    this.#bucketNext = growInt32(this.#bucketNext, capacity);
  }

  add(slot: number): void {
    this.#count[slot] = 1;
    const lowest = this.#bucketNext[0]!;
    const bucket = lowest !== 0 && this.#bucketCount[lowest] === 1 ? lowest : this.#newBucket(1, 0);
    this.#append(slot, bucket);
  }

  touch(slot: number): void {
    const bucket = this.#bucketOf[slot]!;
    const count = this.#count[slot]!;
    if (count === MAX_COUNT) {
      // Saturated: only the recency within the top bucket changes.
      this.#unlink(slot, bucket);
      this.#append(slot, bucket);
      return;
    }
    const nextCount = count + 1;
    this.#count[slot] = nextCount;
    const following = this.#bucketNext[bucket]!;
    const followingFits = following !== 0 && this.#bucketCount[following] === nextCount;
    if (this.#bucketHead[bucket] === slot && this.#bucketTail[bucket] === slot) {
      // Alone in its bucket: either join the next bucket or relabel this one
      // (the order of counts still holds, as no bucket has `nextCount`).
      if (followingFits) {
        this.#unlink(slot, bucket);
        this.#dropBucket(bucket);
        this.#append(slot, following);
      } else {
        this.#bucketCount[bucket] = nextCount;
      }
      return;
    }
    const target = followingFits ? following : this.#newBucket(nextCount, bucket);
    this.#unlink(slot, bucket);
    this.#append(slot, target);
  }

  remove(slot: number): void {
    const bucket = this.#bucketOf[slot]!;
    this.#unlink(slot, bucket);
    if (this.#bucketHead[bucket] === 0) this.#dropBucket(bucket);
  }

  readd(slot: number): void {
    const count = this.#count[slot]!;
    let bucket = this.#bucketNext[0]!;
    while (bucket !== 0 && this.#bucketCount[bucket]! < count) bucket = this.#bucketNext[bucket]!;
    if (bucket === 0 || this.#bucketCount[bucket] !== count) bucket = this.#newBucket(count, this.#bucketPrev[bucket]!);
    this.#append(slot, bucket);
  }

  victim(): number {
    const lowest = this.#bucketNext[0]!;
    return lowest === 0 ? 0 : this.#bucketHead[lowest]!;
  }

  /** A new empty bucket for `count`, linked right after bucket `after` (0: first). */
  #newBucket(count: number, after: number): number {
    let bucket = this.#freeBucket;
    if (bucket !== 0) this.#freeBucket = this.#bucketNext[bucket]!;
    else bucket = this.#bucketHigh++;
    const before = this.#bucketNext[after]!;
    this.#bucketCount[bucket] = count;
    this.#bucketHead[bucket] = 0;
    this.#bucketTail[bucket] = 0;
    this.#bucketPrev[bucket] = after;
    this.#bucketNext[bucket] = before;
    this.#bucketPrev[before] = bucket;
    this.#bucketNext[after] = bucket;
    return bucket;
  }

  #dropBucket(bucket: number): void {
    const before = this.#bucketPrev[bucket]!;
    const after = this.#bucketNext[bucket]!;
    this.#bucketNext[before] = after;
    this.#bucketPrev[after] = before;
    this.#bucketNext[bucket] = this.#freeBucket;
    this.#freeBucket = bucket;
  }

  #append(slot: number, bucket: number): void {
    const tail = this.#bucketTail[bucket]!;
    this.#prev[slot] = tail;
    this.#next[slot] = 0;
    if (tail === 0) this.#bucketHead[bucket] = slot;
    else this.#next[tail] = slot;
    this.#bucketTail[bucket] = slot;
    this.#bucketOf[slot] = bucket;
  }

  #unlink(slot: number, bucket: number): void {
    const before = this.#prev[slot]!;
    const after = this.#next[slot]!;
    if (before === 0) this.#bucketHead[bucket] = after;
    else this.#next[before] = after;
    if (after === 0) this.#bucketTail[bucket] = before;
    else this.#prev[after] = before;
  }
}

export const createLfuPolicy: PolicyFactory = (_context, capacity) => new LfuPolicy(capacity);
