/**
 * MemoryManager: a cache bounded by bytes, with pinned entries, that sheds
 * under pressure.
 *
 * Structure
 * - Entries live in numbered slots: one `Map` from key to slot, keys and
 *   values in two plain arrays indexed by slot, sizes in a `Uint32Array`
 *   (whole bytes; the rare size of 4 GiB or more lives in a side `Map`).
 *   Freed slots are chained through `sizes` and reused first; the typed
 *   arrays double when full and shrink back on `clear`. No object is
 *   allocated per entry, which is what makes this layout both the fastest
 *   and the smallest in JavaScript (mnemonist and lru-cache do the same):
 *   the garbage collector sees a handful of large arrays.
 * - Recency (least recently used first, which `evictLeastRecentlyUsed` needs
 *   whatever the strategy) is kept in one of three ways:
 *   - list mode, for `lru`: a doubly linked list of the evictable entries,
 *     `prev`/`next` links in two `Int32Array`s with slot 0 as the sentinel
 *     (so linking never branches on an empty list). This list is also the
 *     `lru` eviction order, so a `get` is one `Map` lookup and one O(1) move.
 *   - stamp mode, for `size`: a `Float64Array` of last-use ticks. Such a
 *     strategy already moves the entry in its own order on each use;
 *     keeping a second linked list as well made `lfu` reads cost
 *     1.7x `lru` reads (two list moves, each a few dependent cache misses),
 *     where one store of a tick costs little. The price is paid by
 *     `evictLeastRecentlyUsed(k)`, O(n log k) over the slots instead of
 *     O(k), a manual operation.
 *   - policy mode, for `lfu` and `tinylfu` (a policy with `lastUse`): the
 *     policy stamps each use in its own per-slot state, and the cache keeps
 *     no recency at all. A `get` is then one `Map` lookup and the policy's
 *     `touch`: a separate stamp array was one more cache line per hit and
 *     cost `lfu` about a tenth of its `get` speed. (`tinylfu` reads its
 *     stamps too, to find protected entries left unused.)
 *     `evictLeastRecentlyUsed` reads the stamps through `lastUse`.
 * - Pinned entries are outside every eviction order (their links are -1), so
 *   choosing a victim never skips anything; pins themselves are a `Set` of
 *   keys, which is how a key can be pinned before it is stored.
 * - The eviction order of the strategy is a plug-in (`./policies/`): `lru`
 *   reads the recency list directly, `lfu` keeps frequency buckets, `size` a
 *   heap of size buckets. Each is slot-based and keeps its own typed arrays.
 *
 * Cost per operation (n entries)
 * - `get`, `peek`, `has`, `delete`, `pin`, `unpin`: one `Map` operation and
 *   O(1) list work for `lru` and `lfu` (an `unpin` under `lfu` long after
 *   its pin may walk past the use counts that appeared meanwhile: O(distinct
 *   use counts) at worst); `size` adds O(log b) for b distinct sizes when a size
 *   bucket appears or disappears.
 * - `set`: the same plus the size estimate (once, never on `get`) and O(1)
 *   per entry it evicts.
 * - eviction of k entries (pressure, `evict`): O(k); `emergency` and
 *   `clearUnpinned` are one pass that clears or rebuilds the `Map` instead
 *   of deleting key by key (100k entries in a few milliseconds).
 * - `evictLeastRecentlyUsed(k)`: O(k) under `lru`, O(n log k) otherwise.
 *
 * Accounting
 * - `currentUsage` is the exact sum of the stored sizes: every path that
 *   stores or drops an entry adjusts it by that entry's stored size, and
 *   sizes are whole bytes (a fractional size is rounded up), so the sum
 *   never drifts as floating-point sums would.
 * - Sums stay exact because no size is above Number.MAX_SAFE_INTEGER and no
 *   `set` may bring the sum past it: a given `size` that would is a
 *   `RangeError`; an estimated one is reported and the value not stored.
 * - A size estimate that throws or is not a non-negative number up to
 *   Number.MAX_SAFE_INTEGER is replaced by a fallback (see
 *   `FALLBACK_ENTRY_BYTES`) and reported.
 *
 * Events
 * - Evictions are queued while the cache changes and delivered (then the
 *   pressure level, then telemetry) once the operation's own work is done,
 *   still before it returns. A listener that calls back into the cache
 *   therefore always sees a consistent cache, and can never break an
 *   eviction loop half-way.
 * - An entry leaves the cache by eviction in two places only: `#evictSlot`
 *   (one entry) and `#evictAllUnpinned` (the bulk pass of `emergency` and
 *   `clearUnpinned`). The soft tier (`softEviction`) hooks both.
 */
import { describeValue as describeKey } from '../checks.js';
import type { ClearableCache } from '../cleanup/clearable-cache.js';
import { Subject, ValueSubject, type Observable, type Subscription } from '../observable.js';
import { isMemoryPressureLevel, levelAtRank, pressureRank, type MemoryPressureLevel } from '../pressure-levels.js';
import type { MemoryState } from '../pressure/memory-state.js';
import { hasStates, type MemoryPressureHandler } from '../pressure/monitor.js';
import { safeRecord, type MemoryTelemetry } from '../telemetry/memory-telemetry.js';
import type { EvictionEvent, EvictionReason, MemoryMetrics } from './eviction-event.js';
import { resolveMemoryConfig, type MemoryConfig } from './memory-config.js';
import { growFloat64, growInt32, growUint32, type EvictionPolicy, type PolicyContext } from './policies/policy.js';
import { policyFactoryFor, type EvictionStrategy } from './policies/registry.js';
import { PressureCeiling } from './pressure-ceiling.js';
import { defaultSizeEstimator, type SizeEstimator } from './size-estimator.js';
import { SoftTier } from './soft-tier.js';

/** Options of `MemoryManager.set`. */
export interface SetOptions {
  /**
   * Bytes to account for the value, instead of calling the size estimator.
   * A non-negative number up to `Number.MAX_SAFE_INTEGER`; fractions are
   * rounded up to whole bytes. A `RangeError` if it would bring
   * `currentUsage` past `Number.MAX_SAFE_INTEGER` (the sum would round).
   */
  size?: number | undefined;
  /**
   * `true` pins the key first, as `pin(key)` does. `false` or omitted leaves
   * the key's pin as it is (only `unpin` and `clear` remove pins).
   */
  pin?: boolean | undefined;
}

/**
 * The size given to an entry whose estimate failed, when the default
 * estimator cannot size it either: large enough that a stream of
 * unmeasurable values still hits the budget, small enough not to flush a
 * cache of small entries.
 */
export const FALLBACK_ENTRY_BYTES = 1024;

