/**
 * The cache configuration the hit-ratio and instruction benchmarks share,
 * so that they measure the same thing: MemoryManager with numeric keys,
 * unit-size entries and a byte budget of `capacity` (+ 0.5) bytes, its
 * watermarks out of the way (`moderateThreshold` above capacity / budget),
 * so the only evictions are the ones a full cache needs, as in lru-cache
 * with `max: capacity`.
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

/** A cache of the shape the throughput workloads drive: `get`, and `set` of a unit-size entry. */
export interface NumberCache {
  get(key: number): boolean | undefined;
  set(key: number, value: boolean): unknown;
}

const unit = { size: 1 };

/** `unitBudgetManager` behind the `NumberCache` shape (each `set` sized 1). */
export function unitSizeCache(strategy: EvictionStrategy, capacity: number): NumberCache {
  const m = unitBudgetManager(strategy, capacity);
  return { get: (k) => m.get(k), set: (k, v) => m.set(k, v, unit) };
}
