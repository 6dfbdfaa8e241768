/**
 * NexusStore: a read-through, write-through cache in front of a `Backend`,
 * bounded by a `MemoryManager` (bytes, pressure, pins).
 *
 * Structure
 * - `#cache`: the cache holding items by id (a `StoreCache`: by default a
 *   `MemoryManager` built from `config.memory`, or the one given as
 *   `cache`); it owns budgets, eviction order and pins. The store never caches absence: a miss that the
 *   backend answers with `undefined` is asked again next time.
 * - `#fetches`: one in-flight backend read per id. Concurrent misses for an
 *   id (from `get`, `getMany`, `pin` or a background refresh) await the same
 *   promise, so a stampede costs one backend call. A rejected fetch is removed
 *   at once: errors are never cached.
 * - `#watchers`: for each id with a backend call in flight, one small record
 *   per call. Only in-flight work is tracked, so this map is empty at rest and
 *   never grows with the number of ids ever seen.
 *
 * Coherence (why a fetch can never put a stale value in the cache)
 * A read that overlaps a write of the same id may return either value, so its
 * result is only trusted if no write touched the id while it was in flight.
 * Every write-like event of an id (a `save` or `delete` starting or ending,
 * succeeded or failed, a `changes` notification, a backend `resyncs`) marks
 * every in-flight call on that id as invalidated and detaches the shared
 * fetch, so later readers start a fresh one. On completion:
 * - a fetch fills the cache only if it was not invalidated;
 * - a save fills the cache with the backend's copy of its item only if no
 *   other write, change or resync of the id overlapped it, and otherwise drops
 *   the id (the next read asks the backend, which knows the order the writes
 *   committed in);
 * - a delete always drops the id, and so does a save or delete that failed:
 *   its outcome is unknown (it may commit after the client gave up).
 * Invalidation is a method of its own, never an eviction: changes drop
 * entries with the cache's `delete` and resyncs with its `invalidateAll`,
 * which forget the values (a `MemoryManager`'s soft tier included), where an
 * eviction such as `clearUnpinned` would let a `get` revive them.
 * Invalidating at both ends of a write matters: a fetch that starts after a
 * save began may read the old row and finish after the save, and without the
 * mark at the save's end it would overwrite the fresh value.
 *
 * Costs: a hit is one MemoryManager `get` (O(1) for lru/lfu). A miss adds one
 * backend call plus O(1) bookkeeping; `getMany` issues one `backend.getMany`
 * for all ids that are neither cached nor already being fetched.
 *
 * Ids are one type per store (the first id given fixes it): a backend that
 * keys on text would otherwise hold one row under two entries, `1` and `"1"`.
 *
 * Pins are on ids (the MemoryManager's key pins): pinning an id that the
 * backend does not have keeps the pin, so the item is protected once saved;
 * `delete` keeps the pin too; `unpin` forgets it. A pinned id reported as
 * changed, or dropped by a resync, is re-read in the background so pinned
 * items stay resident; a failed re-read is published on `errors`.
 */
import { MemoryManager } from '../cache/memory-manager.js';
import type { TrimmableCache } from '../cleanup/clearable-cache.js';
import { DEFAULT_EVICTION_BATCH_SIZE, type MemoryConfig } from '../cache/memory-config.js';
import type { MemoryMetrics } from '../cache/eviction-event.js';
import { Subject } from '../observable.js';
import type { Observable, Subscription } from '../observable.js';
import type { MemoryPressureLevel } from '../pressure-levels.js';
import { assertBackend } from './backend.js';
import type { Backend } from './backend.js';
import { NexusStoreError, describeId } from './store-error.js';
import { requireStoreCache, type StoreCache, type StoreCacheOption } from './store-cache.js';

export interface StoreConfig<T> {
  /** The cache's budget, strategy and pressure source; passed to its `MemoryManager`. */
  memory?: MemoryConfig<T>;
}

export interface NexusStoreOptions<T, ID> {
  backend: Backend<T, ID>;
  /** The id of an item; must agree with the backend's notion of ids. */
  idOf: (item: T) => ID;
  config?: StoreConfig<T>;
  /**
   * The cache to keep items in. Default: a `MemoryManager` built from
   * `config.memory`. Either
   * - a cache (a `MemoryManager`, or anything keeping the `StoreCache`
   *   promises): give the store one of its own, configured as you like
   *   (then `config.memory` must be left out); or
   * - a function building one from `config.memory`.
   *
   * The store owns the cache from then on: `dispose` disposes and clears it.
   * `evictLeastRecentlyUsed` takes `config.memory.evictionBatchSize` (else
   * 10) as its default count whichever way the cache came.
   */
  cache?: StoreCacheOption<ID, T, MemoryConfig<T>>;
}

