/**
 * `size`: largest first, ties least recently used first.
 *
 * Structure: one bucket per distinct entry size, each a list of its entries
 * in order of last use, and a binary max-heap of the buckets by size (a
 * `Map` finds the bucket of a size). The victim is the head of the bucket at
 * the top of the heap.
 *
 * Cost: `touch` and `victim` are O(1) (a use only moves the entry to the end
 * of its own bucket); `add`, `remove` and `readd` are O(1) when the entry's
 * bucket already exists or stays non-empty, O(log b) for b distinct sizes
 * when a bucket is created or dropped. Sorting entries by size alone (a heap
 * of entries) would cost O(log n) on every `get` to keep the recency ties.
 *
 * A replacing `set` that changes an entry's size takes it out of the order
 * and puts it back (`remove`, `readd`), which moves it to its new bucket.
 *
 * Recency: the policy also keeps the cache's recency (`lastUse`, for
 * `evictLeastRecentlyUsed`): a use stamp per slot, written by `add`, `touch`
 * and `readd`, 0 out of the order. A `get` calls `touch` for a pinned entry
 * too, which its stamp of 0 makes a no-op. Stamps are int32: giving stamp
 * 2^31 - 1 renumbers every entry's stamp from 1 in the same order
 * (O(n log n), once per 2^31 uses).
 */
import { growFloat64, growInt32, renumberStamps, STAMP_LIMIT, type EvictionPolicy, type PolicyFactory } from './policy.js';

export class SizePolicy implements EvictionPolicy {
  readonly tracksUse = true;
  // Per slot.
  #prev!: Int32Array;
  #next!: Int32Array;
  #bucketOf!: Int32Array;
  /** Use stamps: larger is more recent, 0 out of the order. */
  #stamps!: Int32Array;
  // Per bucket (index 0 unused).
  #bucketSize!: Float64Array;
  #bucketHead!: Int32Array;
  #bucketTail!: Int32Array;
  #heapIndex!: Int32Array;
  /** Buckets as a max-heap by size. */
  #heap!: Int32Array;
  #heapLength = 0;
  #bucketBySize = new Map<number, number>();
  /** Freed buckets, chained through `#bucketTail`. */
  #freeBucket = 0;
  #bucketHigh = 1;
  /** The last stamp given. */
  #stamp = 0;
  /** Where stamps start after `clear`: 0, except in tests of the renumbering. */
  readonly #firstStamp: number;

  constructor(capacity: number, firstStamp = 0) {
    this.#firstStamp = firstStamp;
    this.clear(capacity);
  }

  clear(capacity: number): void {
    this.#prev = new Int32Array(capacity);
    this.#next = new Int32Array(capacity);
    this.#bucketOf = new Int32Array(capacity);
    this.#stamps = new Int32Array(capacity);
    this.#bucketSize = new Float64Array(capacity);
    this.#bucketHead = new Int32Array(capacity);
    this.#bucketTail = new Int32Array(capacity);
    this.#heapIndex = new Int32Array(capacity);
    this.#heap = new Int32Array(capacity);
    this.#heapLength = 0;
    this.#bucketBySize.clear();
    this.#freeBucket = 0;
    this.#bucketHigh = 1;
    this.#stamp = this.#firstStamp;
  }

  grow(capacity: number): void {
    this.#prev = growInt32(this.#prev, capacity);
    this.#next = growInt32(this.#next, capacity);
    this.#bucketOf = growInt32(this.#bucketOf, capacity);
    this.#stamps = growInt32(this.#stamps, capacity);
    this.#bucketSize = growFloat64(this.#bucketSize, capacity);
    this.#bucketHead = growInt32(this.#bucketHead, capacity);
    this.#bucketTail = growInt32(this.#bucketTail, capacity);
    this.#heapIndex = growInt32(this.#heapIndex, capacity);
    this.#heap = growInt32(this.#heap, capacity);
  }

  add(slot: number, _key: unknown, size: number): void {
    let bucket = this.#bucketBySize.get(size);
    if (bucket === undefined) bucket = this.#newBucket(size);
    const tail = this.#bucketTail[bucket]!;
    this.#prev[slot] = tail;
    this.#next[slot] = 0;
    if (tail === 0) this.#bucketHead[bucket] = slot;
    else this.#next[tail] = slot;
    this.#bucketTail[bucket] = slot;
    this.#bucketOf[slot] = bucket;
    this.#stampUse(slot);
  }

