/**
 * HeapEpisode: how hard a sample of the V8 heap sheds the cache.
 *
 * Samples of the heap (`MemoryState.source === 'heap'`) shed by level, as
 * the contract says: one batch at `moderate`, half at `critical`, everything
 * unpinned at `emergency`. But a `critical` cut shows in the heap only after
 * the next full collection: until then the samples still read the evicted
 * entries, and halving again for each would empty the cache for a single
 * episode of pressure (the demo's caches flushed and refilled about once a
 * second). So within one critical episode a sample halves again only if the
 * heap has grown since the last cut, by more than `HEAP_GROWTH_SLACK` of its
 * budget; otherwise it sheds one batch, as at `moderate`. One number of
 * state: the heap's used bytes at the last cut.
 */
import { pressureRank } from '../pressure-levels.js';

/** Within a critical episode, heap growth above this share of the signal's total counts as growth. */
export const HEAP_GROWTH_SLACK = 0.01;

const MODERATE = pressureRank('moderate');
const CRITICAL = pressureRank('critical');

export class HeapEpisode {
  /** The heap's used bytes at the last `critical` cut; NaN outside a critical episode. */
  #cutUsedBytes = NaN;

  /** The rank to shed at for a heap sample at `rank`, with the heap's used and total bytes. */
  rankFor(rank: number, usedBytes: number, totalBytes: number): number {
    if (rank < CRITICAL) {
      this.#cutUsedBytes = NaN;
      return rank;
    }
    if (rank > CRITICAL) return rank;
    const cut = this.#cutUsedBytes;
    if (Number.isFinite(cut) && Number.isFinite(usedBytes) && usedBytes <= cut + HEAP_GROWTH_SLACK * totalBytes) return MODERATE;
    this.#cutUsedBytes = usedBytes;
    return CRITICAL;
  }

  /** A sample of another source: the episode, if any, is over. */
  end(): void {
    this.#cutUsedBytes = NaN;
  }
}
