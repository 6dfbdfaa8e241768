/**
 * HeapEpisode: how hard a sample of the V8 heap sheds the cache, and the
 * ceiling its cuts leave behind.
 *
 * Samples of the heap (`MemoryState.source === 'heap'`) shed by level, as
 * the contract says: one batch at `moderate`, half at `critical`, everything
 * unpinned at `emergency`. But what a cache drops stays in the heap until
 * V8's next full collection, and so does every entry it stores meanwhile:
 * a sample after a cut still reads the evicted entries, and a cache that
 * replaces entries at a steady size reads as growth. Rules that keep this
 * from sawing:
 *
 * - Growth is measured from a reference: the heap's used bytes and the
 *   cache's running total of stored bytes when pressure began, at the last
 *   cut, or at the last sample that fell (a collection ran). Growth no more
 *   than what the cache stored since (plus `HEAP_GROWTH_SLACK` of the
 *   heap's budget) is the cache's own garbage, which no cut frees before
 *   the collector runs, and which the collector will free: at `critical` it
 *   sheds one batch instead of half, at `emergency` half instead of all.
 *   Halving on any growth (the rule before) emptied the cache in three
 *   samples at 10 MB/s of misses: 168, 90, 27, then 12 MB (bench/survival,
 *   384 MiB, on-heap payloads).
 * - Entering `moderate` holds the cache where it is: its size becomes a
 *   ceiling, so it cannot grow between two samples. Under CPU starvation
 *   the samples came 700-800 ms apart, the workload caught up in bursts,
 *   and the cache grew from 158 MB at `moderate` past V8's limit before the
 *   next sample (same bench, 100 MB/s). Only a cache holding at least
 *   `HEAP_HOLD_MIN_SHARE` of the heap's budget is held: in a process with
 *   several caches, a small one still growing when the heap reached
 *   `moderate` was frozen there (the demo's video metadata: 2.6 MB instead
 *   of 3.8 MB, its hit ratio 86% instead of 94%). The hold lasts until
 *   the heap is back at `normal`.
 * - A cut leaves a ceiling the cache may refill to but not past: 0.9 of the
 *   unpinned bytes it held before a `critical` cut (a quarter before an
 *   `emergency`), plus its pinned bytes. Without it the cache refilled to
 *   the line it was cut at and was halved again: at 100 MB/s it sawed
 *   between about 100 and 200 MB every second until V8 gave up ("Reached
 *   heap limit" with 196 MiB of objects in 259 MiB of pages: 64 KiB arrays
 *   leave pages part empty).
 * - The ceiling rises only on samples at `normal` (from any signal: at
 *   `normal` every signal is), while the cache is at it, by a tenth of
 *   itself a second, at least a twentieth of the most the cache held at a
 *   cut (so it recovers from an emergency's quarter), and is lifted once
 *   it reaches twice that most.
 *
 * So the cache settles just under the size at which the heap came under
 * pressure, and probes upward only while nothing is. State: the reference,
 * the last sample's used bytes and rank, the ceiling and its scale. Each
 * call is O(1).
 */
import { pressureRank } from '../pressure-levels.js';
import { raiseGapMs, raisedLimit } from './pressure-ceiling.js';

/** Heap growth beyond what the cache stored, or a fall (a collection), counts only above this share of the signal's total. */
export const HEAP_GROWTH_SLACK = 0.01;
/** Entering `moderate` holds a cache of at least this share of the heap's budget (see the design note). */
export const HEAP_HOLD_MIN_SHARE = 0.05;
/** A cut's ceiling: this share of the unpinned bytes the cache held before a `critical` cut. */
export const HEAP_CEILING_KEEP = 0.9;
/** ... and this share before an `emergency` (which drops every unpinned entry). */
export const HEAP_CEILING_KEEP_AFTER_EMERGENCY = 0.25;
/** At `normal`, while the cache is at its ceiling, the ceiling rises by this share of itself per second. */
export const HEAP_CEILING_RAISE_PER_SECOND = 0.1;
/** The cache is at its ceiling when it holds at least this share of it. */
const BINDING_SHARE = 0.98;

