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
 * while pinned do not count) and saturate at 2^31 - 1.
 *
 * Layout: each slot's links, bucket and kept count sit together in one
 * `Int32Array` (stride 4), so a use touches one cache line for the entry
 * instead of one per array; buckets likewise (stride 8). This matters: the
 * work of a use is a handful of dependent memory reads.
 *
 * Memory: 16 bytes per slot; 32 bytes per bucket, in an array that grows
 * with the number of distinct counts (not with the cache).
 */
import { growInt32, type EvictionPolicy, type PolicyFactory } from './policy.js';

const MAX_COUNT = 0x7fffffff;

// Slot record: [prev, next, bucket, kept count].
const S_PREV = 0;
const S_NEXT = 1;
const S_BUCKET = 2;
const S_COUNT = 3;
const SLOT_STRIDE = 4;
// Bucket record: [count, head, tail, prev, next]; bucket 0 is the sentinel
// of the circular bucket list.
const B_COUNT = 0;
const B_HEAD = 1;
const B_TAIL = 2;
const B_PREV = 3;
const B_NEXT = 4;
const BUCKET_STRIDE = 8;
const INITIAL_BUCKETS = 16;

class LfuPolicy implements EvictionPolicy {
  readonly tracksUse = true;
  /** Per slot; the kept count is only meaningful while the entry is out of the order (in it, its bucket holds the count). */
  #slots!: Int32Array;
  #buckets!: Int32Array;
  /** Freed buckets, chained through their `next`. */
  #freeBucket = 0;
  /** Buckets below this index have been used at least once. */
  #bucketHigh = 1;

  constructor(capacity: number) {
    this.clear(capacity);
  }

  clear(capacity: number): void {
    this.#slots = new Int32Array(capacity * SLOT_STRIDE);
    this.#buckets = new Int32Array(INITIAL_BUCKETS * BUCKET_STRIDE);
    this.#freeBucket = 0;
    this.#bucketHigh = 1;
  }

  grow(capacity: number): void {
    this.#slots = growInt32(this.#slots, capacity * SLOT_STRIDE);
  }

  add(slot: number): void {
    const buckets = this.#buckets;
    const lowest = buckets[B_NEXT]!;
    const bucket = lowest !== 0 && buckets[lowest * BUCKET_STRIDE + B_COUNT] === 1 ? lowest : this.#newBucket(1, 0);
    this.#append(slot, bucket);
  }

  touch(slot: number): void {
    const slots = this.#slots;
    const buckets = this.#buckets;
    const s = slot * SLOT_STRIDE;
    const bucket = slots[s + S_BUCKET]!;
    const b = bucket * BUCKET_STRIDE;
    const count = buckets[b + B_COUNT]!;
    if (count === MAX_COUNT) {
      // Saturated: only the recency within the top bucket changes.
      this.#unlink(slot, bucket);
      this.#append(slot, bucket);
      return;
    }
    const nextCount = count + 1;
    const following = buckets[b + B_NEXT]!;
    const followingFits = following !== 0 && buckets[following * BUCKET_STRIDE + B_COUNT] === nextCount;
    const before = slots[s + S_PREV]!;
    const after = slots[s + S_NEXT]!;
    if (before === 0 && after === 0) {
      // Alone in its bucket: either join the next bucket or relabel this one
      // (the order of counts still holds, as no bucket has `nextCount`).
      if (followingFits) {
        this.#dropBucket(bucket);
        this.#append(slot, following);
      } else {
        buckets[b + B_COUNT] = nextCount;
      }
      return;
    }
    const target = followingFits ? following : this.#newBucket(nextCount, bucket);
    // #newBucket may have grown the bucket array.
    const bs = this.#buckets;
    if (before === 0) bs[b + B_HEAD] = after;
    else slots[before * SLOT_STRIDE + S_NEXT] = after;
    if (after === 0) bs[b + B_TAIL] = before;
    else slots[after * SLOT_STRIDE + S_PREV] = before;
    const t = target * BUCKET_STRIDE;
    const tail = bs[t + B_TAIL]!;
    slots[s + S_PREV] = tail;
    slots[s + S_NEXT] = 0;
    if (tail === 0) bs[t + B_HEAD] = slot;
    else slots[tail * SLOT_STRIDE + S_NEXT] = slot;
    bs[t + B_TAIL] = slot;
    slots[s + S_BUCKET] = target;
  }

