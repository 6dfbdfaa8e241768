/**
 * The cache configurations the hit-ratio and instruction benchmarks share,
 * so that they measure the same thing: MemoryManager with numeric keys and
 * unit-size entries.
 * - `unitBudgetManager`: a byte budget of `capacity` (+ 0.5) bytes, its
 *   watermarks out of the way (`moderateThreshold` above capacity /
 *   budget), so the only evictions are the ones a full cache needs, as in
 *   lru-cache with `max: capacity`.
 * - `defaultConfigManager`: `maxCacheBytes: capacity` and nothing else, as
 *   users run it: the default watermarks (0.7 and 0.9) hold it at 70% of
 *   the budget, evicting a batch of 10 whenever a set reaches 70%.
 */
import { MemoryManager } from '../../src/cache/memory-manager.js';
import type { EvictionStrategy } from '../../src/cache/policies/registry.js';

export function unitBudgetManager(strategy: EvictionStrategy, capacity: number): MemoryManager<number, boolean> {
  return new MemoryManager<number, boolean>({
    strategy,
    maxCacheBytes: capacity + 0.5,
    moderateThreshold: 1 - 0.1 / capacity,
    criticalThreshold: 1,
  });
}

export function defaultConfigManager(strategy: EvictionStrategy, capacity: number): MemoryManager<number, boolean> {
  return new MemoryManager<number, boolean>({ strategy, maxCacheBytes: capacity });
}

/** A cache of the shape the throughput workloads drive: `get`, and `set` of a unit-size entry. */
export interface NumberCache {
  get(key: number): boolean | undefined;
  set(key: number, value: boolean): unknown;
}

const unit = { size: 1 };

/**
 * `unitBudgetManager` behind the `NumberCache` shape (each `set` sized 1);
 * with `watermarks`, the default configuration instead, with a budget of
 * `capacity` / 0.7, so that it too holds `capacity` entries.
 */
export function unitSizeCache(strategy: EvictionStrategy, capacity: number, watermarks = false): NumberCache {
  const m = watermarks ? defaultConfigManager(strategy, Math.ceil(capacity / 0.7)) : unitBudgetManager(strategy, capacity);
  return { get: (k) => m.get(k), set: (k, v) => m.set(k, v, unit) };
}
