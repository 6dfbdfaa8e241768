/**
 * `lfu`: fewest uses first, ties least recently used first.
 *
 * Structure (the O(1) LFU of Shah, Mitra and Matani, in typed arrays):
 * - a list of frequency buckets in increasing use count, circular around the
 *   sentinel bucket 0 (count 0); only counts that some entry has get a
 *   bucket;
 * - in each bucket, a list of its entries in the order they reached that
 *   count, which is the order of their last use, so the head of the lowest
 *   bucket is the victim: fewest uses, least recently used among those;
 * - each bucket's `up` link: the bucket of the next count (its `next`, when
 *   that holds exactly count + 1), else 0. A use reads it instead of
 *   comparing two counts, and the sentinel's `up` is the bucket of count 1,
 *   where `add` puts a new entry.
 *
 * Cost: `add`, `touch`, `remove` and `victim` are O(1): a use moves the entry
 * from bucket `c` to bucket `c + 1`, which is `c`'s `up` or a new bucket
 * linked right after it. `readd` (putting back an entry taken out of the
 * order: a watermark pass or a replacing `set` making room around it, or an
 * unpin) finds the bucket of the entry's kept count by walking the bucket
 * list forward from a hint that `remove` leaves: the entry's own bucket, or
 * the one before it when the entry was its last. Any live bucket whose count
 * is at most the entry's is a valid start, since the list is sorted; a
 * bucket dropped since is marked dead, and the walk then starts from the
 * lowest. On the cache's own remove-then-readd paths the hint still stands
 * (or, if evictions emptied it, every lower bucket went first, so the walk
 * from the lowest is short): O(1). An unpin long after the pin may walk past
 * the counts that appeared in between: O(distinct counts) at worst.
 *
 * Counts are kept while an entry is pinned (it keeps the count it had; uses
 * while pinned do not count) and saturate at 2^31 - 1.
 *
 * Recency: the policy also keeps the cache's recency (`lastUse`, for
 * `evictLeastRecentlyUsed`), as a stamp in each entry's record, written by
 * `add`, `touch` and `readd` into the cache line the use touches anyway; the
 * cache then keeps no stamp array of its own (its policy mode). A `get`
 * calls `touch` for a pinned entry too: its record has no bucket and no
 * links, which sends it to `#touchSlow`, which ignores it. Stamps are int32:
 * giving stamp 2^31 - 1 renumbers every entry's stamp from 1 in the same
 * order (O(n log n), once per 2^31 uses).
 *
 * Speed: `touch` runs on every `get`, so it is split. The common case (the
 * entry has a neighbour in its bucket and bucket `c + 1` exists: no bucket
 * appears or disappears) is a small method V8 inlines into
 * `MemoryManager.get`: one read of the entry's record, one of its bucket's
 * `up`, the unlink and the append, with indexes built by shifts and ors
 * (no overflow checks). Everything else goes to `#touchSlow`. Keeping the
 * common case that small measurably matters: the work of a hit is a few
 * dependent cache misses (the `Map`, the value, this record), and the fewer
 * instructions a hit takes, the more hits the processor overlaps. For the
 * same reason the stamp lives in this record rather than in an array of
 * the cache's: one cache line less per hit.
 *
 * Layout: each slot's record sits in one `Int32Array` (stride 4): `[prev,
 * next, bucket, stamp]` in the order, `[0, 0, 0, kept count]` out of it
 * (bucket 0 is how "out of the order" reads). A use touches one cache line
 * for the entry instead of one per array; buckets likewise (stride 8).
 *
 * Memory: 20 bytes per slot, the record and the `readd` hint (the cache
 * keeps no 8-byte stamp per slot);
 * 32 bytes per bucket, in an array that grows with the number of distinct
 * counts (not with the cache).
 */
import { growInt32, renumberStamps, STAMP_LIMIT, type EvictionPolicy, type PolicyFactory } from './policy.js';

const MAX_COUNT = 0x7fffffff;