  remove(slot: number): void {
    const bucket = this.#slots[slot * SLOT_STRIDE + S_BUCKET]!;
    const b = bucket * BUCKET_STRIDE;
    // Kept for `readd`.
    this.#slots[slot * SLOT_STRIDE + S_COUNT] = this.#buckets[b + B_COUNT]!;
    this.#unlink(slot, bucket);
    if (this.#buckets[b + B_HEAD] === 0) this.#dropBucket(bucket);
  }

  readd(slot: number): void {
    const count = this.#slots[slot * SLOT_STRIDE + S_COUNT]!;
    const buckets = this.#buckets;
    let bucket = buckets[B_NEXT]!;
    while (bucket !== 0 && buckets[bucket * BUCKET_STRIDE + B_COUNT]! < count) bucket = buckets[bucket * BUCKET_STRIDE + B_NEXT]!;
    if (bucket === 0 || buckets[bucket * BUCKET_STRIDE + B_COUNT] !== count) {
      bucket = this.#newBucket(count, buckets[bucket * BUCKET_STRIDE + B_PREV]!);
    }
    this.#append(slot, bucket);
  }

  victim(): number {
    const buckets = this.#buckets;
    const lowest = buckets[B_NEXT]!;
    return lowest === 0 ? 0 : buckets[lowest * BUCKET_STRIDE + B_HEAD]!;
  }

  /** A new empty bucket for `count`, linked right after bucket `after` (0: first). */
  #newBucket(count: number, after: number): number {
    let bucket = this.#freeBucket;
    if (bucket !== 0) {
      this.#freeBucket = this.#buckets[bucket * BUCKET_STRIDE + B_NEXT]!;
    } else {
      bucket = this.#bucketHigh++;
      if (bucket * BUCKET_STRIDE >= this.#buckets.length) this.#buckets = growInt32(this.#buckets, this.#buckets.length * 2);
    }
    const buckets = this.#buckets;
    const b = bucket * BUCKET_STRIDE;
    const before = buckets[after * BUCKET_STRIDE + B_NEXT]!;
    buckets[b + B_COUNT] = count;
    buckets[b + B_HEAD] = 0;
    buckets[b + B_TAIL] = 0;
    buckets[b + B_PREV] = after;
    buckets[b + B_NEXT] = before;
    buckets[before * BUCKET_STRIDE + B_PREV] = bucket;
    buckets[after * BUCKET_STRIDE + B_NEXT] = bucket;
    return bucket;
  }

  #dropBucket(bucket: number): void {
    const buckets = this.#buckets;
    const b = bucket * BUCKET_STRIDE;
    const before = buckets[b + B_PREV]!;
    const after = buckets[b + B_NEXT]!;
    buckets[before * BUCKET_STRIDE + B_NEXT] = after;
    buckets[after * BUCKET_STRIDE + B_PREV] = before;
    buckets[b + B_NEXT] = this.#freeBucket;
    this.#freeBucket = bucket;
  }

  #append(slot: number, bucket: number): void {
    const slots = this.#slots;
    const buckets = this.#buckets;
    const s = slot * SLOT_STRIDE;
    const b = bucket * BUCKET_STRIDE;
    const tail = buckets[b + B_TAIL]!;
    slots[s + S_PREV] = tail;
    slots[s + S_NEXT] = 0;
    if (tail === 0) buckets[b + B_HEAD] = slot;
    else slots[tail * SLOT_STRIDE + S_NEXT] = slot;
    buckets[b + B_TAIL] = slot;
    slots[s + S_BUCKET] = bucket;
  }

  #unlink(slot: number, bucket: number): void {
    const slots = this.#slots;
    const buckets = this.#buckets;
    const s = slot * SLOT_STRIDE;
    const b = bucket * BUCKET_STRIDE;
    const before = slots[s + S_PREV]!;
    const after = slots[s + S_NEXT]!;
    if (before === 0) buckets[b + B_HEAD] = after;
    else slots[before * SLOT_STRIDE + S_NEXT] = after;
    if (after === 0) buckets[b + B_TAIL] = before;
    else slots[after * SLOT_STRIDE + S_PREV] = before;
  }
}

export const createLfuPolicy: PolicyFactory = (_context, capacity) => new LfuPolicy(capacity);
