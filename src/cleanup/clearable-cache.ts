/**
 * The two operations `CacheCleaner` needs from a cache. `MemoryManager`
 * implements it; so can any cache that can tell its size in bytes and drop
 * its content. Both may be synchronous or asynchronous.
 */
export interface ClearableCache {
  /** Bytes held now: a non-negative finite number. */
  estimateCacheSize(): number | Promise<number>;
  /** Drops what can be dropped (a pin-aware cache keeps its pinned entries). */
  clearAllCaches(): void | Promise<void>;
}
