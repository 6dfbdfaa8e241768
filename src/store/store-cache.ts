/**
 * What a `NexusStore` asks of the cache in front of its backend.
 *
 * `MemoryManager` is the cache a store builds by default, and the reference
 * for every promise below. A store can be given another one (or the same
 * kind, built by the caller to watch its `evictions` or hand it to a
 * `CacheCleaner`), as long as it keeps them:
 *
 * - `get` counts a hit or a miss; `peek` and `has` have no side effects.
 * - `set` returns whether the item is stored when it returns.
 * - Pins are on ids and outlive the entry: `delete` and `invalidateAll`
 *   keep them, `unpin` and `clear` forget them. A pinned entry is never
 *   evicted.
 * - Invalidation is not eviction. `delete(id)` and `invalidateAll()` are how
 *   the store drops values that went stale (a write elsewhere, a backend
 *   resync): what they drop is gone, and no later `get` may return it (a
 *   cache that keeps evicted values in a second tier must forget them here).
 *   `evictLeastRecentlyUsed` and `clearUnpinned` only make room.
 */
import type { MemoryMetrics } from '../cache/eviction-event.js';
import type { Observable } from '../observable.js';
import type { MemoryPressureLevel } from '../pressure-levels.js';

export interface StoreCache<ID, T> {
  /** The cached item; counts a hit or a miss and marks the item used. */
  get(id: ID): T | undefined;
  /** The cached item, without counting or marking use. */
  peek(id: ID): T | undefined;
  has(id: ID): boolean;
  /** Stores the item; false when it is not stored (it does not fit). */
  set(id: ID, item: T): boolean;
  /** Invalidates one id: the entry is dropped (not an eviction), its pin kept, and it cannot come back. */
  delete(id: ID): boolean;
  /** Invalidates every entry, pinned or not, keeping the pins; returns how many were dropped. */
  invalidateAll(): number;
  pin(id: ID): void;
  unpin(id: ID): void;
  isPinned(id: ID): boolean;
  /** Every pinned id, cached or not. */
  readonly pinnedKeys: ID[];
  /** Evicts up to `count` unpinned entries, least recently used first; returns their ids. */
  evictLeastRecentlyUsed(count: number): ID[];
  /** Evicts every unpinned entry; returns how many. */
  clearUnpinned(): number;
  /** Sheds unpinned entries as pressure `level` asks (see MemoryManager.handlePressure); returns their ids. */
  handlePressure(level: MemoryPressureLevel): ID[];
  /** Optional: the level the cache already sheds for by itself (see MemoryManager.outsidePressure). */
  readonly outsidePressure?: MemoryPressureLevel;
  readonly metrics: MemoryMetrics;
  /** The cache's pressure level: the current one on subscribe, then every change. */
  readonly pressure: Observable<MemoryPressureLevel>;
  /** Drops every entry and pin. */
  clear(): void;
  /** Stops whatever the cache listens to (a pressure handler). */
  dispose(): void;
}

/** A cache, or a function that builds one from the store's `config.memory`. */
export type StoreCacheOption<ID, T, C = unknown> = StoreCache<ID, T> | ((memory: C | undefined) => StoreCache<ID, T>);

const METHODS = [
  'get',
  'peek',
  'has',
  'set',
  'delete',
  'invalidateAll',
  'pin',
  'unpin',
  'isPinned',
  'evictLeastRecentlyUsed',
  'clearUnpinned',
  'clear',
  'dispose',
] as const;

/** `cache` if it has every `StoreCache` method, else a `TypeError` naming `field` and what is missing. */
export function requireStoreCache<ID, T>(cache: unknown, field: string): StoreCache<ID, T> {
  if (typeof cache !== 'object' || cache === null) {
    throw new TypeError(`${field} must be a cache (a MemoryManager or another StoreCache), got ${cache === null ? 'null' : typeof cache}`);
  }
  const missing = METHODS.filter((method) => typeof (cache as Record<string, unknown>)[method] !== 'function');
  if (missing.length > 0) {
    throw new TypeError(`${field} is not a StoreCache: it lacks ${missing.join(', ')}`);
  }
  return cache as StoreCache<ID, T>;
}
