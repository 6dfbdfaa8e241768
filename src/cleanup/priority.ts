/**
 * How much a resource matters to the running program, which decides the
 * order in which it is given up under memory pressure:
 *
 * - `low`: optional caches that are cheap to rebuild (thumbnails, memoized
 *   results). Cleaned first, already at `moderate` pressure.
 * - `medium`: important but rebuildable state (prefetched data, decoded
 *   media metadata). Cleaned up to `moderate` pressure by the default policy.
 * - `high`: resources the program is actively using (playback buffers, open
 *   working sets). Cleaned last, only at `critical` and `emergency`.
 */
export type CleanupPriority = 'low' | 'medium' | 'high';

/** Every priority, from the first cleaned (`low`) to the last (`high`). */
export const CLEANUP_PRIORITIES: readonly CleanupPriority[] = Object.freeze(['low', 'medium', 'high'] as const);

const RANK: Readonly<Record<CleanupPriority, number>> = { low: 0, medium: 1, high: 2 };

export function isCleanupPriority(value: unknown): value is CleanupPriority {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(RANK, value);
}

/** The priority's position in `CLEANUP_PRIORITIES`; a `RangeError` naming `field` for anything else. */
export function cleanupPriorityRank(priority: CleanupPriority, field = 'priority'): number {
  if (!isCleanupPriority(priority)) {
    throw new RangeError(`${field} must be one of ${CLEANUP_PRIORITIES.join(', ')}, got ${JSON.stringify(priority)}`);
  }
  return RANK[priority];
}

/**
 * Negative when `a` is cleaned before `b`, zero when equal, positive when
 * after: usable directly as an `Array.prototype.sort` comparator.
 */
export function compareCleanupPriority(a: CleanupPriority, b: CleanupPriority): number {
  return cleanupPriorityRank(a, 'a') - cleanupPriorityRank(b, 'b');
}

/** The later-cleaned (wider) of two priorities. */
export function maxCleanupPriority(a: CleanupPriority, b: CleanupPriority): CleanupPriority {
  return compareCleanupPriority(a, b) >= 0 ? a : b;
}
