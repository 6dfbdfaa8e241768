/**
 * SampleFollower: what a memory monitor's samples ask of a cache.
 *
 * A sample of the V8 heap (`MemoryState.source === 'heap'`) sheds by level
 * through `HeapEpisode`, whose cuts leave a ceiling; a sample of any other
 * signal sets `PressureCeiling`'s ceiling, and drops every unpinned entry
 * when it says so; a sample at `normal` goes to both (each ceiling rises
 * only then). The cache evicts down to the lower ceiling, and until the
 * next sample grows by at most `SAMPLE_GROWTH_SHARE` of the signal's
 * budget. Two small learners behind one call, so that `MemoryManager`
 * applies a decision without knowing how it was reached. O(1) per sample.
 */
import { pressureRank } from '../pressure-levels.js';
import type { MemoryState } from '../pressure/memory-state.js';
import { HeapEpisode } from './heap-episode.js';
import { PressureCeiling } from './pressure-ceiling.js';

/** `MemoryState.source` of the V8 heap signal (nexus-store/node). */
const HEAP_SOURCE = 'heap';
const NORMAL = pressureRank('normal');
const EMERGENCY = pressureRank('emergency');

/**
 * Between two samples a cache grows by at most this share of the signal's budget. A starved event loop
 * samples late while a backlog of requests arrives at once: seen, 1.2 s without a sample, from 103 MB at
 * `normal` to the OOM killer (bench/survival, 192 MiB, 100 MB/s of Buffer misses, 4 cells at once).
 */
export const SAMPLE_GROWTH_SHARE = 0.1;

export class SampleFollower {
  readonly #episode = new HeapEpisode();
  #ceiling: PressureCeiling | undefined;

  /** The lower of the two learnt ceilings; Infinity when neither binds. */
  get limitBytes(): number {
    return Math.min(this.#ceiling?.limitBytes ?? Infinity, this.#episode.limitBytes);
  }

  /**
   * A sample at `rank` (0 normal .. 3 emergency); the cache holds `cacheBytes`, `pinnedBytes` of them
   * pinned, and has stored `addedBytes` in all (a running total). Returns the rank to shed at (0: none).
   */
  observe(rank: number, state: MemoryState, cacheBytes: number, pinnedBytes: number, addedBytes: number): number {
    const used = Number(state.usedBytes);
    const total = used + Number(state.availableBytes);
    const at = Number(state.at);
    const heap = state.source === HEAP_SOURCE;
    if (heap || rank === NORMAL) {
      const shedRank = this.#episode.observe(rank, used, total, at, cacheBytes, pinnedBytes, addedBytes);
      // The heap falls back after a full collection: shedding by level keeps more there (see HeapEpisode).
      if (heap && rank !== NORMAL) return shedRank;
    } else this.#episode.end();
    const ceiling = (this.#ceiling ??= new PressureCeiling());
    const decision =
      Number.isFinite(used) && Number.isFinite(total) && Number.isFinite(at)
        ? ceiling.observe(rank, used, total, at, cacheBytes, pinnedBytes)
        : ceiling.observe(rank, 0, 0, 0, cacheBytes, pinnedBytes);
    return decision.dropAll ? EMERGENCY : NORMAL;
  }
}

/** The most a cache may grow until the next sample after `state` (see `SAMPLE_GROWTH_SHARE`); 0 or NaN: no bound. */
export function growthUntilNextSampleBytes(state: MemoryState): number {
  return SAMPLE_GROWTH_SHARE * (Number(state.usedBytes) + Number(state.availableBytes));
}
