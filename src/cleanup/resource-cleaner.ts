import type { MemoryPressureLevel } from '../pressure-levels.js';
import type { CleanupPriority } from './priority.js';
import type { CleanupResult } from './cleanup-result.js';

/**
 * What a cleaner is told about the run it is part of.
 *
 * `level` is the pressure level that triggered the run: the level auto
 * cleanup reacted to, the level passed to `cleanupAll`/`cleanupUpTo`, or
 * `'emergency'` for a run requested by hand without one. A cleaner that can
 * give back part of what it holds sizes its answer to it (`moderate` a
 * little, `emergency` everything it can).
 */
export interface CleanupContext {
  readonly level: MemoryPressureLevel;
}

/**
 * Something that can give memory back on request: a cache, a pool, a buffer.
 *
 * `cleanup` receives an `AbortSignal` that the coordinator aborts when the
 * cleaner outlives `cleanerTimeoutMs`; a long cleaner should check it and stop
 * early. The second argument says which pressure level the run answers; a
 * cleaner written for one argument ignores it and keeps working. It may
 * return its result directly or as a promise. Throwing or rejecting is
 * allowed and is reported as a failed result; it never stops the other
 * cleaners.
 */
export interface ResourceCleaner {
  /** Names the cleaner in results and errors; must be a non-empty string. */
  readonly name: string;
  /** `low` is cleaned first and under the least pressure; `high` last. */
  readonly priority: CleanupPriority;
  cleanup(signal: AbortSignal, context: CleanupContext): Promise<CleanupResult> | CleanupResult;
}
