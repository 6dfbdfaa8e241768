/**
 * PressureCeiling: how many bytes a cache may hold while a memory monitor
 * reports pressure, learnt from the monitor's samples.
 *
 * Shedding on every sample above `normal` does not converge. What a cache
 * drops is not returned at once: the V8 heap keeps it until the next full
 * collection, and freed `Buffer` memory stays resident in the allocator,
 * which reuses it rather than giving it back. So the sampled memory often
 * does not fall after a shed, the level stays high, and a cache that sheds
 * on each sample empties itself, then refills and is flushed again.
 *
 * This controller acts on what the sample can tell: whether memory is still
 * growing.
 * - Entering pressure (or a higher level) cuts the cache once, by the
 *   level's share: to 0.9 of its unpinned bytes at `moderate`, to half at
 *   `critical` (the contract's "half of the unpinned bytes"), to a quarter
 *   at `emergency`. The cut becomes a ceiling: the cache evicts to stay under
 *   it, so it cannot grow between two samples.
 * - While the level stays above `normal`, a sample whose used bytes exceed
 *   those at the last cut (by more than 1% of the signal's total) cuts the
 *   ceiling by that growth: whatever grew is taken back from the cache. A
 *   sample that shows no growth changes nothing, however high its level:
 *   memory that is flat is memory the cache has stopped adding to, so at
 *   `moderate` the ceiling even rises, by 2% a second, to find out whether
 *   the cache may hold more (memory that never falls back under
 *   `moderate`'s hysteresis would otherwise keep its first cut for good).
 *   Growth at `emergency` drops every unpinned entry.
 * - `emergency` cuts to a quarter even when the growth is no more than the
 *   cache's own uncollected garbage: no cut frees that garbage before the
 *   collector runs, but the cache's size after the collection sets where V8
 *   collects next (its external-memory limit is what the last collection
 *   left plus 64 MiB). Cut to half instead, the survival cells at 192 MiB
 *   and 60-100 MB/s of Buffer misses were OOM-killed in 3 of 20 runs
 *   (a matrix run stopped after its first cells).
 * - Back at `normal`, the ceiling rises by 10% of itself per second of
 *   samples (at least 10% of half the most the cache held at a cut,
 *   so it recovers from an emergency's cut), probing for room, until it
 *   no longer binds (twice that size and four times the cache's bytes),
 *   when it is lifted.
 *
 * The result is a multiplicative decrease and a slow increase of the
 * cache's size, the scheme TCP uses to find a link's capacity: it aims to
 * settle just under the size at which pressure begins instead of swinging
 * between full and empty (the survival matrix in bench/RESULTS.md reports
 * the variation it reaches). Each call is O(1).
 *
 * MemoryManager uses it for every sample but the V8 heap's: the heap does
 * fall back after a full collection, and there shedding by level keeps more.
 */

export const CEILING_KEEP_BY_RANK: readonly number[] = Object.freeze([1, 0.9, 0.5, 0.25]);
/** Growth below this share of the signal's total is noise, not growth. */
export const CEILING_GROWTH_SLACK = 0.01;
/** At `normal`, the ceiling rises by this share of itself per second. */
export const CEILING_RAISE_PER_SECOND = 0.1;
/** At `moderate`, while memory stays flat, the ceiling rises by this share of itself per second. */
export const CEILING_RAISE_PER_SECOND_AT_MODERATE = 0.02;
/** The longest gap between samples that one raise accounts for. */
const MAX_RAISE_GAP_MS = 5000;

/** The ms between two samples (at `lastAt`, then `at`) that a raise accounts for: 0 without both, at most 5 s. */
export function raiseGapMs(lastAt: number, at: number): number {
  return Number.isFinite(lastAt) && Number.isFinite(at) ? Math.min(MAX_RAISE_GAP_MS, Math.max(0, at - lastAt)) : 0;
}

/**
 * A ceiling of `limitBytes` raised by `perSecond` of itself per second over
 * `gapMs`; from a ceiling near zero (after an emergency), at a pace set by
 * `scaleBytes`, the size the cache had (half of it, at least one byte).
 */
