import type { CleanupPriority } from './priority.js';
import type { CleanupResult } from './cleanup-result.js';

/**
 * Something that can give memory back on request: a cache, a pool, a buffer.
 *
 * `cleanup` receives an `AbortSignal` that the coordinator aborts when the
 * cleaner outlives `cleanerTimeoutMs`; a long cleaner should check it and stop
 * early. It may return its result directly or as a promise. Throwing or
 * rejecting is allowed and is reported as a failed result; it never stops the
 * other cleaners.
 */
export interface ResourceCleaner {
  /** Names the cleaner in results and errors; must be a non-empty string. */
  readonly name: string;
  /** `low` is cleaned first and under the least pressure; `high` last. */
  readonly priority: CleanupPriority;
  cleanup(signal: AbortSignal): Promise<CleanupResult> | CleanupResult;
}
