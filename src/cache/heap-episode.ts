/**
 * HeapEpisode: how hard a sample of the V8 heap sheds the cache, and the
 * ceiling a cut leaves behind.
 *
 * Samples of the heap (`MemoryState.source === 'heap'`) shed by level, as
 * the contract says: one batch at `moderate`, half at `critical`, everything
 * unpinned at `emergency`. Two rules keep that from sawing:
 *
 * - Within one critical episode a sample halves again only if the heap grew
 *   since the last cut by more than the cache stored since (plus
 *   `HEAP_GROWTH_SLACK` of the heap's budget); otherwise it sheds one batch,
 *   as at `moderate`. A cut shows in the heap only after the next full
 *   collection: until then every sample still counts the evicted entries,
 *   and every entry stored since adds to them. Halving on any growth (the
 *   rule before) emptied the cache in three samples at 10 MB/s of misses:
 *   168, 90, 27, then 12 MB (bench/survival, 384 MiB, on-heap payloads).
 * - A cut leaves a ceiling the cache may refill to but not past: 0.9 of the
 *   unpinned bytes it held before the cut (a quarter before an emergency),
 *   plus its pinned bytes. Without it the cache refilled to the line it was
 *   cut at and was halved again: at 100 MB/s it sawed between about 100 and
 *   200 MB every second until V8 gave up ("Reached heap limit" with 196 MiB
 *   of objects in 259 MiB of pages: 64 KiB arrays leave pages part empty).
 *   The ceiling rises only on samples at `normal` (from any signal: at
 *   `normal` every signal is), while the cache is at it, by a tenth of
 *   itself a second, at least a twentieth of the most the cache held at a
 *   cut (so it recovers from an emergency's quarter), and is lifted once
 *   it reaches twice that most. So the cache settles just under the size
 *   at which the heap reached `critical`, and probes upward only while
 *   nothing else is under pressure.
 *
 * State: the heap's used bytes and the cache's running total of stored
 * bytes at the last cut, the ceiling, and its scale. Each call is O(1).
 */
import { pressureRank } from '../pressure-levels.js';

/** Within a critical episode, heap growth above this share of the signal's total, beyond what the cache stored, counts as growth. */
export const HEAP_GROWTH_SLACK = 0.01;
/** A cut's ceiling: this share of the unpinned bytes the cache held before a `critical` cut. */
export const HEAP_CEILING_KEEP = 0.9;
/** ... and this share before an `emergency` (which drops every unpinned entry). */
export const HEAP_CEILING_KEEP_AFTER_EMERGENCY = 0.25;
/** At `normal`, while the cache is at its ceiling, the ceiling rises by this share of itself per second. */
export const HEAP_CEILING_RAISE_PER_SECOND = 0.1;
/** The cache is at its ceiling when it holds at least this share of it. */
const BINDING_SHARE = 0.98;
/** The longest gap between samples that one raise accounts for. */
const MAX_RAISE_GAP_MS = 5000;

const NORMAL = pressureRank('normal');
const MODERATE = pressureRank('moderate');
const CRITICAL = pressureRank('critical');

export class HeapEpisode {
  /** The heap's used bytes at the last `critical` cut; NaN outside a critical episode. */
  #cutUsedBytes = NaN;
  /** The cache's running total of stored bytes at that cut. */
  #cutAddedBytes = 0;
  #limitBytes = Infinity;
  /** The most unpinned bytes the cache held at a cut: the scale of the smallest raise and of the lift. */
  #scaleBytes = 0;
  #lastAt = NaN;

  /** The ceiling on the cache's total bytes (pinned included); Infinity when none. */
  get limitBytes(): number {
    return this.#limitBytes;
  }

  /**
   * A sample at `rank`, taken at `at` ms: of the heap (`usedBytes` of
   * `totalBytes`), or, at `normal` only, of any signal. The cache holds
   * `cacheBytes`, `pinnedBytes` of them pinned, and has stored
   * `addedBytes` in all (a running total). Returns the rank to shed at.
   */
  observe(rank: number, usedBytes: number, totalBytes: number, at: number, cacheBytes: number, pinnedBytes: number, addedBytes: number): number {
    const gapMs = Number.isFinite(this.#lastAt) && Number.isFinite(at) ? Math.min(MAX_RAISE_GAP_MS, Math.max(0, at - this.#lastAt)) : 0;
    if (Number.isFinite(at)) this.#lastAt = at;
    if (rank < CRITICAL) {
      this.#cutUsedBytes = NaN;
      if (rank === NORMAL) this.#raise(gapMs, cacheBytes);
      return rank;
    }
    const unpinned = Math.max(0, cacheBytes - pinnedBytes);
    if (rank > CRITICAL) {
      this.#lower(pinnedBytes + Math.floor(unpinned * HEAP_CEILING_KEEP_AFTER_EMERGENCY), unpinned);
      return rank;
    }
    const cut = this.#cutUsedBytes;
    if (Number.isFinite(cut) && Number.isFinite(usedBytes)) {
      const unexplained = usedBytes - cut - (addedBytes - this.#cutAddedBytes);
      if (unexplained <= HEAP_GROWTH_SLACK * totalBytes) return MODERATE;
    }
    this.#cutUsedBytes = usedBytes;
    this.#cutAddedBytes = addedBytes;
    this.#lower(pinnedBytes + Math.floor(unpinned * HEAP_CEILING_KEEP), unpinned);
    return CRITICAL;
  }

  /** A sample of another source above `normal`: the critical episode, if any, is over (the ceiling stays). */
  end(): void {
    this.#cutUsedBytes = NaN;
  }

  #lower(limitBytes: number, unpinnedBytes: number): void {
    if (limitBytes < this.#limitBytes) this.#limitBytes = limitBytes;
    if (unpinnedBytes > this.#scaleBytes) this.#scaleBytes = unpinnedBytes;
  }

  #raise(gapMs: number, cacheBytes: number): void {
    const limit = this.#limitBytes;
    if (limit === Infinity || cacheBytes < BINDING_SHARE * limit) return;
    const raised = limit + Math.max(limit, this.#scaleBytes / 2) * HEAP_CEILING_RAISE_PER_SECOND * (gapMs / 1000);
    this.#limitBytes = raised >= 2 * this.#scaleBytes ? Infinity : raised;
  }
}