/** One backend call in flight on an id; `invalidated` once a write-like event of that id overlapped it. */
interface Watcher {
  invalidated: boolean;
}

function assertId(id: unknown, operation: string): void {
  if (id === undefined || id === null) {
    throw new TypeError(`${operation}: id must not be ${String(id)}`);
  }
}

function typeName(type: string): string {
  return type === 'object' ? 'objects' : `${type}s`;
}

/**
 * `id` converted to `type` when it is the other of string and number and says the same
 * (`"1"` and `1`), else `id` unchanged: a backend keying on text may report either form.
 */
function sameIdAs(id: unknown, type: string | undefined): unknown {
  if (type === 'number' && typeof id === 'string' && id !== '' && String(Number(id)) === id) return Number(id);
  if (type === 'string' && typeof id === 'number') return String(id);
  return id;
}

function buildCache<ID, T>(option: StoreCacheOption<ID, T, MemoryConfig<T>> | undefined, memory: MemoryConfig<T> | undefined): StoreCache<ID, T> {
  if (option === undefined) return new MemoryManager<ID, T>(memory);
  if (typeof option === 'function') return requireStoreCache(option(memory), 'the cache factory\'s result');
  if (memory !== undefined) {
    throw new TypeError('config.memory configures the cache the store builds; with a cache given, configure that cache instead (or pass a function building the cache from config.memory)');
  }
  return requireStoreCache(option, 'cache');
}

export class NexusStore<T, ID> implements TrimmableCache {
  readonly #backend: Backend<T, ID>;
  readonly #idOf: (item: T) => ID;
  readonly #cache: StoreCache<ID, T>;
  readonly #defaultEvictCount: number;
  readonly #fetches = new Map<ID, Promise<T | undefined>>();
  readonly #watchers = new Map<ID, Set<Watcher>>();
  readonly #subscriptions: Subscription[] = [];
  readonly #errors = new Subject<NexusStoreError<ID>>();
  #disposed = false;
  #idType: string | undefined;

  /** Failures of background work no caller awaits: re-reads of pinned items after a change or resync. */
  readonly errors: Observable<NexusStoreError<ID>> = this.#errors.asObservable();

