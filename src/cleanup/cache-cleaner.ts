/**
 * CacheCleaner: turns any `ClearableCache` into a `ResourceCleaner`.
 *
 * It measures the cache, clears it and measures again; `bytesFreed` is the
 * difference, never negative (a cache that grew meanwhile freed nothing as
 * far as we can tell). It never throws or rejects: a cache that fails, or
 * reports a size that is not a non-negative finite number, gives a failed
 * result that says which step went wrong. The abort signal is honoured
 * between steps: once aborted, the cache is not cleared.
 */
import { getDefaultClock, requireClock, type Clock } from '../clock.js';
import { describeValue, reasonOf, type CleanupResult } from './cleanup-result.js';
import type { ClearableCache } from './clearable-cache.js';
import { isCleanupPriority, CLEANUP_PRIORITIES, type CleanupPriority } from './priority.js';
import type { ResourceCleaner } from './resource-cleaner.js';

export interface CacheCleanerOptions {
  /** Non-empty; names the cleaner in results. */
  name: string;
  priority: CleanupPriority;
  cache: ClearableCache;
  /** Measures `durationMs`. Default: the library's default clock. */
  clock?: Clock;
}

class StepFailure extends Error {}

export class CacheCleaner implements ResourceCleaner {
  readonly name: string;
  readonly priority: CleanupPriority;
  readonly #cache: ClearableCache;
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
    this.#clock = options.clock === undefined ? getDefaultClock() : requireClock(options.clock, 'clock');
  }

  async cleanup(signal?: AbortSignal): Promise<CleanupResult> {
    const startedAt = this.#clock.now();
    const finish = (bytesFreed: number, error?: string): CleanupResult => {
      const result: CleanupResult = { cleanerName: this.name, bytesFreed, success: error === undefined, durationMs: Math.max(0, this.#clock.now() - startedAt) };
      if (error !== undefined) result.error = error;
      return result;
    };
    try {
      const before = await this.#measure('before clearing');
      if (signal?.aborted === true) return finish(0, `aborted before clearing: ${reasonOf(signal.reason)}`);
      try {
        await this.#cache.clearAllCaches();
      } catch (error) {
        throw new StepFailure(`clearAllCaches failed: ${reasonOf(error)}`);
      }
      const after = await this.#measure('after clearing');
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
