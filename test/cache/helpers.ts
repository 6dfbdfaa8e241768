// Shared helpers for the cache tests.
import { MemoryManager, type SetOptions } from '../../src/cache/memory-manager.js';
import type { MemoryConfig } from '../../src/cache/memory-config.js';
import type { EvictionEvent } from '../../src/cache/eviction-event.js';
import { EVICTION_STRATEGIES, type EvictionStrategy } from '../../src/cache/policies/registry.js';

/** Every registered strategy: each behaviour suite runs once per entry. */
export const STRATEGIES: readonly EvictionStrategy[] = EVICTION_STRATEGIES;

/**
 * Thresholds that keep the watermarks out of the way (shedding starts only
 * at 99% of the budget), for tests about the hard budget itself.
 */
export const NO_WATERMARKS = { moderateThreshold: 0.99, criticalThreshold: 1 } as const;

export function cacheOf<K = string, V = unknown>(strategy: EvictionStrategy, config: MemoryConfig<V> = {}): MemoryManager<K, V> {
  return new MemoryManager<K, V>({ ...config, strategy });
}

/** Collects every eviction event of `cache`. */
export function recordEvictions(cache: MemoryManager<unknown, unknown> | MemoryManager<string, unknown>): EvictionEvent[] {
  const events: EvictionEvent[] = [];
  (cache as MemoryManager<unknown, unknown>).evictions.subscribe((event) => events.push(event));
  return events;
}

/** Sets `keys` in order, each with `size` bytes. */
export function fill<K>(cache: MemoryManager<K, unknown>, keys: readonly K[], size: number, options: SetOptions = {}): void {
  for (const key of keys) cache.set(key, { key }, { ...options, size });
}

export function range(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}