  constructor(options: NexusStoreOptions<T, ID>) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`NexusStore options must be an object with backend and idOf, got ${options === null ? 'null' : typeof options}`);
    }
    assertBackend(options.backend);
    if (typeof options.idOf !== 'function') {
      throw new TypeError(`idOf must be a function, got ${typeof options.idOf}`);
    }
    const config = options.config ?? {};
    if (typeof config !== 'object' || config === null) {
      throw new TypeError(`config must be an object, got ${config === null ? 'null' : typeof config}`);
    }
    this.#backend = options.backend;
    this.#idOf = options.idOf;
    this.#cache = buildCache(options.cache, config.memory);
    this.#defaultEvictCount = config.memory?.evictionBatchSize ?? DEFAULT_EVICTION_BATCH_SIZE;

    const { changes, resyncs } = this.#backend;
    if (changes !== undefined) {
      this.#subscriptions.push(changes.subscribe({ next: (id) => this.#onChange(id) }));
    }
    if (resyncs !== undefined) {
      this.#subscriptions.push(resyncs.subscribe({ next: () => this.#onResync() }));
    }
  }

  /**
   * The item with this id: from the cache, else from the backend (and then
   * cached). Concurrent misses for one id share one backend call.
   * Counts a hit or a miss and marks the item used.
   */
  async get(id: ID): Promise<T | undefined> {
    this.#assertOpen('get');
    this.#checkId(id, 'get');
    const cached = this.#cache.get(id);
    if (cached !== undefined) return cached;
    try {
      return await this.#load(id);
    } catch (error) {
      throw new NexusStoreError<ID>('get', [id], error);
    }
  }

  /**
   * The items found among `ids`, keyed by id, in the order asked (missing
   * ids are absent). Cached items are served from the cache, ids already
   * being fetched join that fetch, and all remaining misses go to the backend
   * in one `getMany` call (one `get` each when the backend has no `getMany`).
   */
  async getMany(ids: readonly ID[]): Promise<Map<ID, T>> {
    this.#assertOpen('getMany');
    if (!Array.isArray(ids)) throw new TypeError(`getMany: ids must be an array, got ${typeof ids}`);
    const unique = [...new Set(ids)];
    for (const id of unique) this.#checkId(id, 'getMany');

    const found = new Map<ID, T>();
    const pending = new Map<ID, Promise<T | undefined>>();
    const misses: ID[] = [];
    for (const id of unique) {
      const cached = this.#cache.get(id);
      if (cached !== undefined) {
        found.set(id, cached);
        continue;
      }
      const inFlight = this.#fetches.get(id);
      if (inFlight !== undefined) pending.set(id, inFlight);
      else misses.push(id);
    }
    if (misses.length > 0) {
      if (this.#backend.getMany !== undefined) {
        for (const [id, promise] of this.#loadMany(misses)) pending.set(id, promise);
      } else {
        for (const id of misses) pending.set(id, this.#load(id));
      }
    }
    if (pending.size > 0) {
      let loaded: Array<T | undefined>;
      try {
        loaded = await Promise.all(pending.values());
      } catch (error) {
        throw new NexusStoreError<ID>('getMany', unique, error);
      }
      let i = 0;
      for (const id of pending.keys()) {
        const item = loaded[i++];
        if (item !== undefined) found.set(id, item);
      }
    }
    // Answer in the order asked, whatever mix of hits and fetches produced it.
    const ordered = new Map<ID, T>();
    for (const id of unique) {
      const item = found.get(id);
      if (item !== undefined) ordered.set(id, item);
    }
    return ordered;
  }

  /**
   * Writes the item to the backend, then caches the backend's copy of it
   * (what `save` resolved to: what a read would return), never the caller's
   * object. Dropped from the cache instead, so the next read asks the backend:
   * - when the save fails: the write may still commit (a timeout, a lost
   *   connection), so no older copy may outlive it;
   * - when another write of the same id overlapped this one (here, or
   *   elsewhere as reported on `changes`): the backend knows which one won;
   * - when the backend's `save` resolves to nothing.
   */
  async save(item: T): Promise<void> {
    this.#assertOpen('save');
    let id: ID;
    try {
      id = this.#idOf(item);
    } catch (error) {
      throw new TypeError(`save: idOf threw for the item: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    this.#checkId(id, 'save: idOf(item)');

    this.#invalidate(id);
    const watcher = this.#watch(id);
    let stored: T | void;
    try {
      stored = await this.#backend.save(item);
    } catch (error) {
      // The write may still commit (a timeout, a lost connection): keep no copy that could outlive it.
      if (!this.#disposed) this.#cache.delete(id);
      throw new NexusStoreError<ID>('save', [id], error);
    } finally {
      this.#unwatch(id, watcher);
      // Reads that began during the write may hold the old value: do not let them fill.
      this.#invalidate(id);
    }
    if (this.#disposed) return;
    // Without the backend's own copy, the caller's object is not cached: it may differ from what a read
    // returns (the backend may transform it), and the caller may mutate it later.
    if (watcher.invalidated || stored === undefined) this.#cache.delete(id);
    else this.#cache.set(id, stored);
  }

  /** Deletes the item in the backend, then drops it from the cache (a pin on the id stays). */
  async delete(id: ID): Promise<void> {
    this.#assertOpen('delete');
    this.#checkId(id, 'delete');
    this.#invalidate(id);
    const watcher = this.#watch(id);
    try {
      await this.#backend.delete(id);
    } catch (error) {
      if (!this.#disposed) this.#cache.delete(id);
      throw new NexusStoreError<ID>('delete', [id], error);
    } finally {
      this.#unwatch(id, watcher);
      this.#invalidate(id);
    }
    if (!this.#disposed) this.#cache.delete(id);
  }

  /**
   * Pins the id, then loads the item if it is not cached. A pinned item is
   * never evicted (pressure, budget, `evictLeastRecentlyUsed`,
   * `clearUnpinnedCache`). Pinning an id the backend does not have keeps the
   * pin: the item is protected once saved. When the load fails, the call
   * rejects and a pin it added is removed again.
   */
  async pin(id: ID): Promise<void> {
    this.#assertOpen('pin');
    this.#checkId(id, 'pin');
    const wasPinned = this.#cache.isPinned(id);
    this.#cache.pin(id);
    if (this.#cache.has(id)) return;
    try {
      await this.#load(id);
    } catch (error) {
      if (!wasPinned && !this.#disposed) this.#cache.unpin(id);
      throw new NexusStoreError<ID>('pin', [id], error);
    }
  }

  /** Makes the item evictable again; it stays cached until evicted. */
  async unpin(id: ID): Promise<void> {
    this.#assertOpen('unpin');
    this.#checkId(id, 'unpin');
    this.#cache.unpin(id);
  }

  /** Every pinned id, cached or not. */
  get pinnedIds(): ID[] {
    return this.#cache.pinnedKeys;
  }

  /** The cached item, without asking the backend and without counting a hit or marking use. */
  peek(id: ID): T | undefined {
    return this.#cache.peek(id);
  }

  /**
   * Evicts up to `count` unpinned items, least recently used first whatever
   * the cache strategy; resolves to the number evicted. `count` defaults to
   * the memory config's `evictionBatchSize` (10).
   */
  async evictLeastRecentlyUsed(options: { count?: number } = {}): Promise<number> {
    this.#assertOpen('evictLeastRecentlyUsed');
    const count = options.count ?? this.#defaultEvictCount;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw new RangeError(`evictLeastRecentlyUsed: count must be an integer >= 0, got ${String(count)}`);
    }
    if (count === 0) return 0;
    return this.#cache.evictLeastRecentlyUsed(count).length;
  }

  /** The cache's bytes (`memoryMetrics.currentUsage`): with `clearAllCaches`, `handlePressure` and `outsidePressure`, what a `CacheCleaner` needs. */
  estimateCacheSize(): number {
    this.#assertOpen('estimateCacheSize');
    return this.#cache.metrics.currentUsage;
  }

  /** For a `CacheCleaner` that cannot trim: `clearUnpinnedCache`, pins kept. */
  async clearAllCaches(): Promise<void> {
    await this.clearUnpinnedCache();
  }

  /** Evicts every unpinned item; resolves to the number evicted. */
  async clearUnpinnedCache(): Promise<number> {
    this.#assertOpen('clearUnpinnedCache');
    return this.#cache.clearUnpinned();
  }

  /**
   * Sheds unpinned items as pressure `level` asks (the cache's
   * `handlePressure`: `normal` nothing, `moderate` one batch, `critical`
   * half the unpinned bytes, `emergency` every unpinned item); resolves to
   * the number evicted. What a `CacheCleaner` over the store calls, so a
   * cleanup at `moderate` trims the store instead of emptying it.
   */
  async handlePressure(level: MemoryPressureLevel): Promise<number> {
    this.#assertOpen('handlePressure');
    return this.#cache.handlePressure(level).length;
  }

  /**
   * The level the cache's own pressure handler reports (`normal` when it has
   * none): what it already sheds for, so a `CacheCleaner` over the store
   * leaves it alone at that level (see CacheCleaner).
   */
  get outsidePressure(): MemoryPressureLevel {
    return this.#cache.outsidePressure ?? 'normal';
  }

  /** A snapshot of the cache's metrics (bytes, entries, pins, hits, misses, evictions, level). */
  get memoryMetrics(): MemoryMetrics {
    return this.#cache.metrics;
  }

  /** The cache's pressure level: the current one on subscribe, then every change. */
  get memoryPressureStream(): Observable<MemoryPressureLevel> {
    return this.#cache.pressure;
  }

  /**
   * Stops listening to the backend's streams, disposes the cache (releasing
   * every cached item) and makes every later call reject. Calls in flight
   * settle but no longer touch the cache. The backend itself is not closed:
   * it belongs to the caller, who may share it.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const subscription of this.#subscriptions.splice(0)) subscription.unsubscribe();
    this.#invalidateAll();
    this.#cache.dispose();
    this.#cache.clear();
    this.#errors.complete();
  }

  /**
   * Ids are one type per store, fixed by the first id it is given: with `1` and `"1"` both
   * allowed, a backend that keys on text would hold one row under two cache entries.
   */
  #checkId(id: ID, operation: string): void {
    assertId(id, operation);
    const type = typeof id;
    if (this.#idType === undefined) this.#idType = type;
    else if (type !== this.#idType) {
      throw new TypeError(
        `${operation}: id ${describeId(id)} is ${type === 'object' ? 'an object' : `a ${type}`}, but this store's ids are ${typeName(this.#idType)} (one id type per store)`,
      );
    }
  }

  #assertOpen(operation: string): void {
    if (this.#disposed) throw new Error(`nexus-store: ${operation}() called on a disposed NexusStore`);
  }

  /** The shared in-flight read of `id`, started if there is none. */
  #load(id: ID): Promise<T | undefined> {
    const existing = this.#fetches.get(id);
    if (existing !== undefined) return existing;
    const watcher = this.#watch(id);
    const promise: Promise<T | undefined> = Promise.resolve()
      .then(() => this.#backend.get(id))
      .then((item) => {
        if (item !== undefined && !watcher.invalidated && !this.#disposed) this.#cache.set(id, item);
        return item;
      })
      .finally(() => {
        this.#unwatch(id, watcher);
        if (this.#fetches.get(id) === promise) this.#fetches.delete(id);
      });
    this.#fetches.set(id, promise);
    return promise;
  }

  /** One backend `getMany` for `ids` (none cached, none in flight), registered as each id's shared read. */
  #loadMany(ids: readonly ID[]): Map<ID, Promise<T | undefined>> {
    const getMany = this.#backend.getMany;
    if (getMany === undefined) throw new Error('unreachable: #loadMany without backend.getMany');
    const watchers = ids.map((id) => this.#watch(id));
    const batch = Promise.resolve()
      .then(() => getMany.call(this.#backend, ids))
      .then((found) => {
        if (!(found instanceof Map)) {
          throw new TypeError(`backend.getMany must resolve to a Map, got ${found === null ? 'null' : typeof found}`);
        }
        ids.forEach((id, i) => {
          const item = found.get(id);
          if (item !== undefined && !(watchers[i] as Watcher).invalidated && !this.#disposed) this.#cache.set(id, item);
        });
        return found;
      });
    const perId = new Map<ID, Promise<T | undefined>>();
    ids.forEach((id, i) => {
      const promise: Promise<T | undefined> = batch
        .then((found) => found.get(id))
        .finally(() => {
          this.#unwatch(id, watchers[i] as Watcher);
          if (this.#fetches.get(id) === promise) this.#fetches.delete(id);
        });
      // A joined reader may never come; the failure still reaches the caller through `batch`.
      promise.catch(() => undefined);
      this.#fetches.set(id, promise);
      perId.set(id, promise);
    });
    return perId;
  }

  #watch(id: ID): Watcher {
    const watcher: Watcher = { invalidated: false };
    let set = this.#watchers.get(id);
    if (set === undefined) {
      set = new Set();
      this.#watchers.set(id, set);
    }
    set.add(watcher);
    return watcher;
  }

  #unwatch(id: ID, watcher: Watcher): void {
    const set = this.#watchers.get(id);
    if (set === undefined) return;
    set.delete(watcher);
    if (set.size === 0) this.#watchers.delete(id);
  }

  /** A write-like event of `id`: no call in flight on it may fill the cache, later reads start afresh. */
  #invalidate(id: ID): void {
    const set = this.#watchers.get(id);
    if (set !== undefined) for (const watcher of set) watcher.invalidated = true;
    this.#fetches.delete(id);
  }

  #invalidateAll(): void {
    for (const set of this.#watchers.values()) for (const watcher of set) watcher.invalidated = true;
    this.#fetches.clear();
  }

  #onChange(reported: ID): void {
    if (this.#disposed || reported === undefined || reported === null) return;
    const id = sameIdAs(reported, this.#idType) as ID;
    this.#invalidate(id);
    this.#cache.delete(id);
    if (this.#cache.isPinned(id)) this.#refresh([id]);
  }

  #onResync(): void {
    if (this.#disposed) return;
    this.#invalidateAll();
    // Not `clearUnpinned`: that is an eviction, and a soft tier would revive the stale values.
    this.#cache.invalidateAll();
    const pinned = this.#cache.pinnedKeys;
    if (pinned.length > 0) this.#refresh(pinned);
  }

  /** Re-reads pinned ids in the background; readers arriving meanwhile join these reads. */
  #refresh(ids: readonly ID[]): void {
    const report = (id: ID) => (error: unknown) => {
      if (!this.#disposed) this.#errors.next(new NexusStoreError<ID>('refresh', [id], error));
    };
    if (ids.length > 1 && this.#backend.getMany !== undefined) {
      for (const [id, promise] of this.#loadMany(ids)) promise.catch(report(id));
    } else {
      for (const id of ids) this.#load(id).catch(report(id));
    }
  }
}
