/**
 * The entries of a `MemoryManager`, their eviction order and their byte
 * accounting: the mechanics under the manager's decisions.
 *
 * Design
 * - One `Map` from key to slot; the entries themselves in a `SlotStore`.
 * - Recency in one of two modes (see `./recency.ts`): list mode (a
 *   `RecencyList`, for a policy whose `tracksUse` is false: `lru`, whose
 *   victims are read from that list) or policy mode (the policy's own
 *   `lastUse` stamps; the table keeps no recency). Each operation below is
 *   therefore a two-way branch at most.
 * - Pinned entries are outside every order (their list links read pinned,
 *   their `lastUse` 0), so a victim is never a pinned entry; the pins are a
 *   `Set` of keys, which is how a key can be pinned before it is stored.
 * - Accounting: every path that stores or drops an entry adjusts
 *   `current` (and the pinned sums) by the entry's stored size, so they
 *   stay exact sums. Bytes dropped are also summed in `releasedBytes`, a
 *   running total (the manager tells a handler the difference).
 * - The table never decides when to evict nor calls out: an eviction is
 *   queued on the `EvictionQueue` (when anyone listens) for the manager to
 *   deliver, and kept weakly in the soft tier when there is one.
 */
import type { MemoryPressureLevel } from '../pressure-levels.js';
import type { EvictionReason } from './eviction-event.js';
import type { EvictionQueue } from './eviction-queue.js';
import type { EvictionPolicy, PolicyContext, PolicyFactory } from './policies/policy.js';
import { leastRecentByStamp, RecencyList } from './recency.js';
import { INITIAL_SLOT_CAPACITY, SlotStore } from './slot-store.js';
import type { SoftTier } from './soft-tier.js';

/**
 * What a policy may read of the table: one class for every cache, so that a policy's call to
 * `sizeOf` meets the same function in each (a closure per cache is a new function per cache:
 * optimized code that inlined one cache's is thrown away at the next cache's first call).
 */
class SlotSizes<K, V> implements PolicyContext {
  readonly #slots: SlotStore<K, V>;
  readonly maxBytes: number | undefined;

  constructor(slots: SlotStore<K, V>, maxBytes: number | undefined) {
    this.#slots = slots;
    this.maxBytes = maxBytes;
  }

  sizeOf(slot: number): number {
    return this.#slots.sizeOf(slot);
  }
}

export class EntryTable<K, V> {
  #map = new Map<K, number>();
  readonly #slots: SlotStore<K, V>;
  /** List mode: the recency list. Undefined in policy mode. */
  readonly #list: RecencyList | undefined;
  readonly #policy: EvictionPolicy;
  readonly #soft: SoftTier<K, V> | undefined;
  readonly #events: EvictionQueue;
  // The accounting: plain fields, read on the manager's hot paths (a getter
  // there costs V8 inlining budget), written only by this class.
  /** Bytes of every stored entry. */
  current = 0;
  /** The highest `current` seen. */
  peak = 0;
  pinnedBytes = 0;
  pinnedCount = 0;
  evictionCount = 0;
  /** Every byte dropped (evicted, deleted, replaced, cleared), a running total: with `current`, every byte stored. */
  releasedBytes = 0;
  /** The pinned keys, stored or not, in the order they were pinned. */
  readonly pins = new Set<K>();

