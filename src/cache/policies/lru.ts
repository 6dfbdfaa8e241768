/**
 * `lru`: least recently used (get or set) first.
 *
 * The cache already keeps every evictable entry in a recency list (a doubly
 * linked list in typed arrays, O(1) per move), so this policy owns no state:
 * its victim is the oldest entry of that list, and `tracksUse` is false so a
 * `get` never calls into it.
 */
import type { EvictionPolicy, PolicyContext, PolicyFactory } from './policy.js';

class LruPolicy implements EvictionPolicy {
  readonly tracksUse = false;
  readonly #context: PolicyContext;

  constructor(context: PolicyContext) {
    this.#context = context;
  }

  add(): void {}
  touch(): void {}
  remove(): void {}
  readd(): void {}
  grow(): void {}
  clear(): void {}

  victim(): number {
    return this.#context.oldest();
  }
}

export const createLruPolicy: PolicyFactory = (context) => new LruPolicy(context);
