import type { MemoryPressureLevel } from '../pressure-levels.js';

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

/**
 * A cache that can also shed in proportion to a pressure level (as
 * `MemoryManager.handlePressure` does: `normal` nothing, `moderate` one
 * batch, `critical` half, `emergency` everything unpinned). `CacheCleaner`
 * trims such a cache instead of clearing it whole. The return value is
 * ignored; a promise is awaited.
 */
export interface TrimmableCache extends ClearableCache {
  handlePressure(level: MemoryPressureLevel): unknown;
  /**
   * Optional: the level the cache already sheds for by itself (its own
   * pressure handler, as `MemoryManager.outsidePressure`). A `CacheCleaner`
   * run at that level or a lower one leaves such a cache alone.
   */
  readonly outsidePressure?: MemoryPressureLevel;
}

/** True when `cache` has a `handlePressure` method, read once. */
export function isTrimmableCache(cache: ClearableCache): cache is TrimmableCache {
  return typeof (cache as Partial<TrimmableCache>).handlePressure === 'function';
}