  /** `maxBytes`: what the policy may size regions from (see `PolicyContext.maxBytes`). */
  constructor(factory: PolicyFactory, maxBytes: number | undefined, soft: SoftTier<K, V> | undefined, events: EvictionQueue) {
    this.#soft = soft;
    this.#events = events;
    this.#slots = new SlotStore<K, V>((capacity) => {
      this.#list?.grow(capacity);
      this.#policy.grow(capacity);
    });
    const policy = factory(new SlotSizes(this.#slots, maxBytes), INITIAL_SLOT_CAPACITY);
    if (policy.tracksUse && (typeof policy.lastUse !== 'function' || typeof policy.victim !== 'function')) {
      throw new TypeError('a policy that tracks uses needs lastUse and victim');
    }
    this.#policy = policy;
    this.#list = policy.tracksUse ? undefined : new RecencyList(INITIAL_SLOT_CAPACITY);
  }

  get policy(): EvictionPolicy {
    return this.#policy;
  }

  /** Whether the order is the recency list (`lru`). */
  get listMode(): boolean {
    return this.#list !== undefined;
  }

  get size(): number {
    return this.#map.size;
  }

  slotOf(key: K): number | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  value(slot: number): V {
    return this.#slots.values[slot] as V;
  }

  sizeOf(slot: number): number {
    return this.#slots.sizeOf(slot);
  }

  /** A `get` of a stored entry: marks it used (a pinned one is not); returns its value. */
  use(slot: number, key: K): V {
    const list = this.#list;
    if (list !== undefined) list.use(slot);
    // The policy stamps the use itself, and ignores a pinned entry.
    else this.#policy.touch(slot, key);
    return this.#slots.values[slot] as V;
  }

  /** Stores a new entry, pinned when its key is; returns its slot. */
  insert(key: K, value: V, bytes: number, pinned: boolean): number {
    const slots = this.#slots;
    const slot = slots.allocate();
    slots.fill(slot, key, value, bytes);
    const current = (this.current += bytes);
    if (current > this.peak) this.peak = current;
    if (pinned) {
      this.#pinNew(slot, key, bytes);
    } else {
      this.#list?.linkNewest(slot);
      this.#policy.add(slot, key, bytes);
    }
    // The `Map` last: V8 checks again the shapes of the objects read after a call to one of its built-ins.
    this.#map.set(key, slot);
    return slot;
  }

  // Apart from `insert`, to keep that small enough for V8 to inline into `set`.
  #pinNew(slot: number, key: K, bytes: number): void {
    this.pinnedBytes += bytes;
    this.pinnedCount++;
    // The policy starts the entry's state (a use count) for a later unpin.
    this.#policy.add(slot, key, bytes);
    this.#policy.remove(slot, bytes);
    this.#list?.markPinned(slot);
  }

  /**
   * A `set` of a stored entry, after the manager decided it stays: the new
   * value and size. A pinned entry is resized in place and an unchanged one
   * marked used; an evictable one whose size changes, or for which room is
   * to be made (`detach`), leaves the order so it cannot be its own victim:
   * the manager makes room, then calls `reattach`. Returns whether it left.
   */
  replace(slot: number, value: V, bytes: number, detach: boolean): boolean {
    const slots = this.#slots;
    const old = slots.sizeOf(slot);
    slots.values[slot] = value;
    if (!this.inOrder(slot)) {
      slots.setSize(slot, bytes);
      this.current += bytes - old;
      this.pinnedBytes += bytes - old;
      return false;
    }
    if (detach || bytes !== old) {
      this.#detach(slot, old);
      slots.setSize(slot, bytes);
      this.current += bytes - old;
      return true;
    }
    const list = this.#list;
    if (list !== undefined) list.use(slot);
    else this.#policy.touch(slot);
    return false;
  }

  /** Puts back an entry `replace` took out of the order, as used. */
  reattach(slot: number): void {
    this.#attach(slot, this.#slots.sizeOf(slot));
    if (this.#list === undefined) this.#policy.touch(slot);
  }

  /** A value is about to be replaced by `value`: the old one is garbage unless it is the same. */
  noteReplaced(slot: number, value: V): void {
    if (this.#slots.values[slot] !== value) this.releasedBytes += this.#slots.sizeOf(slot);
  }

  /** `maxUsage` follows `current` after a `replace` made room. */
  notePeak(): void {
    if (this.current > this.peak) this.peak = this.current;
  }

  /** The next entry to evict in the strategy's order, or 0. */
  victim(): number {
    // In list mode the policy's order is the recency list: read it here.
    const list = this.#list;
    return list !== undefined ? list.oldest() : this.#policy.victim!();
  }

  /** Whether a stored entry is evictable (in the order), i.e. not pinned. */
  inOrder(slot: number): boolean {
    const list = this.#list;
    return list !== undefined ? list.has(slot) : this.#policy.lastUse!(slot) !== 0;
  }

  /** Takes an evictable entry out of the order (the watermark pass keeps the entry just set out of reach). */
  detach(slot: number): number {
    const bytes = this.#slots.sizeOf(slot);
    this.#detach(slot, bytes);
    return bytes;
  }

  attach(slot: number, bytes: number): void {
    this.#attach(slot, bytes);
  }

  /**
   * Where a single entry leaves by eviction (the bulk pass is `evictAll`).
   * `slot` must be in the order (unpinned). `level` is the event's, and
   * undefined when nobody listens (`EvictionQueue.wanted` is false; no event
   * is built): the caller asks once per pass, in which no listener can run.
   * Returns the key.
   */
  evict(slot: number, reason: EvictionReason, level: MemoryPressureLevel | undefined): K {
    const slots = this.#slots;
    const key = slots.keys[slot] as K;
    const bytes = slots.sizeOf(slot);
    this.#detach(slot, bytes);
    if (this.#soft !== undefined || level !== undefined) this.#record(key, slots.values[slot] as V, bytes, reason, level);
    slots.release(slot);
    this.current -= bytes;
    this.releasedBytes += bytes;
    this.evictionCount++;
    // The `Map` last, as in `insert`.
    this.#map.delete(key);
    return key;
  }

  // Apart from `evict`, which V8 then inlines into the cache's `set` within its inlining budget.
  #record(key: K, value: V, bytes: number, reason: EvictionReason, level: MemoryPressureLevel | undefined): void {
    if (this.#soft !== undefined) this.#soft.hold(key, value, bytes);
    if (level !== undefined) this.#events.push({ key, bytes, reason, level });
  }

  /** Drops a stored entry without an event: `delete`, or a refused replacement. */
  remove(slot: number): void {
    const slots = this.#slots;
    const bytes = slots.sizeOf(slot);
    if (!this.inOrder(slot)) {
      this.pinnedBytes -= bytes;
      this.pinnedCount--;
    } else {
      this.#detach(slot, bytes);
    }
    this.#map.delete(slots.keys[slot] as K);
    slots.release(slot);
    this.current -= bytes;
    this.releasedBytes += bytes;
  }

  /** Pins `key`; returns whether anything changed. */
  pin(key: K): boolean {
    if (this.pins.has(key)) return false;
    this.pins.add(key);
    const slot = this.#map.get(key);
    if (slot !== undefined) {
      const bytes = this.#slots.sizeOf(slot);
      this.#detach(slot, bytes);
      this.#list?.markPinned(slot);
      this.pinnedBytes += bytes;
      this.pinnedCount++;
    }
    return true;
  }

  /** Unpins `key`; returns whether a stored entry rejoined the order (as just used). */
  unpin(key: K): boolean {
    if (!this.pins.delete(key)) return false;
    const slot = this.#map.get(key);
    if (slot === undefined) return false;
    const bytes = this.#slots.sizeOf(slot);
    this.pinnedBytes -= bytes;
    this.pinnedCount--;
    this.#attach(slot, bytes);
    return true;
  }

  /** Up to `count` evictable slots, least recently used first: O(count) in list mode, O(n log count) otherwise. */
  leastRecent(count: number): number[] {
    const list = this.#list;
    if (list === undefined) {
      const policy = this.#policy;
      return leastRecentByStamp(count, this.#slots.high, (slot) => policy.lastUse!(slot));
    }
    const slots: number[] = [];
    for (let slot = list.oldest(); slot !== 0 && slots.length < count; slot = list.newer(slot)) slots.push(slot);
    return slots;
  }

  /**
   * Evicts every unpinned entry: least recently used first in list mode, in
   * slot order in policy mode (everything goes, so the order does not
   * matter). One walk of the recency list or the slots, then the `Map` is
   * cleared or rebuilt from the pinned entries when that is cheaper than
   * deleting the evicted keys one by one. Values evicted for `manual` may
   * stay in the soft tier; an `emergency` (`pressure`) drops them. Returns
   * how many were evicted.
   */
  evictAll(reason: EvictionReason, level: MemoryPressureLevel, keysOut: K[] | undefined): number {
    const unpinned = this.#map.size - this.pinnedCount;
    if (unpinned === 0) return 0;
    const slots = this.#slots;
    const policy = this.#policy;
    const events = this.#events.wanted ? this.#events : undefined;
    const rebuild = unpinned > this.pinnedCount;
    const soft = reason === 'manual' ? this.#soft : undefined;
    let freed = 0;
    const evict = (slot: number): void => {
      const key = slots.keys[slot] as K;
      const bytes = slots.sizeOf(slot);
      if (soft !== undefined) soft.hold(key, slots.values[slot] as V, bytes);
      policy.remove(slot, bytes);
      if (!rebuild) this.#map.delete(key);
      if (keysOut !== undefined) keysOut.push(key);
      if (events !== undefined) events.push({ key, bytes, reason, level });
      slots.release(slot);
      freed += bytes;
    };
    const list = this.#list;
    if (list !== undefined) {
      for (let slot = list.oldest(); slot !== 0; ) {
        const following = list.newer(slot);
        evict(slot);
        slot = following;
      }
      list.empty();
    } else {
      for (let slot = 1, high = slots.high; slot < high; slot++) if (policy.lastUse!(slot) !== 0) evict(slot);
    }
    this.current -= freed;
    this.releasedBytes += freed;
    this.evictionCount += unpinned;
    if (rebuild) {
      const map = new Map<K, number>();
      if (this.pinnedCount !== 0) {
        for (const key of this.pins) {
          const slot = this.#map.get(key);
          if (slot !== undefined) map.set(key, slot);
        }
      }
      this.#map = map;
    }
    return unpinned;
  }

  /** Drops every entry and, unless `keepPins`, every pin; shrinks the arrays back. */
  clear(keepPins: boolean): void {
    this.releasedBytes += this.current;
    this.#map.clear();
    if (!keepPins) this.pins.clear();
    this.#soft?.clear();
    this.#slots.clear();
    this.#list?.clear(INITIAL_SLOT_CAPACITY);
    this.#policy.clear(INITIAL_SLOT_CAPACITY);
    this.current = 0;
    this.pinnedBytes = 0;
    this.pinnedCount = 0;
  }

  #detach(slot: number, bytes: number): void {
    this.#list?.unlink(slot);
    this.#policy.remove(slot, bytes);
  }

  #attach(slot: number, bytes: number): void {
    this.#list?.linkNewest(slot);
    this.#policy.readd(slot, bytes);
  }
}