const INITIAL_CAPACITY = 64;
/** Sizes at or above this are kept in `#bigSizes`; the typed array holds this marker. */
const BIG_SIZE = 0xffffffff;
/** The `next` link of a pinned entry: outside every order. */
const PINNED = -1;

/** `MemoryState.source` of the V8 heap signal (nexus-store/node). */
const HEAP_SOURCE = 'heap';
/** Within a critical episode, heap growth above this share of the signal's total counts as growth (see `#heapRank`). */
const HEAP_GROWTH_SLACK = 0.01;

const NORMAL = 0;
const MODERATE = 1;
const CRITICAL = 2;
const EMERGENCY = 3;

/**
 * The smallest whole number of bytes b with b / max >= fraction (Infinity
 * without a budget): where usage reaches a threshold, computed once so the
 * hot path compares integers instead of dividing.
 */
function thresholdBytes(max: number, fraction: number): number {
  if (max === Infinity) return Infinity;
  let bytes = Math.ceil(max * fraction);
  while (bytes > 0 && (bytes - 1) / max >= fraction) bytes--;
  while (bytes / max < fraction) bytes++;
  return bytes;
}

function countArgument(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${field} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/**
 * A cache bounded by bytes (`maxCacheBytes`), with pinned entries that are
 * never evicted, that sheds entries under budget watermarks and outside
 * memory pressure. See `MemoryConfig` for the options.
 */
export class MemoryManager<K, V> implements ClearableCache {
  // Configuration.
  /** `Infinity` when there is no budget, so every budget test is one comparison. */
  readonly #maxBytes: number;
  /**
   * The bound a `set` enforces: `#maxBytes`, or the pressure ceiling when
   * that is lower (see `PressureCeiling`). Above `#maxBytes` a set evicts
   * for `capacity`; between the two, for `pressure`.
   */
  #limitBytes: number;
  /** Learns the cache's size under a monitor's pressure; only with a handler that has `states`. */
  #ceiling: PressureCeiling | undefined;
  readonly #bounded: boolean;
  /**
   * The whole numbers of bytes at which usage (`currentUsage /
   * maxCacheBytes`) reaches each threshold: `currentUsage` is always whole
   * bytes, so comparing against these is exact and needs no division.
   */
  readonly #moderateBytes: number;
  /**
   * The policy decides who leaves among the entry just set and the
   * established ones (`tinylfu`): the watermark pass keeps the entry in the
   * order, and evicts it if it loses its duel (see `#watermark`).
   */
  readonly #admits: boolean;
  readonly #criticalBytes: number;
  readonly #batchSize: number;
  readonly #strategy: EvictionStrategy;
  readonly #estimator: SizeEstimator<V>;
  readonly #customEstimator: boolean;
  readonly #telemetry: MemoryTelemetry | undefined;

  // Slots.
  #map = new Map<K, number>();
  #keys: (K | undefined)[] = [undefined];
  #values: (V | undefined)[] = [undefined];
  #sizes = new Uint32Array(INITIAL_CAPACITY);
  #bigSizes: Map<number, number> | undefined;
  /**
   * List mode (a policy with `tracksUse` false, i.e. `lru`): the recency
   * list, `next[0]` the oldest evictable entry and `prev[0]` the newest.
   * Otherwise both stay empty and `#stamps` (or the policy) keeps recency instead.
   */
  #prev: Int32Array;
  #next: Int32Array;
  /**
   * Stamp mode (a policy with `tracksUse` and no `lastUse`): the tick of
   * each evictable entry's last use; 0 for a slot outside the order (pinned
   * or free). Empty in the other modes.
   */
  #stamps: Float64Array;
  #tick = 0;
  readonly #listMode: boolean;
  /** Policy mode: the policy keeps recency (`lastUse`); the cache keeps none. */
  readonly #policyMode: boolean;
  #capacity = INITIAL_CAPACITY;
  /** Slots from here on were never used. */
  #high = 1;
  /** Freed slots, chained through `#sizes` (a free slot has no size). */
  #freeHead = 0;
  readonly #policy: EvictionPolicy;
  readonly #tracksUse: boolean;
  readonly #missHook: EvictionPolicy | undefined;
  readonly #pins = new Set<K>();
  /** Evicted values held weakly (`softEviction`), else undefined. */
  readonly #soft: SoftTier<K, V> | undefined;

  // Accounting.
  #current = 0;
  /** Bytes dropped since the last `#settle`, for a handler with `noteReleased`. */
  #releasedBytes = 0;
  #noteReleased: ((bytes: number) => void) | undefined;
  #peak = 0;
  #pinnedBytes = 0;
  #pinnedCount = 0;
  #evictionCount = 0;
  #hits = 0;
  #misses = 0;
  #softHits = 0;

  // Pressure: ranks into PRESSURE_LEVELS (see levelAtRank).
  #budgetRank = NORMAL;
  #handlerRank = NORMAL;
  #levelRank = NORMAL;
  /** A heap sample's used bytes at the last `critical` cut; NaN outside a critical episode. */
  #heapCutUsedBytes = NaN;

  // Streams.
  readonly #pressureSubject = new ValueSubject<MemoryPressureLevel>('normal');
  readonly #pressureView: Observable<MemoryPressureLevel>;
  readonly #evictionSubject = new Subject<EvictionEvent>();
  readonly #evictionView: Observable<EvictionEvent>;
  readonly #errorSubject = new Subject<Error>();
  readonly #errorView: Observable<Error>;
  /** Evictions waiting for delivery; `#queueHead` is the next to deliver. */
  #queue: EvictionEvent[] = [];
  #queueHead = 0;
  #subscriptions: Subscription[] = [];

  constructor(config?: MemoryConfig<V>) {
    const resolved = resolveMemoryConfig(config);
    this.#bounded = resolved.maxCacheBytes !== undefined;
    this.#maxBytes = resolved.maxCacheBytes ?? Infinity;
    this.#limitBytes = this.#maxBytes;
    this.#moderateBytes = thresholdBytes(this.#maxBytes, resolved.moderateThreshold);
    this.#criticalBytes = thresholdBytes(this.#maxBytes, resolved.criticalThreshold);
    this.#batchSize = resolved.evictionBatchSize;
    this.#strategy = resolved.strategy;
    this.#customEstimator = resolved.sizeEstimator !== undefined;
    this.#estimator = resolved.sizeEstimator ?? defaultSizeEstimator;
    this.#telemetry = resolved.telemetry;
    this.#soft = resolved.softEviction ? new SoftTier<K, V>() : undefined;
    const context: PolicyContext = {
      oldest: () => (this.#listMode ? this.#next[0]! : 0),
      newer: (slot) => (this.#listMode ? this.#next[slot]! : 0),
      sizeOf: (slot) => this.#sizeOf(slot),
      // Where the cache stops growing: the moderate watermark when it sits below the budget.
      maxBytes: resolved.maxCacheBytes === undefined ? undefined : Math.min(resolved.maxCacheBytes, this.#moderateBytes),
    };
    this.#policy = policyFactoryFor(this.#strategy)(context, INITIAL_CAPACITY);
    this.#tracksUse = this.#policy.tracksUse;
    this.#listMode = !this.#tracksUse;
    this.#policyMode = this.#tracksUse && typeof this.#policy.lastUse === 'function';
    this.#admits = this.#policy.admits === true;
    this.#prev = new Int32Array(this.#listMode ? INITIAL_CAPACITY : 0);
    this.#next = new Int32Array(this.#listMode ? INITIAL_CAPACITY : 0);
    this.#stamps = new Float64Array(this.#listMode || this.#policyMode ? 0 : INITIAL_CAPACITY);
    this.#missHook = typeof this.#policy.onMiss === 'function' ? this.#policy : undefined;
    this.#pressureView = this.#pressureSubject.asObservable();
    this.#evictionView = this.#evictionSubject.asObservable();
    this.#errorView = this.#errorSubject.asObservable();
    const handler = resolved.pressureHandler;
    if (handler !== undefined) this.#listen(handler);
  }

  // ---------------------------------------------------------------- reads

  /**
   * The value for `key`, or `undefined`.
   * - Counts a hit or a miss.
   * - Marks the entry used (most recently used; one more use for `lfu`).
   */
  get(key: K): V | undefined {
    const slot = this.#map.get(key);
    if (slot === undefined) {
      if (this.#soft !== undefined && this.#soft.size !== 0) {
        const held = this.#soft.take(key);
        if (held !== undefined && this.#current + held.bytes <= Number.MAX_SAFE_INTEGER) return this.#revive(key, held.value, held.bytes);
      }
      this.#misses++;
      if (this.#missHook !== undefined) this.#missHook.onMiss!(key);
      return undefined;
    }
    this.#hits++;
    if (this.#listMode) {
      const next = this.#next;
      const after = next[slot]!;
      // 0: already the newest. PINNED: outside every order, nothing to mark.
      if (after !== 0 && after !== PINNED) {
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
    } else if (this.#policyMode) {
      // The policy stamps the use itself, and ignores a pinned entry.
      this.#policy.touch(slot, key);
    } else {
      const stamps = this.#stamps;
      if (stamps[slot] !== 0) {
        stamps[slot] = ++this.#tick;
        this.#policy.touch(slot, key);
      }
    }
    return this.#values[slot];
  }

  /**
   * The value for `key`, or `undefined`.
   * - No side effects: not counted, not marked used.
   */
  peek(key: K): V | undefined {
    const slot = this.#map.get(key);
    return slot === undefined ? undefined : this.#values[slot];
  }

  /** Whether `key` is stored. Not counted, not marked used. */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Entries stored. */
  get size(): number {
    return this.#map.size;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Stores `value` under `key`; returns whether the entry is present when
   * the call returns.
   * - The size is `options.size`, else the size estimator's (called once).
   * - Over `maxCacheBytes`, unpinned entries are evicted first (`capacity`).
   *   An unpinned value that cannot fit even with every unpinned entry gone
   *   is not stored (nothing is evicted for it) and `false` is returned; if
   *   it was replacing a value, the old value is removed too (as `delete`
   *   would), so a stale value is never served. A pinned value is stored
   *   even over budget.
   * - Then the budget watermarks apply (`pressure`): at `criticalThreshold`
   *   entries are evicted until usage is below `moderateThreshold`; at
   *   `moderateThreshold` one batch is evicted. The entry just set goes last,
   *   after every other evictable entry; under `tinylfu` (admission) it
   *   duels like any newcomer instead, and leaves if it loses.
   * - Marks the entry used. Replacing a value accounts the new size only.
   */
  set(key: K, value: V, options?: SetOptions): boolean {
    let bytes: number;
    let given = false;
    let pin = false;
    if (options === undefined) {
      bytes = this.#estimate(key, value);
    } else {
      if (typeof options !== 'object' || options === null) {
        throw new TypeError(`options must be an object { size?, pin? }, got ${String(options)}`);
      }
      const size = options.size;
      if (size === undefined) {
        bytes = this.#estimate(key, value);
      } else {
        if (typeof size !== 'number' || !(size >= 0) || size > Number.MAX_SAFE_INTEGER) {
          throw new RangeError(`size must be a non-negative number of bytes up to Number.MAX_SAFE_INTEGER, got ${String(size)}`);
        }
        bytes = size;
        given = true;
      }
      if (options.pin !== undefined && typeof options.pin !== 'boolean') {
        throw new TypeError(`pin must be a boolean, got ${String(options.pin)}`);
      }
      pin = options.pin === true;
    }
    bytes = Math.ceil(bytes);
    const slot = this.#map.get(key);
    // Past MAX_SAFE_INTEGER the running sum would round, and currentUsage drift.
    const total = this.#current - (slot === undefined ? 0 : this.#sizeOf(slot)) + bytes;
    if (total > Number.MAX_SAFE_INTEGER) {
      const problem = `${bytes} bytes for key ${describeKey(key)} would bring currentUsage (${this.#current} bytes) past Number.MAX_SAFE_INTEGER, where the byte count stops being exact`;
      if (given) throw new RangeError(`size: ${problem}`);
      // The estimator's figure is never a reason to throw: the value is not stored, as one that cannot fit.
      this.#report(new RangeError(`the estimated size of ${problem}; not stored`));
      if (pin) this.#pinKey(key);
      if (slot !== undefined) this.delete(key);
      else this.#settle();
      return false;
    }
    if (pin) this.#pinKey(key);
    if (this.#soft !== undefined) this.#soft.drop(key);
    const present = slot === undefined ? this.#insert(key, value, bytes) : this.#replace(slot, value, bytes);
    // Listeners run in #settle and may have changed the entry since.
    return this.#settle() ? this.#map.has(key) : present;
  }

  /**
   * Removes the entry; returns whether there was one.
   * - Keeps the key's pin (only `unpin` and `clear` forget pins).
   * - Not an eviction: no event, not counted.
   * - Drops the key's value from the soft tier too: a deleted value never
   *   comes back.
   */
  delete(key: K): boolean {
    if (this.#soft !== undefined) this.#soft.drop(key);
    const slot = this.#map.get(key);
    if (slot === undefined) return false;
    this.#removeSlot(slot);
    this.#settle();
    return true;
  }

  /**
   * Removes every entry and forgets every pin. Not an eviction: no events,
   * not counted. Hits, misses, `maxUsage` and `evictionCount` are kept.
   */
  clear(): void {
    this.#releasedBytes += this.#current;
    this.#map.clear();
    this.#pins.clear();
    this.#soft?.clear();
    this.#keys = [undefined];
    this.#values = [undefined];
    this.#sizes = new Uint32Array(INITIAL_CAPACITY);
    this.#bigSizes = undefined;
    if (this.#listMode) {
      this.#prev = new Int32Array(INITIAL_CAPACITY);
      this.#next = new Int32Array(INITIAL_CAPACITY);
    } else if (!this.#policyMode) {
      this.#stamps = new Float64Array(INITIAL_CAPACITY);
      this.#tick = 0;
    }
    this.#capacity = INITIAL_CAPACITY;
    this.#high = 1;
    this.#freeHead = 0;
    this.#policy.clear(INITIAL_CAPACITY);
    this.#current = 0;
    this.#pinnedBytes = 0;
    this.#pinnedCount = 0;
    this.#settle();
  }

  /**
   * Drops every entry, pinned or not, and every value the soft tier holds,
   * keeping the pins: for a cache whose source says any value may be stale.
   * - Not an eviction: no events, not counted (as `delete`).
   * - Unlike `clearUnpinned`, nothing can be revived by a later `get`: an
   *   invalidated value is wrong, not merely out of room.
   * Returns the number of entries dropped.
   */
  invalidateAll(): number {
    const dropped = this.#map.size;
    const pins = this.#pins.size === 0 ? undefined : [...this.#pins];
    this.clear();
    if (pins !== undefined) for (const key of pins) this.#pins.add(key);
    return dropped;
  }

  // ---------------------------------------------------------------- pins

  /**
   * Protects `key` from every eviction (only `delete` and `clear` remove a
   * pinned entry). Works before the key is stored: the entry is pinned once
   * set. Pinned bytes count against the budget.
   */
  pin(key: K): void {
    if (this.#pinKey(key)) this.#settle();
  }

  /**
   * Removes the pin. A stored entry rejoins the eviction order as just used
   * (an `lfu` entry with the use count it had). If the cache is over
   * `maxCacheBytes` (pinned values may be stored over it), entries are
   * evicted (`capacity`) until it fits, this one included.
   */
  unpin(key: K): void {
    if (!this.#pins.delete(key)) return;
    const slot = this.#map.get(key);
    if (slot === undefined) return;
    const bytes = this.#sizeOf(slot);
    this.#pinnedBytes -= bytes;
    this.#pinnedCount--;
    this.#attach(slot, bytes);
    if (this.#current > this.#limitBytes) this.#makeRoom(0);
    this.#settle();
  }

  isPinned(key: K): boolean {
    return this.#pins.has(key);
  }

  /** Every pinned key, stored or not, in the order they were pinned. */
  get pinnedKeys(): K[] {
    return [...this.#pins];
  }

  // ---------------------------------------------------------------- eviction

  /**
   * Evicts up to `count` unpinned entries in the strategy's order (reason
   * `manual`); returns their keys in eviction order.
   */
  evict(count: number = this.#batchSize): K[] {
    countArgument('count', count);
    const keys: K[] = [];
    const level = this.#levelName();
    for (let i = 0; i < count; i++) {
      const victim = this.#victim();
      if (victim === 0) break;
      keys.push(this.#evictSlot(victim, 'manual', level));
    }
    this.#settle();
    return keys;
  }

  /**
   * Evicts up to `count` unpinned entries, least recently used (get or set)
   * first whatever the strategy (reason `manual`); returns their keys.
   */
  evictLeastRecentlyUsed(count: number): K[] {
    countArgument('count', count);
    const keys: K[] = [];
    const level = this.#levelName();
    if (this.#listMode) {
      for (let i = 0; i < count; i++) {
        const oldest = this.#next[0]!;
        if (oldest === 0) break;
        keys.push(this.#evictSlot(oldest, 'manual', level));
      }
    } else {
      for (const slot of this.#oldestByStamp(count)) keys.push(this.#evictSlot(slot, 'manual', level));
    }
    this.#settle();
    return keys;
  }

  /**
   * Evicts every unpinned entry (reason `manual`; least recently used first
   * under `lru`, in slot order otherwise); returns how many.
   */
  clearUnpinned(): number {
    const evicted = this.#evictAllUnpinned('manual', this.#levelName(), undefined);
    this.#settle();
    return evicted;
  }

  /**
   * Sheds for an outside pressure `level` (reason `pressure`); returns the
   * evicted keys in eviction order.
   * - `normal`: nothing.
   * - `moderate`: one batch of `evictionBatchSize`.
   * - `critical`: until at least half of the unpinned bytes are gone, and
   *   at least one batch.
   * - `emergency`: every unpinned entry (least recently used first under
   *   `lru`, in slot order otherwise: everything goes).
   */
  handlePressure(level: MemoryPressureLevel): K[] {
    const rank = pressureRank(level, 'level');
    const keys: K[] = [];
    this.#shed(rank, keys);
    this.#settle();
    return keys;
  }

  /**
   * The level the `pressureHandler` last reported (`normal` without one):
   * the pressure this cache already sheds for by itself. A `CacheCleaner`
   * run at this level or a lower one leaves the cache alone, so that one
   * event (a monitor reaching `critical`) does not cut it twice, once by the
   * cache following its monitor and once by the cleaner.
   */
  get outsidePressure(): MemoryPressureLevel {
    return levelAtRank(this.#handlerRank);
  }

  // ---------------------------------------------------------------- observation

  /**
   * The bytes the cache may hold now: the pressure ceiling learnt from the
   * monitor's samples (see `PressureCeiling`) or `maxCacheBytes`, whichever
   * is lower; Infinity when neither binds.
   */
  get limitBytes(): number {
    return this.#limitBytes;
  }

  /** A snapshot of the accounting. */
  get metrics(): MemoryMetrics {
    return {
      currentUsage: this.#current,
      maxUsage: this.#peak,
      evictionCount: this.#evictionCount,
      pressureLevel: levelAtRank(this.#levelRank),
      entryCount: this.#map.size,
      pinnedCount: this.#pinnedCount,
      pinnedBytes: this.#pinnedBytes,
      hits: this.#hits,
      misses: this.#misses,
      softHits: this.#softHits,
    };
  }

  /** The strategy this cache evicts by. */
  get strategy(): EvictionStrategy {
    return this.#strategy;
  }

  /** The cache's pressure level now: the higher of the budget's and the handler's. */
  #levelName(): MemoryPressureLevel {
    return levelAtRank(this.#levelRank);
  }

  /** The current level on subscribe, then each change of `metrics.pressureLevel`. */
  get pressure(): Observable<MemoryPressureLevel> {
    return this.#pressureView;
  }

  /** Every eviction, delivered before the call that caused it returns. */
  get evictions(): Observable<EvictionEvent> {
    return this.#evictionView;
  }

  /** Problems the cache worked around: size estimates that failed, bad levels from the handler. */
  get errors(): Observable<Error> {
    return this.#errorView;
  }

  // ---------------------------------------------------------------- ClearableCache

  /** `currentUsage`, for a `CacheCleaner`. */
  estimateCacheSize(): number {
    return this.#current;
  }

  /**
   * `clearUnpinned()`, for a `CacheCleaner`: pinned entries survive a
   * cleaner, as they survive any eviction.
   */
  clearAllCaches(): void {
    this.clearUnpinned();
  }

  /**
   * Stops listening to the pressure handler; its level no longer counts.
   * The cache keeps working. Calling it again does nothing.
   */
  dispose(): void {
    const subscriptions = this.#subscriptions;
    this.#subscriptions = [];
    for (const subscription of subscriptions) subscription.unsubscribe();
    this.#handlerRank = NORMAL;
    this.#settle();
    this.#noteReleased = undefined;
  }

  // ---------------------------------------------------------------- internals

  /**
   * A `get` that found its key's evicted value in the soft tier: a hit. The
   * value is stored again with the size it was accounted for (as a `set`
   * would, making room if needed), and returned even if it no longer fits.
   */
  #revive(key: K, value: V, bytes: number): V {
    this.#hits++;
    this.#softHits++;
    this.#insert(key, value, bytes);
    this.#settle();
    return value;
  }

  #sizeOf(slot: number): number {
    const size = this.#sizes[slot]!;
    return size === BIG_SIZE ? this.#bigSizes!.get(slot)! : size;
  }

  #setSize(slot: number, bytes: number): void {
    if (bytes < BIG_SIZE) {
      if (this.#sizes[slot] === BIG_SIZE) this.#bigSizes!.delete(slot);
      this.#sizes[slot] = bytes;
    } else {
      (this.#bigSizes ??= new Map()).set(slot, bytes);
      this.#sizes[slot] = BIG_SIZE;
    }
  }

  #estimate(key: K, value: V): number {
    let bytes: unknown;
    try {
      bytes = this.#estimator(value);
    } catch (error) {
      return this.#fallbackSize(key, value, `threw: ${error instanceof Error ? error.message : String(error)}`, error);
    }
    if (typeof bytes === 'number' && bytes >= 0 && bytes <= Number.MAX_SAFE_INTEGER) return bytes;
    return this.#fallbackSize(key, value, `returned ${typeof bytes === 'number' ? String(bytes) : typeof bytes}, not a non-negative number up to Number.MAX_SAFE_INTEGER`, undefined);
  }

  #fallbackSize(key: K, value: V, problem: string, cause: unknown): number {
    let bytes = FALLBACK_ENTRY_BYTES;
    let how = `the fallback of ${FALLBACK_ENTRY_BYTES} bytes`;
    if (this.#customEstimator) {
      try {
        const estimate = defaultSizeEstimator(value);
        if (typeof estimate === 'number' && estimate >= 0 && estimate <= Number.MAX_SAFE_INTEGER) {
          bytes = estimate;
          how = `defaultSizeEstimator (${Math.ceil(estimate)} bytes)`;
        }
      } catch {
        // Keep the fixed fallback.
      }
    }
    const name = this.#customEstimator ? 'sizeEstimator' : 'defaultSizeEstimator';
    const error = new Error(`${name} ${problem} for key ${describeKey(key)}; the entry is sized by ${how}`, cause === undefined ? undefined : { cause });
    this.#report(error);
    return bytes;
  }

  #report(error: Error): void {
    this.#errorSubject.next(error);
    const telemetry = this.#telemetry;
    if (telemetry !== undefined) safeRecord(telemetry.recordError, telemetry, error);
  }

  #insert(key: K, value: V, bytes: number): boolean {
    const pinned = this.#pins.size !== 0 && this.#pins.has(key);
    if (this.#current + bytes > this.#limitBytes) {
      // Cannot fit even with every unpinned entry gone: evict nothing.
      if (!pinned && bytes + this.#pinnedBytes > this.#maxBytes) return false;
      this.#makeRoom(bytes);
    }
    const slot = this.#allocate();
    this.#map.set(key, slot);
    this.#keys[slot] = key;
    this.#values[slot] = value;
    if (bytes < BIG_SIZE) this.#sizes[slot] = bytes;
    else this.#setSize(slot, bytes);
    const current = (this.#current += bytes);
    if (current > this.#peak) this.#peak = current;
    if (pinned) {
      this.#pinnedBytes += bytes;
      this.#pinnedCount++;
      // The policy starts the entry's state (a use count) for a later unpin.
      this.#policy.add(slot, key, bytes);
      this.#policy.remove(slot, bytes);
      this.#markPinned(slot);
    } else {
      this.#linkNewest(slot);
      this.#policy.add(slot, key, bytes);
    }
    return current < this.#moderateBytes || this.#watermark(slot);
  }

  #replace(slot: number, value: V, bytes: number): boolean {
    const old = this.#sizeOf(slot);
    const pinned = !this.#inOrder(slot);
    if (this.#values[slot] !== value) this.#releasedBytes += old;
    const after = this.#current - old + bytes;
    const over = after > this.#limitBytes;
    if (over && !pinned && bytes + this.#pinnedBytes > this.#maxBytes) {
      this.#removeSlot(slot);
      return false;
    }
    this.#values[slot] = value;
    if (pinned) {
      this.#setSize(slot, bytes);
      this.#current = after;
      this.#pinnedBytes += bytes - old;
      if (over) this.#makeRoom(0);
    } else if (over || bytes !== old) {
      // Out of the order while the size changes (a policy may order by it)
      // and while room is made, so it cannot be its own victim.
      this.#detach(slot, old);
      this.#setSize(slot, bytes);
      this.#current = after;
      this.#makeRoom(0);
      this.#attach(slot, bytes);
      if (this.#tracksUse) this.#policy.touch(slot);
    } else {
      this.#unlink(slot);
      this.#linkNewest(slot);
      if (this.#tracksUse) this.#policy.touch(slot);
    }
    if (this.#current > this.#peak) this.#peak = this.#current;
    return this.#current < this.#moderateBytes || this.#watermark(slot);
  }

  /**
   * The budget watermarks after a `set` of `slot` (usage is at least
   * `moderateThreshold`): the entry just set is evicted last. Returns
   * whether it is still stored.
   */
  #watermark(slot: number): boolean {
    const critical = this.#current >= this.#criticalBytes;
    const level = levelAtRank(Math.max(this.#budgetRankFor(this.#current), this.#handlerRank));
    const evictable = this.#inOrder(slot);
    if (evictable && this.#admits) return this.#admitWatermark(slot, critical, level);
    // In list mode the entry just set is the newest, so the `lru` order
    // reaches it only once every other entry is gone: it can stay in the
    // order (`last` stops the loop there). Other orders may rank it first:
    // it leaves them during the pass.
    const detached = evictable && !this.#listMode;
    // Read only for the detach and the attach below.
    const bytes = detached ? this.#sizeOf(slot) : 0;
    if (detached) this.#detach(slot, bytes);
    const last = evictable && this.#listMode ? slot : 0;
    let evicted = 0;
    let victim: number;
    if (critical) {
      while (this.#current >= this.#moderateBytes && (victim = this.#victim()) !== 0 && victim !== last) {
        this.#evictSlot(victim, 'pressure', level);
      }
    } else {
      for (; evicted < this.#batchSize && (victim = this.#victim()) !== 0 && victim !== last; evicted++) {
        this.#evictSlot(victim, 'pressure', level);
      }
    }
    if (!evictable) return true;
    if (detached) this.#attach(slot, bytes);
    if (critical ? this.#current >= this.#moderateBytes : evicted < this.#batchSize) {
      this.#evictSlot(slot, 'pressure', level);
      return false;
    }
    return true;
  }

  /**
   * The watermark pass of an admission policy: the entry just set stays in
   * the order, so it meets the duels like any newcomer, and leaves if it
   * loses one. Returns whether it is still stored.
   */
  #admitWatermark(slot: number, critical: boolean, level: MemoryPressureLevel): boolean {
    let stored = true;
    let victim: number;
    for (let evicted = 0; (critical ? this.#current >= this.#moderateBytes : evicted < this.#batchSize) && (victim = this.#victim()) !== 0; evicted++) {
      if (victim === slot) stored = false;
      this.#evictSlot(victim, 'pressure', level);
    }
    return stored;
  }

  /**
   * Evicts unpinned entries until `incoming` more bytes fit under the limit,
   * or nothing is left to evict: for `capacity` while over `maxCacheBytes`,
   * for `pressure` while only over the pressure ceiling.
   */
  #makeRoom(incoming: number): void {
    const limit = this.#limitBytes;
    if (this.#current + incoming <= limit) return;
    const max = this.#maxBytes;
    const level = levelAtRank(Math.max(this.#budgetRankFor(this.#current + incoming), this.#handlerRank));
    let victim: number;
    while (this.#current + incoming > limit && (victim = this.#victim()) !== 0) {
      this.#evictSlot(victim, this.#current + incoming > max ? 'capacity' : 'pressure', level);
    }
  }

  /** Outside pressure at `rank`; pushes evicted keys onto `keys` when given. */
  #shed(rank: number, keys: K[] | undefined): void {
    if (rank === NORMAL) return;
    const level = levelAtRank(rank);
    const batch = this.#batchSize;
    let victim: number;
    if (rank === MODERATE) {
      for (let i = 0; i < batch && (victim = this.#victim()) !== 0; i++) {
        const key = this.#evictSlot(victim, 'pressure', level);
        if (keys !== undefined) keys.push(key);
      }
    } else if (rank === CRITICAL) {
      const target = (this.#current - this.#pinnedBytes) / 2;
      let freed = 0;
      for (let i = 0; (freed < target || i < batch) && (victim = this.#victim()) !== 0; i++) {
        freed += this.#sizeOf(victim);
        const key = this.#evictSlot(victim, 'pressure', level);
        if (keys !== undefined) keys.push(key);
      }
    } else {
      this.#evictAllUnpinned('pressure', level, keys);
      // Emergency: the soft tier goes too, so nothing delays the collector.
      this.#soft?.clear();
    }
  }

  /**
   * Evicts every unpinned entry: least recently used first in list mode, in
   * slot order in stamp mode (everything goes, so the order does not
   * matter). The bulk path of `emergency` and `clearUnpinned`: one walk of
   * the recency list or the slots, then the `Map` is
   * cleared or rebuilt from the pinned entries when that is cheaper than
   * deleting the evicted keys one by one. Returns how many were evicted.
   */
  #evictAllUnpinned(reason: EvictionReason, level: MemoryPressureLevel, keysOut: K[] | undefined): number {
    const unpinned = this.#map.size - this.#pinnedCount;
    if (unpinned === 0) return 0;
    const keys = this.#keys;
    const values = this.#values;
    const next = this.#next;
    const policy = this.#policy;
    const queue = this.#evictionSubject.observerCount !== 0 || this.#telemetry !== undefined ? this.#queue : undefined;
    const rebuild = unpinned > this.#pinnedCount;
    const sizes = this.#sizes;
    const stamps = this.#recency();
    const listMode = this.#listMode;
    const high = this.#high;
    let freeHead = this.#freeHead;
    let freed = 0;
    // Values evicted by `clearUnpinned` may still be revived; an emergency drops the soft tier.
    const soft = reason === 'manual' ? this.#soft : undefined;
    // Recency order in list mode; slot order otherwise (everything goes).
    for (let slot = listMode ? next[0]! : 1; listMode ? slot !== 0 : slot < high; ) {
      const following = listMode ? next[slot]! : slot + 1;
      if (!listMode) {
        if (stamps[slot] === 0) {
          slot = following;
          continue;
        }
        stamps[slot] = 0;
      }
      const key = keys[slot] as K;
      const bytes = this.#sizeOf(slot);
      if (soft !== undefined) soft.hold(key, values[slot] as V, bytes);
      policy.remove(slot, bytes);
      if (!rebuild) this.#map.delete(key);
      if (keysOut !== undefined) keysOut.push(key);
      if (queue !== undefined) queue.push({ key, bytes, reason, level });
      keys[slot] = undefined;
      values[slot] = undefined;
      if (sizes[slot] === BIG_SIZE) this.#bigSizes!.delete(slot);
      sizes[slot] = freeHead;
      freeHead = slot;
      freed += bytes;
      slot = following;
    }
    if (listMode) {
      next[0] = 0;
      this.#prev[0] = 0;
    }
    this.#freeHead = freeHead;
    this.#current -= freed;
    this.#releasedBytes += freed;
    this.#evictionCount += unpinned;
    if (rebuild) {
      const map = new Map<K, number>();
      if (this.#pinnedCount !== 0) {
        for (const key of this.#pins) {
          const slot = this.#map.get(key);
          if (slot !== undefined) map.set(key, slot);
        }
      }
      this.#map = map;
    }
    return unpinned;
  }

  /**
   * Where a single entry leaves the cache by eviction (the bulk pass is
   * `#evictAllUnpinned`). `slot` must be in the eviction order (unpinned).
   */
  #evictSlot(slot: number, reason: EvictionReason, level: MemoryPressureLevel): K {
    const key = this.#keys[slot] as K;
    const bytes = this.#sizeOf(slot);
    this.#detach(slot, bytes);
    this.#map.delete(key);
    if (this.#soft !== undefined) this.#soft.hold(key, this.#values[slot] as V, bytes);
    this.#release(slot);
    this.#current -= bytes;
    this.#releasedBytes += bytes;
    this.#evictionCount++;
    if (this.#evictionSubject.observerCount !== 0 || this.#telemetry !== undefined) {
      this.#queue.push({ key, bytes, reason, level });
    }
    return key;
  }

  /** Drops a stored entry without an event: `delete`, or a refused replacement. */
  #removeSlot(slot: number): void {
    const bytes = this.#sizeOf(slot);
    if (!this.#inOrder(slot)) {
      this.#pinnedBytes -= bytes;
      this.#pinnedCount--;
    } else {
      this.#detach(slot, bytes);
    }
    this.#map.delete(this.#keys[slot] as K);
    this.#release(slot);
    this.#current -= bytes;
    this.#releasedBytes += bytes;
  }

  /** Pins `key`; returns whether anything changed. */
  #pinKey(key: K): boolean {
    if (this.#pins.has(key)) return false;
    this.#pins.add(key);
    const slot = this.#map.get(key);
    if (slot !== undefined) {
      const bytes = this.#sizeOf(slot);
      this.#detach(slot, bytes);
      this.#markPinned(slot);
      this.#pinnedBytes += bytes;
      this.#pinnedCount++;
    }
    return true;
  }

  #allocate(): number {
    const free = this.#freeHead;
    if (free !== 0) {
      this.#freeHead = this.#sizes[free]!;
      return free;
    }
    const slot = this.#high;
    if (slot === this.#capacity) this.#grow();
    this.#high = slot + 1;
    return slot;
  }

  #release(slot: number): void {
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined;
    if (this.#sizes[slot] === BIG_SIZE) this.#bigSizes!.delete(slot);
    this.#sizes[slot] = this.#freeHead;
    this.#freeHead = slot;
  }

  #grow(): void {
    const capacity = this.#capacity * 2;
    this.#sizes = growUint32(this.#sizes, capacity);
    if (this.#listMode) {
      this.#prev = growInt32(this.#prev, capacity);
      this.#next = growInt32(this.#next, capacity);
    } else if (!this.#policyMode) {
      this.#stamps = growFloat64(this.#stamps, capacity);
    }
    this.#policy.grow(capacity);
    this.#capacity = capacity;
  }

  /** The next entry to evict in the strategy's order, or 0. */
  #victim(): number {
    // In list mode the policy's order is the recency list: read it here.
    return this.#listMode ? this.#next[0]! : this.#policy.victim();
  }

  /** Takes an evictable entry out of the recency order. */
  #unlink(slot: number): void {
    if (this.#listMode) {
      const before = this.#prev[slot]!;
      const after = this.#next[slot]!;
      this.#next[before] = after;
      this.#prev[after] = before;
    } else if (!this.#policyMode) {
      this.#stamps[slot] = 0;
    }
  }

  /** Makes `slot` the most recently used evictable entry. */
  #linkNewest(slot: number): void {
    if (this.#listMode) {
      const prev = this.#prev;
      const newest = prev[0]!;
      this.#next[newest] = slot;
      prev[slot] = newest;
      this.#next[slot] = 0;
      prev[0] = slot;
    } else if (!this.#policyMode) {
      this.#stamps[slot] = ++this.#tick;
    }
  }

  /** Marks a stored entry that is outside the recency order as pinned. */
  #markPinned(slot: number): void {
    if (this.#listMode) {
      this.#next[slot] = PINNED;
      this.#prev[slot] = PINNED;
    } else if (!this.#policyMode) {
      this.#stamps[slot] = 0;
    }
  }

  /** Whether a stored entry is evictable (in the order), i.e. not pinned. */
  #inOrder(slot: number): boolean {
    if (this.#listMode) return this.#next[slot] !== PINNED;
    return this.#policyMode ? this.#policy.lastUse!(slot) !== 0 : this.#stamps[slot] !== 0;
  }

  /**
   * Stamp and policy modes: each slot's last-use stamp (larger is more
   * recent; 0 outside the order): `#stamps` itself, or a copy of the
   * policy's (O(high), for the O(n) paths only).
   */
  #recency(): Float64Array {
    if (!this.#policyMode) return this.#stamps;
    const policy = this.#policy;
    const stamps = new Float64Array(this.#high);
    for (let slot = 1; slot < this.#high; slot++) stamps[slot] = policy.lastUse!(slot);
    return stamps;
  }

  /**
   * Stamp mode: up to `count` evictable slots, least recently used first.
   * O(n log count) over the slots, with a bounded max-heap of stamps.
   */
  #oldestByStamp(count: number): number[] {
    const heap: number[] = [];
    if (count === 0) return heap;
    const stamps = this.#recency();
    const above = (a: number, b: number): boolean => stamps[heap[a]!]! > stamps[heap[b]!]!;
    const swap = (a: number, b: number): void => {
      const t = heap[a]!;
      heap[a] = heap[b]!;
      heap[b] = t;
    };
    for (let slot = 1; slot < this.#high; slot++) {
      const stamp = stamps[slot]!;
      if (stamp === 0) continue;
      if (heap.length < count) {
        heap.push(slot);
        for (let i = heap.length - 1; i > 0 && above(i, (i - 1) >> 1); i = (i - 1) >> 1) swap(i, (i - 1) >> 1);
      } else if (stamp < stamps[heap[0]!]!) {
        heap[0] = slot;
        for (let i = 0; ; ) {
          const left = 2 * i + 1;
          let top = i;
          if (left < heap.length && above(left, top)) top = left;
          if (left + 1 < heap.length && above(left + 1, top)) top = left + 1;
          if (top === i) break;
          swap(i, top);
          i = top;
        }
      }
    }
    return heap.sort((a, b) => stamps[a]! - stamps[b]!);
  }

  /** Takes an unpinned entry, of `bytes`, out of the recency list and the policy's order. */
  #detach(slot: number, bytes: number): void {
    this.#unlink(slot);
    this.#policy.remove(slot, bytes);
  }

  /** Puts an entry, of `bytes`, (back) into both orders, as just used. */
  #attach(slot: number, bytes: number): void {
    this.#linkNewest(slot);
    this.#policy.readd(slot, bytes);
  }

  #budgetRankFor(bytes: number): number {
    if (!this.#bounded) return NORMAL;
    const max = this.#maxBytes;
    if (this.#pinnedBytes > max) return EMERGENCY;
    return bytes >= this.#criticalBytes ? CRITICAL : bytes >= this.#moderateBytes ? MODERATE : NORMAL;
  }

  /**
   * Ends every public operation that changed something: delivers the queued
   * evictions, publishes a level change, reports the size. Returns whether
   * outside code ran (which may have changed the cache).
   */
  #settle(): boolean {
    let calledOut = false;
    if (this.#releasedBytes !== 0) this.#deliverReleased();
    if (this.#queue.length !== 0) {
      this.#flush();
      calledOut = true;
    }
    this.#budgetRank = this.#budgetRankFor(this.#current);
    const rank = this.#budgetRank > this.#handlerRank ? this.#budgetRank : this.#handlerRank;
    if (rank !== this.#levelRank) {
      this.#publishLevel(rank);
      calledOut = true;
    }
    const telemetry = this.#telemetry;
    if (telemetry !== undefined) {
      safeRecord(telemetry.recordCacheSize, telemetry, this.#current, this.#map.size);
      calledOut = true;
    }
    return calledOut;
  }

  /** Tells the handler what was dropped (a count, not a call back into the cache: not a call-out). */
  #deliverReleased(): void {
    const bytes = this.#releasedBytes;
    this.#releasedBytes = 0;
    if (this.#noteReleased === undefined) return;
    try {
      this.#noteReleased(bytes);
    } catch (error) {
      this.#report(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #flush(): void {
    const queue = this.#queue;
    const telemetry = this.#telemetry;
    // A listener that changes the cache settles it again: that nested call
    // keeps draining this same queue, in order.
    while (this.#queueHead < queue.length) {
      const event = queue[this.#queueHead++]!;
      this.#evictionSubject.next(event);
      if (telemetry !== undefined) safeRecord(telemetry.recordEviction, telemetry, event);
    }
    queue.length = 0;
    this.#queueHead = 0;
  }

  #publishLevel(rank: number): void {
    const from = levelAtRank(this.#levelRank);
    const to = levelAtRank(rank);
    this.#levelRank = rank;
    const telemetry = this.#telemetry;
    if (telemetry !== undefined) safeRecord(telemetry.recordPressureChange, telemetry, from, to);
    this.#pressureSubject.next(to);
  }

  /**
   * A monitor's sample at `rank`: the pressure ceiling decides how much the
   * cache may hold (see `PressureCeiling`), and the cache evicts down to it.
   */
  #follow(rank: number, state: MemoryState): void {
    const ceiling = this.#ceiling!;
    // A monitor publishes the sample before its level change: evictions here carry the sample's level.
    this.#handlerRank = rank;
    if (rank !== NORMAL && state.source === HEAP_SOURCE) {
      // The V8 heap falls back once a full collection has run (the Node monitor samples right
      // after one), so shedding by level converges there, and a cache that regrows freely
      // between sheds keeps more: the ceiling held a heap-capped cache to 22-39% of what a
      // plain Map reached at 256 MB, against 44-57% for this.
      this.#shed(this.#heapRank(rank, Number(state.usedBytes), Number(state.usedBytes) + Number(state.availableBytes)), undefined);
      this.#settle();
      return;
    }
    this.#heapCutUsedBytes = NaN;
    const used = Number(state.usedBytes);
    const total = used + Number(state.availableBytes);
    const at = Number(state.at);
    const decision =
      Number.isFinite(used) && Number.isFinite(total) && Number.isFinite(at)
        ? ceiling.observe(rank, used, total, at, this.#current, this.#pinnedBytes)
        : ceiling.observe(rank, 0, 0, 0, this.#current, this.#pinnedBytes);
    this.#limitBytes = Math.min(this.#maxBytes, decision.limitBytes);
    if (decision.dropAll) this.#shed(EMERGENCY, undefined);
    else if (this.#current > this.#limitBytes) this.#makeRoom(0);
    this.#settle();
  }

  /**
   * The level to shed at for a heap sample at `rank`. A `critical` cut halves
   * the cache, but the heap shows it only after the next full collection:
   * until then the samples read the evicted entries as still there, and
   * halving again for each would empty the cache for one episode of
   * pressure. So within a critical episode a sample halves again only if
   * the heap has grown since the last cut (by more than 1% of the budget);
   * otherwise it sheds one batch, as at `moderate`.
   */
  #heapRank(rank: number, usedBytes: number, totalBytes: number): number {
    if (rank < CRITICAL) {
      this.#heapCutUsedBytes = NaN;
      return rank;
    }
    if (rank > CRITICAL) return rank;
    const cut = this.#heapCutUsedBytes;
    if (Number.isFinite(cut) && Number.isFinite(usedBytes) && usedBytes <= cut + HEAP_GROWTH_SLACK * totalBytes) return MODERATE;
    this.#heapCutUsedBytes = usedBytes;
    return CRITICAL;
  }

  #listen(handler: MemoryPressureHandler): void {
    // A monitor publishes every sample: each one goes to `#follow` (the
    // pressure ceiling, or shedding by level for the heap), and its level
    // changes only set `metrics.pressureLevel`. A plain handler only reports
    // changes: shed on each.
    const sampled = hasStates(handler);
    if (typeof handler.noteReleased === 'function') this.#noteReleased = handler.noteReleased.bind(handler);
    if (sampled) this.#ceiling = new PressureCeiling();
    this.#subscriptions.push(
      handler.pressure.subscribe((level) => {
        if (!isMemoryPressureLevel(level)) {
          this.#report(new RangeError(`pressureHandler reported an unknown level ${JSON.stringify(level)}; ignored`));
          return;
        }
        this.#handlerRank = pressureRank(level);
        if (!sampled) this.#shed(this.#handlerRank, undefined);
        this.#settle();
      }),
    );
    if (sampled) {
      this.#subscriptions.push(
        handler.states.subscribe((state) => {
          const level = (state as { level?: unknown } | null)?.level;
          if (!isMemoryPressureLevel(level)) {
            this.#report(new RangeError(`pressureHandler published a state with an unknown level ${JSON.stringify(level)}; ignored`));
            return;
          }
          this.#follow(pressureRank(level), state);
        }),
      );
    }
  }
}
