/**
 * MemoryManager: a cache bounded by bytes, with pinned entries, that sheds
 * under pressure.
 *
 * Structure
 * - This class decides: what a `set` may store, when and how much to evict
 *   (the budget, its watermarks, outside pressure), and who hears of it.
 *   The mechanics are below it: `EntryTable` stores, orders, evicts and
 *   accounts for the entries, `EvictionQueue` delivers the evictions.
 * - Entries live in numbered slots (`SlotStore`: arrays indexed by slot, no
 *   object per entry), found through one `Map` from key to slot.
 * - Recency (for `evictLeastRecentlyUsed`, whatever the strategy; see
 *   `./recency.ts`): for `lru` a linked list in typed arrays, which is also
 *   its eviction order (a `get` is a `Map` lookup and an O(1) move); for the
 *   others the policy's own per-slot `lastUse` (a lookup and `touch`).
 * - Pinned entries are outside every eviction order, so choosing a victim
 *   never skips anything; pins themselves are a `Set` of keys, which is how
 *   a key can be pinned before it is stored.
 * - The eviction order of the strategy is a plug-in (`./policies/`): `lru`
 *   reads the recency list directly, `lfu` keeps frequency buckets, `size` a
 *   heap of size buckets. Each is slot-based and keeps its own typed arrays.
 *
 * Cost per operation (n entries)
 * - `get`, `peek`, `has`, `delete`, `pin`, `unpin`: one `Map` operation and
 *   O(1) list work (an `lfu` `unpin` long after its pin: O(distinct use
 *   counts) at worst); `size` adds O(log b) for b distinct sizes when a
 *   size bucket appears or disappears.
 * - `set`: the same plus the size estimate (once, never on `get`) and O(1)
 *   per entry it evicts.
 * - eviction of k entries (pressure, `evict`): O(k); `emergency` and
 *   `clearUnpinned` are one pass that clears or rebuilds the `Map` instead
 *   of deleting key by key (100k entries in a few milliseconds).
 * - `evictLeastRecentlyUsed(k)`: O(k) under `lru`, O(n log k) otherwise.
 *
 * Accounting
 * - `currentUsage` is the exact sum of the stored sizes: every path that
 *   stores or drops an entry adjusts it by that entry's stored size, in
 *   whole bytes (a fraction is rounded up), so the sum never drifts.
 * - Sums stay exact because no size is above Number.MAX_SAFE_INTEGER and no
 *   `set` may bring the sum past it: a given `size` that would is a
 *   `RangeError`; an estimated one is reported and the value not stored.
 * - A failed size estimate is replaced by a fallback and reported (`entrySizer`).
 *
 * Events
 * - Evictions are queued while the cache changes and delivered (then the
 *   pressure level, then telemetry) once the operation's own work is done,
 *   still before it returns (see `EvictionQueue`).
 * - An entry leaves the cache by eviction in two places only:
 *   `EntryTable.evict` (one entry) and `EntryTable.evictAll` (the bulk pass
 *   of `emergency` and `clearUnpinned`). The soft tier (`softEviction`)
 *   hooks both.
 */
import { describeValue as describeKey, requireCount } from '../checks.js';
import type { ClearableCache } from '../cleanup/clearable-cache.js';
import { Subject, type Observable } from '../observable.js';
import { levelAtRank, pressureRank, type MemoryPressureLevel } from '../pressure-levels.js';
import type { MemoryState } from '../pressure/memory-state.js';
import { safeRecord, type MemoryTelemetry } from '../telemetry/memory-telemetry.js';
import type { EvictionEvent, MemoryMetrics } from './eviction-event.js';
import { EvictionQueue } from './eviction-queue.js';
import { resolveMemoryConfig, thresholdBytes, type MemoryConfig, type SetOptions } from './memory-config.js';
import { EntryTable } from './entry-table.js';
import type { EvictionPolicy } from './policies/policy.js';
import { policyFactoryFor, type EvictionStrategy } from './policies/registry.js';
import { PressureLink } from './pressure-link.js';
import { growthUntilNextSampleBytes, SampleFollower } from './sample-follower.js';
import { entrySizer } from './size-estimator.js';
import { SoftTier } from './soft-tier.js';