const NORMAL = pressureRank('normal');
const MODERATE = pressureRank('moderate');
const CRITICAL = pressureRank('critical');

export class HeapEpisode {
  /**
   * The heap's used bytes and the cache's running total of stored bytes at
   * the reference point: entering pressure, the last cut, or the last
   * sample that showed a collection. NaN at `normal`.
   */
  #refUsedBytes = NaN;
  #refAddedBytes = 0;
  #lastUsedBytes = NaN;
  #limitBytes = Infinity;
  /** The most unpinned bytes the cache held at a cut: the scale of the smallest raise and of the lift. */
  #scaleBytes = 0;
  #lastAt = NaN;
  /** The rank of the last sample observed. */
  #lastRank = NORMAL;

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
    const gapMs = raiseGapMs(this.#lastAt, at);
    if (Number.isFinite(at)) this.#lastAt = at;
    const unpinned = Math.max(0, cacheBytes - pinnedBytes);
    const fromNormal = this.#lastRank === NORMAL;
    const slack = HEAP_GROWTH_SLACK * totalBytes;
    // A fall is a collection: the garbage before it is gone, so growth is measured from here on.
    const collected = usedBytes < this.#lastUsedBytes - slack;
    this.#lastRank = rank;
    this.#lastUsedBytes = usedBytes;
    if (rank === NORMAL) {
      this.#refUsedBytes = NaN;
      this.#raise(gapMs, cacheBytes);
      return NORMAL;
    }
    if (!Number.isFinite(usedBytes)) return rank;
    // Nothing to measure growth from: entering pressure, or just after a collection.
    const fresh = fromNormal || Number.isNaN(this.#refUsedBytes) || collected;
    if (rank === MODERATE) {
      if ((fromNormal || this.#limitBytes === Infinity) && cacheBytes >= HEAP_HOLD_MIN_SHARE * totalBytes) this.#lower(cacheBytes, unpinned);
      if (fresh) this.#setReference(usedBytes, addedBytes);
      return MODERATE;
    }
    if (fresh) return this.#cut(rank, usedBytes, addedBytes, pinnedBytes, unpinned);
    // Growth no more than the cache stored since the reference is the cache's own garbage, which a
    // cut cannot free before the collector runs: `critical` then sheds a batch, `emergency` halves.
    const ownGarbage = usedBytes - this.#refUsedBytes - (addedBytes - this.#refAddedBytes) <= slack;
    if (!ownGarbage) return this.#cut(rank, usedBytes, addedBytes, pinnedBytes, unpinned);
    return rank === CRITICAL ? MODERATE : this.#cut(CRITICAL, usedBytes, addedBytes, pinnedBytes, unpinned);
  }

  /** A sample of another source above `normal`: the heap's reference, if any, is over (the ceiling stays). */
  end(): void {
    this.#refUsedBytes = NaN;
  }

  /** A cut at `rank` (critical or emergency): the new reference, and the ceiling it leaves. */
  #cut(rank: number, usedBytes: number, addedBytes: number, pinnedBytes: number, unpinned: number): number {
    this.#setReference(usedBytes, addedBytes);
    const keep = rank === CRITICAL ? HEAP_CEILING_KEEP : HEAP_CEILING_KEEP_AFTER_EMERGENCY;
    this.#lower(pinnedBytes + Math.floor(unpinned * keep), unpinned);
    return rank;
  }

  #setReference(usedBytes: number, addedBytes: number): void {
    this.#refUsedBytes = usedBytes;
    this.#refAddedBytes = addedBytes;
  }

  #lower(limitBytes: number, unpinnedBytes: number): void {
    if (limitBytes < this.#limitBytes) this.#limitBytes = limitBytes;
    if (unpinnedBytes > this.#scaleBytes) this.#scaleBytes = unpinnedBytes;
  }

  #raise(gapMs: number, cacheBytes: number): void {
    const limit = this.#limitBytes;
    if (limit === Infinity || cacheBytes < BINDING_SHARE * limit) return;
    const raised = raisedLimit(limit, this.#scaleBytes, HEAP_CEILING_RAISE_PER_SECOND, gapMs);
    this.#limitBytes = raised >= 2 * this.#scaleBytes ? Infinity : raised;
  }
}
