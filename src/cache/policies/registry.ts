/**
 * Every eviction strategy the cache knows, by the name users pass as
 * `strategy`. Adding a strategy is one file with a `PolicyFactory` and one
 * line here: the `EvictionStrategy` type, config validation and the
 * per-strategy test suites all follow this object.
 */
import { createLfuPolicy } from './lfu.js';
import { createLruPolicy } from './lru.js';
import type { PolicyFactory } from './policy.js';
import { createSizePolicy } from './size.js';
import { createTinyLfuPolicy } from './tinylfu/w-tinylfu-policy.js';

const POLICY_FACTORIES = {
  lru: createLruPolicy,
  lfu: createLfuPolicy,
  size: createSizePolicy,
  tinylfu: createTinyLfuPolicy,
} satisfies Record<string, PolicyFactory>;

/**
 * How the cache picks what to evict:
 * - `lru`: least recently used (get or set) first.
 * - `lfu`: fewest uses first, ties least recently used first.
 * - `size`: largest first, ties least recently used first.
 * - `tinylfu`: W-TinyLFU: a new entry has to be more popular (by a frequency
 *   sketch of recent requests) than the entry it would displace; scans and
 *   one-time keys cannot flush the working set.
 */
export type EvictionStrategy = keyof typeof POLICY_FACTORIES;

/** Every strategy name, in registration order. */
export const EVICTION_STRATEGIES: readonly EvictionStrategy[] = Object.freeze(Object.keys(POLICY_FACTORIES) as EvictionStrategy[]);

export function isEvictionStrategy(value: unknown): value is EvictionStrategy {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(POLICY_FACTORIES, value);
}

export function policyFactoryFor(strategy: EvictionStrategy): PolicyFactory {
  return POLICY_FACTORIES[strategy];
}
