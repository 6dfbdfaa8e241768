/**
 * CacheCleaner: turns any `ClearableCache` into a `ResourceCleaner`.
 *
 * It measures the cache, gives memory back and measures again; `bytesFreed`
 * is the difference, never negative (a cache that grew meanwhile freed
 * nothing as far as we can tell).
 *
 * How much it gives back follows the run's level. A cache that can trim
 * (`handlePressure(level)`, as `MemoryManager` has) is asked to shed as that
 * level asks: one batch at `moderate`, half at `critical`, everything
 * unpinned at `emergency`, nothing at `normal`. Clearing such a cache whole
 * on every `moderate` blip makes it flush and refill instead of settling at
 * a size the process can hold. Only a cache that can do nothing else is
 * cleared whole (`clearAllCaches`), whatever the level. A cache that already
 * sheds for the run's level by itself (its `outsidePressure`, the level its
 * own pressure handler reports, is that level or a higher one) is left
 * alone: a monitor reaching `critical` would otherwise halve it twice, once
 * through the cache and once through the cleaner. Called without a
 * context (by hand, one argument), the level is `emergency`, as for a
 * coordinator run requested by hand.
 *
 * It never throws or rejects: a cache that fails, or reports a size that is
 * not a non-negative finite number, gives a failed result that says which
 * step went wrong. The abort signal is honoured between steps: once
 * aborted, the cache is not touched.
 */
import { clockOption, type Clock } from '../clock.js';
import { describeValue } from '../checks.js';
import { reasonOf, type CleanupResult } from './cleanup-result.js';
import { isTrimmableCache, type ClearableCache, type TrimmableCache } from './clearable-cache.js';
import { isCleanupPriority, CLEANUP_PRIORITIES, type CleanupPriority } from './priority.js';
import type { CleanupContext, ResourceCleaner } from './resource-cleaner.js';
import { comparePressure, isMemoryPressureLevel, PRESSURE_LEVELS, type MemoryPressureLevel } from '../pressure-levels.js';

export interface CacheCleanerOptions {
  /** Non-empty; names the cleaner in results. */
  name: string;
  priority: CleanupPriority;
  cache: ClearableCache;
  /** Measures `durationMs`. Default: the library's default clock. */
  clock?: Clock;
}

class StepFailure extends Error {}

/** The cache's own pressure handler reports `level` or a higher one (see the design note). */
function shedsByItself(cache: TrimmableCache, level: MemoryPressureLevel): boolean {
  const outside = cache.outsidePressure;
  return isMemoryPressureLevel(outside) && comparePressure(outside, level) >= 0;
}

export class CacheCleaner implements ResourceCleaner {
  readonly name: string;
  readonly priority: CleanupPriority;
  readonly #cache: ClearableCache;
  /** The same cache when it can trim (read once, at construction); else undefined. */
  readonly #trimmable: TrimmableCache | undefined;
  readonly #clock: Clock;

  constructor(options: CacheCleanerOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options must be an object with name, priority and cache, got ${describeValue(options)}`);
    }
    const { name, priority, cache } = options;
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`name must be a non-empty string, got ${describeValue(name)}`);
    }
    if (!isCleanupPriority(priority)) {
      throw new RangeError(`priority must be one of ${CLEANUP_PRIORITIES.join(', ')}, got ${describeValue(priority)}`);
    }
    if (typeof cache !== 'object' || cache === null) {
      throw new TypeError(`cache must be an object with estimateCacheSize and clearAllCaches, got ${describeValue(cache)}`);
    }
    for (const method of ['estimateCacheSize', 'clearAllCaches'] as const) {
      if (typeof cache[method] !== 'function') {
        throw new TypeError(`cache.${method} must be a function, got ${describeValue(cache[method])}`);
      }
    }
    this.name = name;
    this.priority = priority;
    this.#cache = cache;
    this.#trimmable = isTrimmableCache(cache) ? cache : undefined;
    this.#clock = clockOption(options.clock);
  }

  async cleanup(signal?: AbortSignal, context?: CleanupContext): Promise<CleanupResult> {
    const startedAt = this.#clock.now();
    const finish = (bytesFreed: number, error?: string): CleanupResult => {
      const result: CleanupResult = { cleanerName: this.name, bytesFreed, success: error === undefined, durationMs: Math.max(0, this.#clock.now() - startedAt) };
      if (error !== undefined) result.error = error;
      return result;
    };
    try {
      const level = levelOf(context);
      const trimmable = this.#trimmable;
      const step = trimmable === undefined ? 'clearing' : 'shedding';
      const before = await this.#measure(`before ${step}`);
      if (signal?.aborted === true) return finish(0, `aborted before ${step}: ${reasonOf(signal.reason)}`);
      if (trimmable !== undefined && shedsByItself(trimmable, level)) return finish(0);
      try {
        if (trimmable === undefined) await this.#cache.clearAllCaches();
        else await trimmable.handlePressure(level);
      } catch (error) {
        throw new StepFailure(`${trimmable === undefined ? 'clearAllCaches' : `handlePressure(${level})`} failed: ${reasonOf(error)}`);
      }
      const after = await this.#measure(`after ${step}`);
      return finish(Math.max(0, before - after));
    } catch (error) {
      return finish(0, error instanceof StepFailure ? error.message : reasonOf(error));
    }
  }

  async #measure(when: string): Promise<number> {
    let size: unknown;
    try {
      size = await this.#cache.estimateCacheSize();
    } catch (error) {
      throw new StepFailure(`estimateCacheSize ${when} failed: ${reasonOf(error)}`);
    }
    if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) {
      throw new StepFailure(`estimateCacheSize ${when} returned ${describeValue(size)}, expected a non-negative finite number of bytes`);
    }
    return size;
  }
}

/** The run's level; `emergency` without a context. A bad one is a failed step naming it. */
function levelOf(context: CleanupContext | undefined): MemoryPressureLevel {
  if (context === undefined) return 'emergency';
  if (typeof context !== 'object' || context === null) {
    throw new StepFailure(`context must be an object with a level, got ${describeValue(context)}`);
  }
  const { level } = context;
  if (!isMemoryPressureLevel(level)) {
    throw new StepFailure(`context.level must be one of ${PRESSURE_LEVELS.join(', ')}, got ${describeValue(level)}`);
  }
  return level;
}
