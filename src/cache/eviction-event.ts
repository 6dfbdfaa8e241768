import type { MemoryPressureLevel } from '../pressure-levels.js';

/**
 * Why an entry left the cache. `delete`, `clear` and a replacing `set` are
 * not evictions: they emit nothing and are not counted.
 *
 * - `capacity`: a `set` (or an `unpin`) needed room under `maxCacheBytes`.
 * - `pressure`: shedding: a budget watermark was crossed after a `set`, the
 *   pressure handler reported a level above `normal`, or `handlePressure`
 *   was called.
 * - `manual`: `evict`, `evictLeastRecentlyUsed`, `clearUnpinned` (and
 *   `clearAllCaches`, which a `CacheCleaner` calls).
 */
export type EvictionReason = 'capacity' | 'pressure' | 'manual';

export interface EvictionEvent {
  key: unknown;
  /** The bytes the entry was accounted for. */
  bytes: number;
  reason: EvictionReason;
  /**
   * The pressure level behind the eviction: the level being handled for
   * `pressure` (the budget level for a watermark pass, at least the
   * handler's level), the budget level the incoming entry would cause for
   * `capacity`, and the cache's level for `manual`.
   */
  level: MemoryPressureLevel;
}

/** A snapshot of the cache's accounting. */
export interface MemoryMetrics {
  /** Bytes of every stored entry, pinned ones included. Always the exact sum. */
  currentUsage: number;
  /** The highest `currentUsage` seen since construction. */
  maxUsage: number;
  /** Entries evicted (for any reason) since construction; deletes are not counted. */
  evictionCount: number;
  /** The higher of the budget level and the pressure handler's level. */
  pressureLevel: MemoryPressureLevel;
  /** Entries stored. */
  entryCount: number;
  /** Stored entries that are pinned (pins on absent keys are not counted). */
  pinnedCount: number;
  /** Bytes of the stored pinned entries. */
  pinnedBytes: number;
  /** `get` calls that found their key. */
  hits: number;
  /** `get` calls that did not. */
  misses: number;
  /**
   * `get` calls that found their key's evicted value still in the soft tier
   * (`softEviction`) and revived it. Each is also counted in `hits`.
   */
  softHits: number;
}
