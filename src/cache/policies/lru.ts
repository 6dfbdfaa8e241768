/**
 * `lru`: least recently used (get or set) first.
 *
 * The cache already keeps every evictable entry in a recency list (a doubly
 * linked list in typed arrays, O(1) per move; see `../recency.ts`), and
 * reads its victims from that list itself: this policy owns no state and
 * has no `victim`, and `tracksUse` is false so a `get` never calls into it.
 */
import type { EvictionPolicy, PolicyFactory } from './policy.js';

class LruPolicy implements EvictionPolicy {
  readonly tracksUse = false;

  add(): void {}
  touch(): void {}
  remove(): void {}
  readd(): void {}
  grow(): void {}
  clear(): void {}
}

export const createLruPolicy: PolicyFactory = () => new LruPolicy();