export { FALLBACK_ENTRY_BYTES } from './size-estimator.js';
export type { SetOptions } from './memory-config.js';

const NORMAL = 0;
const MODERATE = 1;
const CRITICAL = 2;
const EMERGENCY = 3;

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
   * The bound a `set` enforces: `limitBytes`, or less until the next sample (`#follow`).
   * Above `#maxBytes` a set evicts for `capacity`; below, for `pressure`.
   */
  #limitBytes: number;
  /** What a monitor's samples teach: a ceiling (`PressureCeiling`, `HeapEpisode`). */
  readonly #samples = new SampleFollower();
  /**
   * The whole bytes at which `currentUsage / maxCacheBytes` reaches each threshold: usage is always
   * whole bytes, so comparing against these is exact and needs no division.
   */
  readonly #moderateBytes: number;
  readonly #criticalBytes: number;
  /**
   * The policy decides who leaves among the entry just set and the established ones (`tinylfu`):
   * the watermark pass keeps the entry in the order, and evicts it if it loses (see `#watermark`).
   */
  readonly #admits: boolean;
  readonly #batchSize: number;
  readonly #strategy: EvictionStrategy;
  readonly #sizer: (key: K, value: V) => number;
  readonly #telemetry: MemoryTelemetry | undefined;

  // Entries, their order and their bytes.
  readonly #table: EntryTable<K, V>;
  readonly #missHook: EvictionPolicy | undefined;
  /** Evicted values held weakly (`softEviction`), else undefined. */
  readonly #soft: SoftTier<K, V> | undefined;
  #hits = 0;
  #misses = 0;
  #softHits = 0;
  /** The part of `EntryTable.releasedBytes` (a running total) that `PressureLink.released` was told. */
  #releasedTold = 0;

  // Pressure (ranks into PRESSURE_LEVELS, see levelAtRank) and streams.
  readonly #link: PressureLink;
  readonly #events: EvictionQueue;
  readonly #errorSubject = new Subject<Error>();
  readonly #errorView: Observable<Error>;

  constructor(config?: MemoryConfig<V>) {
    const resolved = resolveMemoryConfig(config);
    this.#maxBytes = resolved.maxCacheBytes ?? Infinity;
    this.#limitBytes = this.#maxBytes;
    this.#moderateBytes = thresholdBytes(this.#maxBytes, resolved.moderateThreshold);
    this.#criticalBytes = thresholdBytes(this.#maxBytes, resolved.criticalThreshold);
    this.#batchSize = resolved.evictionBatchSize;
    this.#strategy = resolved.strategy;
    this.#sizer = entrySizer(resolved.sizeEstimator, (error) => this.#report(error));
    this.#telemetry = resolved.telemetry;
    this.#soft = resolved.softEviction ? new SoftTier<K, V>() : undefined;
    this.#events = new EvictionQueue(this.#telemetry);
    // Where the cache stops growing: the moderate watermark when it sits below the budget.
    const fullBytes = resolved.maxCacheBytes === undefined ? undefined : Math.min(resolved.maxCacheBytes, this.#moderateBytes);
    this.#table = new EntryTable<K, V>(policyFactoryFor(this.#strategy), fullBytes, this.#soft, this.#events);
    const policy = this.#table.policy;
    this.#admits = policy.admits === true;
    this.#missHook = typeof policy.onMiss === 'function' ? policy : undefined;
    this.#errorView = this.#errorSubject.asObservable();
    this.#link = new PressureLink(this.#telemetry, (error) => this.#report(error));
    const handler = resolved.pressureHandler;
    if (handler === undefined) return;
    this.#link.listen(handler, {
      // A monitor's level changes only set the level; its samples drive the cache (`#follow`).
      onLevel: (rank) => {
        if (!this.#link.sampled) this.#shed(rank, undefined);
        this.#settle();
      },
      onSample: (rank, state) => this.#follow(rank, state),
    });
  }

  // ---------------------------------------------------------------- reads

  /** The value for `key`, or `undefined`. Counts a hit or a miss; marks the entry used (one more use for `lfu`). */
  get(key: K): V | undefined {
    const table = this.#table;
    const slot = table.slotOf(key);
    if (slot === undefined) {
      if (this.#soft !== undefined && this.#soft.size !== 0) {
        const held = this.#soft.take(key);
        if (held !== undefined && table.current + held.bytes <= Number.MAX_SAFE_INTEGER) return this.#revive(key, held.value, held.bytes);
      }
      this.#misses++;
      if (this.#missHook !== undefined) this.#missHook.onMiss!(key);
      return undefined;
    }
    this.#hits++;
    return table.use(slot, key);
  }

  /** The value for `key`, or `undefined`; no side effects (not counted, not marked used). */
  peek(key: K): V | undefined {
    const slot = this.#table.slotOf(key);
    return slot === undefined ? undefined : this.#table.value(slot);
  }

  /** Whether `key` is stored. Not counted, not marked used. */
  has(key: K): boolean {
    return this.#table.has(key);
  }

  /** Entries stored. */
  get size(): number {
    return this.#table.size;
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
      bytes = this.#sizer(key, value);
    } else {
      if (typeof options !== 'object' || options === null) {
        throw new TypeError(`options must be an object { size?, pin? }, got ${String(options)}`);
      }
      const size = options.size;
      if (size === undefined) {
        bytes = this.#sizer(key, value);
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
    const slot = this.#table.slotOf(key);
    // Past MAX_SAFE_INTEGER the running sum would round, and currentUsage drift.
    const total = this.#table.current - (slot === undefined ? 0 : this.#table.sizeOf(slot)) + bytes;
    if (total > Number.MAX_SAFE_INTEGER) {
      const problem = `${bytes} bytes for key ${describeKey(key)} would bring currentUsage (${this.#table.current} bytes) past Number.MAX_SAFE_INTEGER, where the byte count stops being exact`;
      if (given) throw new RangeError(`size: ${problem}`);
      // The estimator's figure is never a reason to throw: the value is not stored, as one that cannot fit.
      this.#report(new RangeError(`the estimated size of ${problem}; not stored`));
      if (pin) this.#table.pin(key);
      if (slot !== undefined) this.delete(key);
      else this.#settle();
      return false;
    }
    if (pin) this.#table.pin(key);
    if (this.#soft !== undefined) this.#soft.drop(key);
    const present = slot === undefined ? this.#insert(key, value, bytes) : this.#replace(slot, value, bytes);
    // Listeners run in #settle and may have changed the entry since.
    return this.#settle() ? this.#table.has(key) : present;
  }

  /**
   * Removes the entry; returns whether there was one. Keeps the key's pin (only `unpin` and `clear`
   * forget pins). Not an eviction: no event, not counted. A deleted value never comes back (soft tier).
   */
  delete(key: K): boolean {
    if (this.#soft !== undefined) this.#soft.drop(key);
    const slot = this.#table.slotOf(key);
    if (slot === undefined) return false;
    this.#table.remove(slot);
    this.#settle();
    return true;
  }

  /** Removes every entry and forgets every pin. Not an eviction: no events, not counted. Hits, misses, `maxUsage` and `evictionCount` are kept. */
  clear(): void {
    this.#table.clear(false);
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
    const dropped = this.#table.size;
    this.#table.clear(true);
    this.#settle();
    return dropped;
  }

  // ---------------------------------------------------------------- pins

  /**
   * Protects `key` from every eviction (only `delete` and `clear` remove a
   * pinned entry). Works before the key is stored: the entry is pinned once
   * set. Pinned bytes count against the budget.
   */
  pin(key: K): void {
    if (this.#table.pin(key)) this.#settle();
  }

  /**
   * Removes the pin. A stored entry rejoins the eviction order as just used
   * (an `lfu` entry with the use count it had). If the cache is over
   * `maxCacheBytes` (pinned values may be stored over it), entries are
   * evicted (`capacity`) until it fits, this one included.
   */
  unpin(key: K): void {
    if (!this.#table.unpin(key)) return;
    if (this.#table.current > this.#limitBytes) this.#makeRoom(0);
    this.#settle();
  }

  isPinned(key: K): boolean {
    return this.#table.pins.has(key);
  }

  /** Every pinned key, stored or not, in the order they were pinned. */
  get pinnedKeys(): K[] {
    return [...this.#table.pins];
  }

  // ---------------------------------------------------------------- eviction

  /**
   * Evicts up to `count` unpinned entries in the strategy's order (reason
   * `manual`); returns their keys in eviction order.
   */
  evict(count: number = this.#batchSize): K[] {
    requireCount('count', count);
    const keys: K[] = [];
    const level = this.#eventLevel(this.#link.level);
    for (let i = 0; i < count; i++) {
      const victim = this.#table.victim();
      if (victim === 0) break;
      keys.push(this.#table.evict(victim, 'manual', level));
    }
    this.#settle();
    return keys;
  }

  /** Evicts up to `count` unpinned entries, least recently used first whatever the strategy (reason `manual`); returns their keys. */
  evictLeastRecentlyUsed(count: number): K[] {
    requireCount('count', count);
    const keys: K[] = [];
    const level = this.#eventLevel(this.#link.level);
    for (const slot of this.#table.leastRecent(count)) keys.push(this.#table.evict(slot, 'manual', level));
    this.#settle();
    return keys;
  }

  /**
   * Evicts every unpinned entry (reason `manual`; least recently used first
   * under `lru`, in slot order otherwise); returns how many.
   */
  clearUnpinned(): number {
    const evicted = this.#table.evictAll('manual', this.#link.level, undefined);
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

  /** The level the `pressureHandler` last reported (`normal` without one): what the cache sheds for by itself, so a `CacheCleaner` run at it leaves the cache alone. */
  get outsidePressure(): MemoryPressureLevel {
    return levelAtRank(this.#link.handlerRank);
  }

  // ---------------------------------------------------------------- observation

  /**
   * The pressure ceiling learnt from a monitor's samples (`PressureCeiling`, `HeapEpisode`) or
   * `maxCacheBytes`, whichever is lower; Infinity when neither binds. (Between two samples the cache
   * also grows by at most a tenth of the signal's budget.)
   */
  get limitBytes(): number {
    return Math.min(this.#maxBytes, this.#samples.limitBytes);
  }

  /** A snapshot of the accounting. */
  get metrics(): MemoryMetrics {
    const table = this.#table;
    return {
      currentUsage: table.current,
      maxUsage: table.peak,
      evictionCount: table.evictionCount,
      pressureLevel: this.#link.level,
      entryCount: table.size,
      pinnedCount: table.pinnedCount,
      pinnedBytes: table.pinnedBytes,
      hits: this.#hits,
      misses: this.#misses,
      softHits: this.#softHits,
    };
  }

  /** The strategy this cache evicts by. */
  get strategy(): EvictionStrategy {
    return this.#strategy;
  }

  /** The current level on subscribe, then each change of `metrics.pressureLevel`. */
  get pressure(): Observable<MemoryPressureLevel> {
    return this.#link.levels;
  }

  /** Every eviction, delivered before the call that caused it returns. */
  get evictions(): Observable<EvictionEvent> {
    return this.#events.events;
  }

  /** Problems the cache worked around: size estimates that failed, bad levels from the handler. */
  get errors(): Observable<Error> {
    return this.#errorView;
  }

  // ---------------------------------------------------------------- ClearableCache

  /** `currentUsage`, for a `CacheCleaner`. */
  estimateCacheSize(): number {
    return this.#table.current;
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
    this.#link.dispose();
    this.#settle();
    this.#link.forget();
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

  #report(error: Error): void {
    this.#errorSubject.next(error);
    const telemetry = this.#telemetry;
    if (telemetry !== undefined) safeRecord(telemetry.recordError, telemetry, error);
  }

  #insert(key: K, value: V, bytes: number): boolean {
    const table = this.#table;
    const pinned = table.pins.size !== 0 && table.pins.has(key);
    const limit = this.#limitBytes;
    if (table.current + bytes > limit) {
      // Cannot fit even with every unpinned entry gone: evict nothing.
      if (!pinned && bytes + table.pinnedBytes > this.#maxBytes) return false;
      if (table.listMode) {
        // `#makeRoom(bytes)` written out: the path of every `lru` `set` into a full cache. V8 inlines a
        // function's callees within a budget of bytecode, which the function's own body does not count
        // against: here the eviction's callees all fit (bench/instructions.bench.ts, set into a full
        // cache). A policy's own victim and remove do not: they are better in `#makeRoom`'s.
        const max = this.#maxBytes;
        const level = this.#events.wanted ? this.#levelFor(table.current + bytes) : undefined;
        let victim: number;
        while (table.current + bytes > limit && (victim = table.victim()) !== 0) {
          table.evict(victim, table.current + bytes > max ? 'capacity' : 'pressure', level);
        }
      } else {
        this.#makeRoom(bytes);
      }
    }
    const slot = table.insert(key, value, bytes, pinned);
    return table.current < this.#moderateBytes || this.#watermark(slot);
  }

  #replace(slot: number, value: V, bytes: number): boolean {
    const table = this.#table;
    table.noteReplaced(slot, value);
    const over = table.current - table.sizeOf(slot) + bytes > this.#limitBytes;
    if (over && table.inOrder(slot) && bytes + table.pinnedBytes > this.#maxBytes) {
      table.remove(slot);
      return false;
    }
    // An evictable entry is out of the order while room is made (or its size changes): it cannot be its own victim.
    if (table.replace(slot, value, bytes, over)) {
      this.#makeRoom(0);
      table.reattach(slot);
    } else if (over) {
      this.#makeRoom(0);
    }
    table.notePeak();
    return table.current < this.#moderateBytes || this.#watermark(slot);
  }

  /**
   * The budget watermarks after a `set` of `slot` (usage is at least
   * `moderateThreshold`): the entry just set is evicted last. Returns
   * whether it is still stored.
   */
  #watermark(slot: number): boolean {
    const table = this.#table;
    const critical = table.current >= this.#criticalBytes;
    const level = this.#events.wanted ? this.#levelFor(table.current) : undefined;
    const evictable = table.inOrder(slot);
    if (evictable && this.#admits) return this.#admitWatermark(slot, critical, level);
    // In list mode the entry just set is the newest, so the `lru` order
    // reaches it only once every other entry is gone: it can stay in the
    // order (`last` stops the loop there). Other orders may rank it first:
    // it leaves them during the pass.
    const detached = evictable && !table.listMode;
    const bytes = detached ? table.detach(slot) : 0;
    const last = evictable && !detached ? slot : 0;
    let evicted = 0;
    let victim: number;
    if (critical) {
      while (table.current >= this.#moderateBytes && (victim = table.victim()) !== 0 && victim !== last) {
        table.evict(victim, 'pressure', level);
      }
    } else {
      for (; evicted < this.#batchSize && (victim = table.victim()) !== 0 && victim !== last; evicted++) {
        table.evict(victim, 'pressure', level);
      }
    }
    if (!evictable) return true;
    if (detached) table.attach(slot, bytes);
    if (critical ? table.current >= this.#moderateBytes : evicted < this.#batchSize) {
      table.evict(slot, 'pressure', level);
      return false;
    }
    return true;
  }

  /**
   * The watermark pass of an admission policy: the entry just set stays in
   * the order, so it meets the duels like any newcomer, and leaves if it
   * loses one. Returns whether it is still stored.
   */
  #admitWatermark(slot: number, critical: boolean, level: MemoryPressureLevel | undefined): boolean {
    let stored = true;
    let victim: number;
    const table = this.#table;
    for (let evicted = 0; (critical ? table.current >= this.#moderateBytes : evicted < this.#batchSize) && (victim = table.victim()) !== 0; evicted++) {
      if (victim === slot) stored = false;
      table.evict(victim, 'pressure', level);
    }
    return stored;
  }

  /**
   * Evicts unpinned entries until `incoming` more bytes fit under the limit,
   * or nothing is left to evict: for `capacity` while over `maxCacheBytes`,
   * for `pressure` while only over the pressure ceiling.
   */
  #makeRoom(incoming: number): void {
    const table = this.#table;
    const limit = this.#limitBytes;
    if (table.current + incoming <= limit) return;
    const max = this.#maxBytes;
    const level = this.#events.wanted ? this.#levelFor(table.current + incoming) : undefined;
    let victim: number;
    while (table.current + incoming > limit && (victim = table.victim()) !== 0) {
      table.evict(victim, table.current + incoming > max ? 'capacity' : 'pressure', level);
    }
  }

  /**
   * The level of the events of evictions at `bytes` of usage: the budget's or the handler's, whichever
   * is higher. Only asked when someone listens (`EvictionQueue.wanted`): `EntryTable.evict` is given
   * undefined otherwise, and builds no event.
   */
  #levelFor(bytes: number): MemoryPressureLevel {
    return levelAtRank(Math.max(this.#budgetRankFor(bytes), this.#link.handlerRank));
  }

  /** `level` for `EntryTable.evict`: undefined when nobody listens. */
  #eventLevel(level: MemoryPressureLevel): MemoryPressureLevel | undefined {
    return this.#events.wanted ? level : undefined;
  }

  /** Outside pressure at `rank`; pushes evicted keys onto `keys` when given. */
  #shed(rank: number, keys: K[] | undefined): void {
    if (rank === NORMAL) return;
    const level = levelAtRank(rank);
    const eventLevel = this.#eventLevel(level);
    const batch = this.#batchSize;
    const table = this.#table;
    let victim: number;
    if (rank === MODERATE) {
      for (let i = 0; i < batch && (victim = table.victim()) !== 0; i++) {
        const key = table.evict(victim, 'pressure', eventLevel);
        if (keys !== undefined) keys.push(key);
      }
    } else if (rank === CRITICAL) {
      const target = (table.current - table.pinnedBytes) / 2;
      let freed = 0;
      for (let i = 0; (freed < target || i < batch) && (victim = table.victim()) !== 0; i++) {
        freed += table.sizeOf(victim);
        const key = table.evict(victim, 'pressure', eventLevel);
        if (keys !== undefined) keys.push(key);
      }
    } else {
      table.evictAll('pressure', level, keys);
      // Emergency: the soft tier goes too, so nothing delays the collector.
      this.#soft?.clear();
    }
  }

  // Without a budget every threshold is Infinity, so this is NORMAL without a test of its own.
  #budgetRankFor(bytes: number): number {
    if (this.#table.pinnedBytes > this.#maxBytes) return EMERGENCY;
    return bytes >= this.#criticalBytes ? CRITICAL : bytes >= this.#moderateBytes ? MODERATE : NORMAL;
  }

  /**
   * Ends every public operation that changed something: delivers the queued
   * evictions, publishes a level change, reports the size. Returns whether
   * outside code ran (which may have changed the cache).
   */
  #settle(): boolean {
    let calledOut = false;
    if (this.#link.notesReleased) this.#tellReleased();
    if (this.#events.pending) {
      this.#events.deliver();
      calledOut = true;
    }
    if (this.#link.settle(this.#budgetRankFor(this.#table.current))) calledOut = true;
    const telemetry = this.#telemetry;
    if (telemetry !== undefined) {
      safeRecord(telemetry.recordCacheSize, telemetry, this.#table.current, this.#table.size);
      calledOut = true;
    }
    return calledOut;
  }

  /** Tells the handler the bytes dropped since it was last told (apart from `#settle`: only a monitor wants them). */
  #tellReleased(): void {
    const total = this.#table.releasedBytes;
    const released = total - this.#releasedTold;
    if (released === 0) return;
    this.#releasedTold = total;
    this.#link.released(released);
  }

  /** A monitor's sample at `rank` (see `SampleFollower`): the cache evicts down to the ceiling it leaves. */
  #follow(rank: number, state: MemoryState): void {
    const table = this.#table;
    const shedRank = this.#samples.observe(rank, state, table.current, table.pinnedBytes, table.current + table.releasedBytes);
    this.#limitBytes = this.limitBytes;
    this.#shed(shedRank, undefined);
    if (table.current > this.#limitBytes) this.#makeRoom(0);
    const growthBytes = growthUntilNextSampleBytes(state);
    if (growthBytes > 0) this.#limitBytes = Math.min(this.#limitBytes, table.current + growthBytes);
    this.#settle();
  }
}