// Slot record: [prev, next, bucket, stamp] while the entry is in the order;
// [0, 0, 0, kept count] while it is out (removed or pinned).
const S_PREV = 0;
const S_NEXT = 1;
const S_BUCKET = 2;
const S_STAMP = 3;
const S_COUNT = 3;
const SLOT_SHIFT = 2;
// Bucket record: [count, head, tail, prev, next, up]; bucket 0 is the
// sentinel of the circular bucket list (count 0).
const B_COUNT = 0;
const B_HEAD = 1;
const B_TAIL = 2;
const B_PREV = 3;
const B_NEXT = 4;
const B_UP = 5;
const BUCKET_SHIFT = 3;
const INITIAL_BUCKETS = 16;
/** The count of a bucket on the free list: no live bucket has it, so a stale `readd` hint is recognised. */
const DEAD = -1;

export class LfuPolicy implements EvictionPolicy {
  readonly tracksUse = true;
  /** Per slot (see the record layout above); in the order, the entry's bucket holds its count. */
  #slots!: Int32Array;
  /** Per slot, while it is out of the order: where `readd` starts looking for its bucket (see the header). */
  #hints!: Int32Array;
  #buckets!: Int32Array;
  /** Freed buckets, chained through their `next`. */
  #freeBucket = 0;
  /** Buckets below this index have been used at least once. */
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
    this.#slots = new Int32Array(capacity << SLOT_SHIFT);
    this.#hints = new Int32Array(capacity);
    this.#buckets = new Int32Array(INITIAL_BUCKETS << BUCKET_SHIFT);
    this.#freeBucket = 0;
    this.#bucketHigh = 1;
    this.#stamp = this.#firstStamp;
  }

  grow(capacity: number): void {
    this.#slots = growInt32(this.#slots, capacity << SLOT_SHIFT);
    this.#hints = growInt32(this.#hints, capacity);
  }

  add(slot: number): void {
    const one = this.#buckets[B_UP]!;
    this.#append(slot, one !== 0 ? one : this.#newBucket(1, 0));
    this.#stampUse(slot);
  }

  lastUse(slot: number): number {
    const s = slot << SLOT_SHIFT;
    return this.#slots[s | S_BUCKET] === 0 ? 0 : this.#slots[s | S_STAMP]!;
  }

  /** The common case only (see the header); anything else is `#touchSlow`. */
  touch(slot: number): void {
    const slots = this.#slots;
    const buckets = this.#buckets;
    const s = slot << SLOT_SHIFT;
    const b = slots[s | S_BUCKET]! << BUCKET_SHIFT;
    const target = buckets[b | B_UP]!;
    const before = slots[s]!;
    const after = slots[s | S_NEXT]!;
    // No bucket for count + 1 yet, or alone in its bucket (which then goes
    // away or is relabelled), or out of the order (pinned: no links).
    if (target === 0 || (before | after) === 0) {
      this.#touchSlow(slot);
      return;
    }
    if (before === 0) buckets[b | B_HEAD] = after;
    else slots[(before << SLOT_SHIFT) | S_NEXT] = after;
    if (after === 0) buckets[b | B_TAIL] = before;
    else slots[after << SLOT_SHIFT] = before;
    // The target bucket is not empty: its tail is an entry.
    const t = target << BUCKET_SHIFT;
    const tail = buckets[t | B_TAIL]!;
    slots[(tail << SLOT_SHIFT) | S_NEXT] = slot;
    slots[s] = tail;
    slots[s | S_NEXT] = 0;
    slots[s | S_BUCKET] = target;
    buckets[t | B_TAIL] = slot;
    const stamp = this.#stamp + 1;
    this.#stamp = stamp;
    slots[s | S_STAMP] = stamp;
    if (stamp === STAMP_LIMIT) this.#renumber();
  }

  #touchSlow(slot: number): void {
    const slots = this.#slots;
    const s = slot << SLOT_SHIFT;
    const bucket = slots[s | S_BUCKET]!;
    // Pinned: not in the order, the use does not count.
    if (bucket === 0) return;
    this.#stampUse(slot);
    const b = bucket << BUCKET_SHIFT;
    const buckets = this.#buckets;
    const count = buckets[b | B_COUNT]!;
    if (count === MAX_COUNT) {
      this.#unlink(slot, bucket);
      this.#append(slot, bucket);
      return;
    }
    const up = buckets[b | B_UP]!;
    if ((slots[s | S_PREV]! | slots[s | S_NEXT]!) === 0) {
      if (up !== 0) {
        this.#dropBucket(bucket);
        this.#append(slot, up);
      } else {
        // No bucket holds count + 1: relabel this one (the order of counts
        // still holds). Its predecessor's `up` pointed here, if anywhere.
        buckets[b | B_COUNT] = count + 1;
        buckets[(buckets[b | B_PREV]! << BUCKET_SHIFT) | B_UP] = 0;
        const next = buckets[b | B_NEXT]!;
        buckets[b | B_UP] = buckets[next << BUCKET_SHIFT] === count + 2 ? next : 0;
      }
      return;
    }
    const target = up !== 0 ? up : this.#newBucket(count + 1, bucket);
    this.#unlink(slot, bucket);
    this.#append(slot, target);
  }

  remove(slot: number): void {
    const slots = this.#slots;
    const s = slot << SLOT_SHIFT;
    const bucket = slots[s | S_BUCKET]!;
    const b = bucket << BUCKET_SHIFT;
    const count = this.#buckets[b | B_COUNT]!;
    this.#unlink(slot, bucket);
    if (this.#buckets[b | B_HEAD] === 0) {
      this.#hints[slot] = this.#buckets[b | B_PREV]!;
      this.#dropBucket(bucket);
    } else {
      this.#hints[slot] = bucket;
    }
    slots[s | S_PREV] = 0;
    slots[s | S_NEXT] = 0;
    slots[s | S_BUCKET] = 0;
    // Kept for `readd`, in place of the stamp.
    slots[s | S_COUNT] = count;
  }

  readd(slot: number): void {
    const count = this.#slots[(slot << SLOT_SHIFT) | S_COUNT]!;
    const buckets = this.#buckets;
    // Start from the hint when it is a live bucket (the sentinel counts 0) whose count is at most ours.
    let after = this.#hints[slot]!;
    const hinted = buckets[after << BUCKET_SHIFT]!;
    if (after >= this.#bucketHigh || hinted === DEAD || hinted > count) after = 0;
    else if (hinted === count && after !== 0) {
      this.#append(slot, after);
      this.#stampUse(slot);
      return;
    }
    let bucket = buckets[(after << BUCKET_SHIFT) | B_NEXT]!;
    while (bucket !== 0 && buckets[bucket << BUCKET_SHIFT]! < count) {
      after = bucket;
      bucket = buckets[(bucket << BUCKET_SHIFT) | B_NEXT]!;
    }
    if (bucket === 0 || buckets[bucket << BUCKET_SHIFT] !== count) bucket = this.#newBucket(count, after);
    this.#append(slot, bucket);
    this.#stampUse(slot);
  }

  victim(): number {
    const buckets = this.#buckets;
    const lowest = buckets[B_NEXT]!;
    return lowest === 0 ? 0 : buckets[(lowest << BUCKET_SHIFT) | B_HEAD]!;
  }

  /** Stamps the use of an entry in the order (as `touch` does inline). */
  #stampUse(slot: number): void {
    const stamp = this.#stamp + 1;
    this.#stamp = stamp;
    this.#slots[(slot << SLOT_SHIFT) | S_STAMP] = stamp;
    if (stamp === STAMP_LIMIT) this.#renumber();
  }

  /**
   * Renumbers the stamps of the entries in the order 1, 2, ... keeping
   * their order, so stamps stay int32. O(n log n), once per 2^31 uses.
   */
  #renumber(): void {
    const slots = this.#slots;
    const buckets = this.#buckets;
    const inOrder: number[] = [];
    for (let bucket = buckets[B_NEXT]!; bucket !== 0; bucket = buckets[(bucket << BUCKET_SHIFT) | B_NEXT]!) {
      for (let slot = buckets[(bucket << BUCKET_SHIFT) | B_HEAD]!; slot !== 0; slot = slots[(slot << SLOT_SHIFT) | S_NEXT]!) inOrder.push(slot);
    }
    this.#stamp = renumberStamps(inOrder, slots, (slot) => (slot << SLOT_SHIFT) | S_STAMP);
  }

  /** A new empty bucket for `count`, linked right after bucket `after` (0: first); `up` links kept exact. */
  #newBucket(count: number, after: number): number {
    let bucket = this.#freeBucket;
    if (bucket !== 0) {
      this.#freeBucket = this.#buckets[(bucket << BUCKET_SHIFT) | B_NEXT]!;
    } else {
      bucket = this.#bucketHigh++;
      if (bucket << BUCKET_SHIFT >= this.#buckets.length) this.#buckets = growInt32(this.#buckets, this.#buckets.length * 2);
    }
    const buckets = this.#buckets;
    const b = bucket << BUCKET_SHIFT;
    const a = after << BUCKET_SHIFT;
    const before = buckets[a | B_NEXT]!;
    const n = before << BUCKET_SHIFT;
    buckets[b | B_COUNT] = count;
    buckets[b | B_HEAD] = 0;
    buckets[b | B_TAIL] = 0;
    buckets[b | B_PREV] = after;
    buckets[b | B_NEXT] = before;
    buckets[b | B_UP] = before !== 0 && buckets[n | B_COUNT] === count + 1 ? before : 0;
    buckets[n | B_PREV] = bucket;
    buckets[a | B_NEXT] = bucket;
    buckets[a | B_UP] = buckets[a | B_COUNT] === count - 1 ? bucket : 0;
    return bucket;
  }

  /** Unlinks an empty bucket; its predecessor's `up` (which could only point to it) becomes 0. */
  #dropBucket(bucket: number): void {
    const buckets = this.#buckets;
    const b = bucket << BUCKET_SHIFT;
    const before = buckets[b | B_PREV]!;
    const after = buckets[b | B_NEXT]!;
    buckets[(before << BUCKET_SHIFT) | B_NEXT] = after;
    buckets[(before << BUCKET_SHIFT) | B_UP] = 0;
    buckets[(after << BUCKET_SHIFT) | B_PREV] = before;
    buckets[b | B_COUNT] = DEAD;
    buckets[b | B_NEXT] = this.#freeBucket;
    this.#freeBucket = bucket;
  }

  #append(slot: number, bucket: number): void {
    const slots = this.#slots;
    const buckets = this.#buckets;
    const s = slot << SLOT_SHIFT;
    const b = bucket << BUCKET_SHIFT;
    const tail = buckets[b | B_TAIL]!;
    slots[s | S_PREV] = tail;
    slots[s | S_NEXT] = 0;
    if (tail === 0) buckets[b | B_HEAD] = slot;
    else slots[(tail << SLOT_SHIFT) | S_NEXT] = slot;
    buckets[b | B_TAIL] = slot;
    slots[s | S_BUCKET] = bucket;
  }

  #unlink(slot: number, bucket: number): void {
    const slots = this.#slots;
    const buckets = this.#buckets;
    const s = slot << SLOT_SHIFT;
    const b = bucket << BUCKET_SHIFT;
    const before = slots[s | S_PREV]!;
    const after = slots[s | S_NEXT]!;
    if (before === 0) buckets[b | B_HEAD] = after;
    else slots[(before << SLOT_SHIFT) | S_NEXT] = after;
    if (after === 0) buckets[b | B_TAIL] = before;
    else slots[(after << SLOT_SHIFT) | S_PREV] = before;
  }
}

export const createLfuPolicy: PolicyFactory = (_context, capacity) => new LfuPolicy(capacity);