  lastUse(slot: number): number {
    return this.#stamps[slot]!;
  }

  readd(slot: number, size: number): void {
    this.add(slot, undefined, size);
  }

  touch(slot: number): void {
    // A size change never reaches here: the cache takes the entry out
    // (`remove`) and puts it back (`readd`) around it. So a use only moves
    // the entry to the end of its bucket. A pinned entry (stamp 0) is
    // outside the order: its use does not count.
    if (this.#stamps[slot] === 0) return;
    this.#stampUse(slot);
    const bucket = this.#bucketOf[slot]!;
    const tail = this.#bucketTail[bucket]!;
    if (tail === slot) return;
    this.#unlink(slot, bucket);
    this.#prev[slot] = tail;
    this.#next[slot] = 0;
    this.#next[tail] = slot;
    this.#bucketTail[bucket] = slot;
  }

  remove(slot: number): void {
    const bucket = this.#bucketOf[slot]!;
    this.#stamps[slot] = 0;
    this.#unlink(slot, bucket);
    if (this.#bucketHead[bucket] === 0) {
      this.#bucketBySize.delete(this.#bucketSize[bucket]!);
      this.#heapRemove(bucket);
      this.#bucketTail[bucket] = this.#freeBucket;
      this.#freeBucket = bucket;
    }
  }

  victim(): number {
    return this.#heapLength === 0 ? 0 : this.#bucketHead[this.#heap[0]!]!;
  }

  #stampUse(slot: number): void {
    const stamp = this.#stamp + 1;
    this.#stamp = stamp;
    this.#stamps[slot] = stamp;
    if (stamp === STAMP_LIMIT) this.#renumber();
  }

  /** Renumbers the stamps of the entries in the order 1, 2, ... keeping their order. */
  #renumber(): void {
    const inOrder: number[] = [];
    for (let i = 0; i < this.#heapLength; i++) {
      for (let slot = this.#bucketHead[this.#heap[i]!]!; slot !== 0; slot = this.#next[slot]!) inOrder.push(slot);
    }
    this.#stamp = renumberStamps(inOrder, this.#stamps, (slot) => slot);
  }

  #unlink(slot: number, bucket: number): void {
    const before = this.#prev[slot]!;
    const after = this.#next[slot]!;
    if (before === 0) this.#bucketHead[bucket] = after;
    else this.#next[before] = after;
    if (after === 0) this.#bucketTail[bucket] = before;
    else this.#prev[after] = before;
  }

  #newBucket(size: number): number {
    let bucket = this.#freeBucket;
    if (bucket !== 0) this.#freeBucket = this.#bucketTail[bucket]!;
    else bucket = this.#bucketHigh++;
    this.#bucketSize[bucket] = size;
    this.#bucketHead[bucket] = 0;
    this.#bucketTail[bucket] = 0;
    this.#bucketBySize.set(size, bucket);
    const index = this.#heapLength++;
    this.#heap[index] = bucket;
    this.#heapIndex[bucket] = index;
    this.#siftUp(index);
    return bucket;
  }

  #heapRemove(bucket: number): void {
    const index = this.#heapIndex[bucket]!;
    const last = --this.#heapLength;
    if (index === last) return;
    const moved = this.#heap[last]!;
    this.#heap[index] = moved;
    this.#heapIndex[moved] = index;
    this.#siftUp(index);
    this.#siftDown(this.#heapIndex[moved]!);
  }

  #siftUp(index: number): void {
    const heap = this.#heap;
    const sizes = this.#bucketSize;
    const bucket = heap[index]!;
    const size = sizes[bucket]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (sizes[parent]! >= size) break;
      heap[index] = parent;
      this.#heapIndex[parent] = index;
      index = parentIndex;
    }
    heap[index] = bucket;
    this.#heapIndex[bucket] = index;
  }

  #siftDown(index: number): void {
    const heap = this.#heap;
    const sizes = this.#bucketSize;
    const length = this.#heapLength;
    const bucket = heap[index]!;
    const size = sizes[bucket]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && sizes[heap[right]!]! > sizes[heap[left]!]!) child = right;
      const childBucket = heap[child]!;
      if (sizes[childBucket]! <= size) break;
      heap[index] = childBucket;
      this.#heapIndex[childBucket] = index;
      index = child;
    }
    heap[index] = bucket;
    this.#heapIndex[bucket] = index;
  }
}

export const createSizePolicy: PolicyFactory = (_context, capacity) => new SizePolicy(capacity);
