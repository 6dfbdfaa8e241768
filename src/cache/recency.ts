/**
 * How `MemoryManager` knows which evictable entries were used least
 * recently (`evictLeastRecentlyUsed` needs it whatever the strategy). Two
 * ways, chosen by the policy:
 *
 * - `RecencyList`, for a policy whose `tracksUse` is false (`lru`): a
 *   doubly linked list of the evictable entries, `prev`/`next` links in two
 *   `Int32Array`s indexed by slot, with slot 0 as the sentinel (so linking
 *   never branches on an empty list). The list is also `lru`'s eviction
 *   order, so a `get` is one `Map` lookup and one O(1) move, and the policy
 *   keeps no state at all. A pinned entry is outside the list, its links
 *   set to `PINNED`.
 * - The policy's own use stamps (`lastUse`), for every other policy: it
 *   already moves the entry in its own order on each use, and writing a
 *   stamp into the record that move touches costs far less than a second
 *   list (which made `lfu` reads cost 1.7x `lru` reads: two list moves, each
 *   a few dependent cache misses) or a stamp array of the cache's (one more
 *   cache line per hit, about a tenth of `lfu`'s `get` speed). The price is
 *   paid by `evictLeastRecentlyUsed(k)`, O(n log k) over the slots
 *   (`leastRecentByStamp`) instead of O(k): a manual operation.
 */
import { growInt32 } from './policies/policy.js';

/** The links of a pinned entry: outside the list (a `const enum`, written into the code: in a bundle a `const` becomes a variable, read at every use; docs/design/tinylfu.md). */
const enum Links {
  PINNED = -1,
}

export class RecencyList {
  #prev: Int32Array;
  #next: Int32Array;

  constructor(capacity: number) {
    this.#prev = new Int32Array(capacity);
    this.#next = new Int32Array(capacity);
  }

  /** The least recently used evictable entry, or 0. */
  oldest(): number {
    return this.#next[0]!;
  }

  /** The entry used next after `slot`, or 0 after the newest. */
  newer(slot: number): number {
    return this.#next[slot]!;
  }

  /** A `get` of `slot`: makes it the newest, unless it is already or is pinned. */
  use(slot: number): void {
    const next = this.#next;
    const after = next[slot]!;
    // 0: already the newest. Links.PINNED: outside the list, nothing to mark.
    if (after !== 0 && after !== Links.PINNED) {
      const prev = this.#prev;
      const before = prev[slot]!;
      next[before] = after;
      prev[after] = before;
      const newest = prev[0]!;
      next[newest] = slot;
      prev[slot] = newest;
      next[slot] = 0;
      prev[0] = slot;
    }
  }

  /** Links an entry outside the list (new, unpinned, or just unlinked) as the newest. */
  linkNewest(slot: number): void {
    const prev = this.#prev;
    const newest = prev[0]!;
    this.#next[newest] = slot;
    prev[slot] = newest;
    this.#next[slot] = 0;
    prev[0] = slot;
  }

  /** Takes an entry of the list out of it. */
  unlink(slot: number): void {
    const before = this.#prev[slot]!;
    const after = this.#next[slot]!;
    this.#next[before] = after;
    this.#prev[after] = before;
  }

  /** Marks a stored entry that is outside the list as pinned. */
  markPinned(slot: number): void {
    this.#next[slot] = Links.PINNED;
    this.#prev[slot] = Links.PINNED;
  }

  /** Whether a stored entry is in the list (evictable), i.e. not pinned. */
  has(slot: number): boolean {
    return this.#next[slot] !== Links.PINNED;
  }

  /** Empties the list at once, after every entry in it was freed (a bulk eviction). */
  empty(): void {
    this.#next[0] = 0;
    this.#prev[0] = 0;
  }

  grow(capacity: number): void {
    this.#prev = growInt32(this.#prev, capacity);
    this.#next = growInt32(this.#next, capacity);
  }

  clear(capacity: number): void {
    this.#prev = new Int32Array(capacity);
    this.#next = new Int32Array(capacity);
  }
}

/**
 * Up to `count` slots below `high` whose `lastUse` is not 0, least recently
 * used (smallest stamp) first. O(high log count), with a bounded max-heap of
 * stamps.
 */
export function leastRecentByStamp(count: number, high: number, lastUse: (slot: number) => number): number[] {
  const heap: number[] = [];
  const stamps: number[] = [];
  if (count === 0) return heap;
  const swap = (a: number, b: number): void => {
    const slot = heap[a]!;
    heap[a] = heap[b]!;
    heap[b] = slot;
    const stamp = stamps[a]!;
    stamps[a] = stamps[b]!;
    stamps[b] = stamp;
  };
  for (let slot = 1; slot < high; slot++) {
    const stamp = lastUse(slot);
    if (stamp === 0) continue;
    if (heap.length < count) {
      heap.push(slot);
      stamps.push(stamp);
      for (let i = heap.length - 1; i > 0 && stamps[i]! > stamps[(i - 1) >> 1]!; i = (i - 1) >> 1) swap(i, (i - 1) >> 1);
    } else if (stamp < stamps[0]!) {
      heap[0] = slot;
      stamps[0] = stamp;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        let top = i;
        if (left < heap.length && stamps[left]! > stamps[top]!) top = left;
        if (left + 1 < heap.length && stamps[left + 1]! > stamps[top]!) top = left + 1;
        if (top === i) break;
        swap(i, top);
        i = top;
      }
    }
  }
  const order = heap.map((_, i) => i).sort((a, b) => stamps[a]! - stamps[b]!);
  return order.map((i) => heap[i]!);
}