export function raisedLimit(limitBytes: number, scaleBytes: number, perSecond: number, gapMs: number): number {
  return limitBytes + Math.max(limitBytes, scaleBytes / 2, 1) * perSecond * (gapMs / 1000);
}

/** What the cache must do after a sample. */
export interface CeilingDecision {
  /** The ceiling on the cache's total bytes (pinned included); Infinity when none. */
  readonly limitBytes: number;
  /** Drop every unpinned entry (an emergency cut). */
  readonly dropAll: boolean;
}

export class PressureCeiling {
  #limitBytes = Infinity;
  /** The sampled used bytes at the last cut; NaN outside a pressure episode. */
  #referenceUsedBytes = NaN;
  #referenceRank = 0;
  #lastAt = NaN;
  /** The most unpinned bytes the cache held at a cut: the scale of the smallest raise. */
  #scaleBytes = 0;

  get limitBytes(): number {
    return this.#limitBytes;
  }

  /**
   * A sample at `rank` (0 normal .. 3 emergency) of a signal using
   * `usedBytes` of `totalBytes`, taken at `at` ms; the cache holds
   * `cacheBytes`, of which `pinnedBytes` pinned.
   */
  observe(rank: number, usedBytes: number, totalBytes: number, at: number, cacheBytes: number, pinnedBytes: number): CeilingDecision {
    const gapMs = raiseGapMs(this.#lastAt, at);
    this.#lastAt = at;
    if (rank === 0) {
      this.#referenceUsedBytes = NaN;
      this.#referenceRank = 0;
      if (this.#limitBytes !== Infinity) {
        this.#raise(gapMs, CEILING_RAISE_PER_SECOND);
        if (this.#limitBytes >= 2 * this.#scaleBytes && this.#limitBytes >= 4 * cacheBytes) this.#limitBytes = Infinity;
      }
      return { limitBytes: this.#limitBytes, dropAll: false };
    }
    const unpinned = Math.max(0, cacheBytes - pinnedBytes);
    if (unpinned > this.#scaleBytes) this.#scaleBytes = unpinned;
    const entering = Number.isNaN(this.#referenceUsedBytes) || rank > this.#referenceRank;
    if (entering) {
      this.#cut(pinnedBytes + Math.floor(unpinned * (CEILING_KEEP_BY_RANK[rank] ?? 0)), usedBytes, rank);
      return { limitBytes: this.#limitBytes, dropAll: false };
    }
    this.#referenceRank = rank;
    const growth = usedBytes - this.#referenceUsedBytes;
    if (growth <= CEILING_GROWTH_SLACK * totalBytes) {
      // Flat at `moderate`: memory holds where pressure began, so probe for room, more slowly than at `normal`.
      if (rank === 1 && this.#limitBytes !== Infinity) this.#raise(gapMs, CEILING_RAISE_PER_SECOND_AT_MODERATE);
      return { limitBytes: this.#limitBytes, dropAll: false };
    }
    if (rank === 3) {
      this.#cut(pinnedBytes, usedBytes, rank);
      return { limitBytes: this.#limitBytes, dropAll: true };
    }
    this.#cut(Math.max(pinnedBytes, Math.min(cacheBytes, this.#limitBytes) - growth), usedBytes, rank);
    return { limitBytes: this.#limitBytes, dropAll: false };
  }

  /** Forgets what was learnt (a `clear()`). */
  reset(): void {
    this.#limitBytes = Infinity;
    this.#referenceUsedBytes = NaN;
    this.#referenceRank = 0;
    this.#lastAt = NaN;
    this.#scaleBytes = 0;
  }

  #raise(gapMs: number, perSecond: number): void {
    this.#limitBytes = raisedLimit(this.#limitBytes, this.#scaleBytes, perSecond, gapMs);
  }

  #cut(limitBytes: number, usedBytes: number, rank: number): void {
    this.#limitBytes = Math.min(this.#limitBytes, limitBytes);
    this.#referenceUsedBytes = usedBytes;
    this.#referenceRank = rank;
  }
}
