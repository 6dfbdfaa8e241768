/**
 * The eviction-order plug-in of `MemoryManager`.
 *
 * The cache stores entries in numbered slots (typed arrays indexed by slot,
 * one `Map` from key to slot). Slot 0 is never an entry: every policy may use
 * index 0 of its own per-slot arrays as a list sentinel, and `victim()`
 * returns 0 for "nothing to evict".
 *
 * The cache always knows the recency of the evictable entries
 * (`evictLeastRecentlyUsed` needs it whatever the strategy): its own list
 * when the policy's `tracksUse` is false, else the policy's stamps
 * (`lastUse`); a policy adds the order its strategy evicts in. Only
 * unpinned entries are ever in a policy's order: pinning an entry calls
 * `remove`, unpinning calls `readd`, so `victim()` never has to skip
 * anything.
 *
 * Call protocol (the cache guarantees it, a policy may rely on it):
 * - `add(slot, key, bytes)`: a new entry was stored in `slot` (its first
 *   use), with its key and the bytes it is accounted for (the bytes are
 *   also readable through the context; passed because the cache has them
 *   at hand and a call back costs more than the argument). A new entry
 *   that is pinned from the start gets `add` and then `remove` at once, so
 *   its state exists for a later `readd`.
 * - `touch(slot)`: the entry in `slot` was used: `get`, or `set` replacing
 *   its value. Called only for slots in the order (except on `get` for a
 *   policy with `lastUse`, see there), and only when `tracksUse` is true
 *   (an order that only needs `add`/`remove`, like `lru`, which reads the
 *   cache's recency list, sets it false to keep `get` free of the call). A
 *   use never changes the entry's size: a replacing `set` that changes it
 *   calls `remove` before and `readd` after (then `touch`, as it is also a
 *   use).
 * - `remove(slot, bytes)`: the entry left the order: deleted, evicted or
 *   pinned; `bytes` is its size as accounted while it was in the order.
 *   Keep whatever per-slot state `readd` needs; `add` resets it when the slot
 *   is reused for another key.
 * - `readd(slot, bytes)`: a removed entry came back (unpinned, or
 *   re-inserted after a replacing `set` made room around it), as just used,
 *   with the state it had (an `lfu` entry keeps its count) and the bytes it
 *   is now accounted for (a replacing `set` may have changed them).
 * - `victim()`: the slot to evict next, or 0 when the order is empty. Must
 *   not change the order: the cache calls `remove` when it really evicts.
 *   A policy whose `tracksUse` is false declares that its order is the
 *   cache's recency list (least recently used first) and has no `victim`:
 *   the cache reads victims from that list itself.
 * - `onMiss(key)` (optional): a `get` missed; admission policies count these.
 * - `lastUse(slot)` (required with `tracksUse`): the policy keeps recency
 *   itself and the cache keeps none. It must stamp the entry as used on
 *   `add`, `touch` and `readd` (a stamp larger than every earlier one) and
 *   return that stamp here, or 0 for a slot outside its order (removed,
 *   pinned, never used); `remove` must make it 0. A `get` then calls `touch`
 *   without checking that the entry is in the order: `touch` must ignore a
 *   slot whose `lastUse` is 0 (a pinned entry). Stamps only need to compare
 *   correctly with each other: a policy may renumber them.
 * - `grow(capacity)`: the cache's per-slot arrays now hold `capacity` slots
 *   (index 0 included); slots below `capacity` may be passed from now on.
 * - `clear(capacity)`: every entry is gone; drop the order and the per-slot
 *   state. The cache's per-slot arrays now hold `capacity` slots (it shrinks
 *   them on `clear`, so the policy should reallocate too).
 *
 * To add a strategy: write one file exporting a `PolicyFactory` and add one
 * line to `POLICY_FACTORIES` in `./registry.ts`. Validation, the
 * `EvictionStrategy` type and the per-strategy test suites all read that
 * registry.
 */

/** What the cache lets a policy read. */
export interface PolicyContext {
  /** The bytes accounted for the entry in `slot`. */
  sizeOf(slot: number): number;
  /**
   * The bytes the cache holds when full: `maxCacheBytes`, or the moderate
   * watermark when that is lower (every `set` reaching it evicts), or
   * `undefined` without a budget. A policy that splits the cache into
   * regions (`tinylfu`) sizes them from it.
   */
  readonly maxBytes: number | undefined;
}

export interface EvictionPolicy {
  /** Whether `touch` must be called on each use; false keeps `get` call-free. */
  readonly tracksUse: boolean;
  add(slot: number, key: unknown, bytes: number): void;
  /** `key` is the entry's key when the caller has it at hand (a `get`), sparing the policy a lookup. */
  touch(slot: number, key?: unknown): void;
  remove(slot: number, bytes: number): void;
  readd(slot: number, bytes: number): void;
  /** Required with `tracksUse`; absent when the order is the cache's recency list (see the protocol above). */
  victim?(): number;
  /**
   * True for an admission policy (`tinylfu`): its `victim()` may be the
   * entry just stored, which then leaves (it lost its duel). Otherwise the
   * watermark pass keeps the entry just set out of the order, evicting it
   * last.
   */
  readonly admits?: boolean;
  onMiss?(key: unknown): void;
  /** Required with `tracksUse`: the policy keeps recency itself (see the protocol above). */
  lastUse?(slot: number): number;
  grow(capacity: number): void;
  clear(capacity: number): void;
}

/** Builds a policy for a cache whose per-slot arrays hold `capacity` slots. */
export type PolicyFactory = (context: PolicyContext, capacity: number) => EvictionPolicy;

/** Use stamps (`lastUse`) stay below this: giving it renumbers them (`renumberStamps`). @internal */
export const STAMP_LIMIT = 0x7fffffff;

/**
 * Renumbers use stamps 1, 2, ... keeping their order, so they stay int32:
 * `slots` are the entries in the order, `stamps[indexOf(slot)]` the stamp of
 * each. Returns the last stamp given. O(n log n), once per 2^31 uses.
 * @internal
 */
export function renumberStamps(slots: number[], stamps: Int32Array, indexOf: (slot: number) => number): number {
  slots.sort((a, b) => stamps[indexOf(a)]! - stamps[indexOf(b)]!);
  for (let i = 0; i < slots.length; i++) stamps[indexOf(slots[i]!)] = i + 1;
  return slots.length;
}

/** An `Int32Array` of `capacity` elements holding the first elements of `from`. @internal */
export function growInt32(from: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const to = new Int32Array(capacity);
  to.set(from.length <= capacity ? from : from.subarray(0, capacity));
  return to;
}

/** An `Uint32Array` of `capacity` elements holding the first elements of `from`. @internal */
export function growUint32(from: Uint32Array, capacity: number): Uint32Array<ArrayBuffer> {
  const to = new Uint32Array(capacity);
  to.set(from.length <= capacity ? from : from.subarray(0, capacity));
  return to;
}

/** An `Uint8Array` of `capacity` elements holding the first elements of `from`. @internal */
export function growUint8(from: Uint8Array, capacity: number): Uint8Array<ArrayBuffer> {
  const to = new Uint8Array(capacity);
  to.set(from.length <= capacity ? from : from.subarray(0, capacity));
  return to;
}

/** A `Float64Array` of `capacity` elements holding the first elements of `from`. @internal */
export function growFloat64(from: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const to = new Float64Array(capacity);
  to.set(from.length <= capacity ? from : from.subarray(0, capacity));
  return to;
}
