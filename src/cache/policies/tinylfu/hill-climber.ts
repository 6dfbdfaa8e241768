/**
 * The window's share of the budget for `tinylfu`, adapted by hill climbing
 * (Caffeine's adaptive window; see docs/design/tinylfu.md).
 *
 * After each sample of requests (10 per expected entry, see
 * `sampleRequests`), the policy passes the sample's hit rate to `climb`,
 * which keeps moving the share in the direction that raised the hit ratio
 * and reverses when it fell, with steps that shrink by 2% per sample while
 * the workload is stable and restart at full size when the hit ratio jumps
 * by 5 points. The share stays between 0 and 80% of the budget. A
 * recency-biased workload grows the window (LRU-like); a frequency-biased
 * one shrinks it. A sample with under 1% hits (a scan) moves nothing.
 *
 * Cold code: it runs once per sample, not per request. The policy counts
 * the sample's requests and hits itself (two fields its hot paths already
 * touch) and resizes its regions when `climb` took a step.
 */

/** Initial share of the budget for the window; the climber moves it within the bounds below. */
export const WINDOW_FRACTION = 0.01;
export const MIN_WINDOW_FRACTION = 0;
export const MAX_WINDOW_FRACTION = 0.8;
/** A climb step, as a share of the budget; steps decay by 2% per sample unless the hit ratio jumps by 5 points. */
export const STEP_FRACTION = 0.0625;
const STEP_DECAY = 0.98;
const RESTART_THRESHOLD = 0.05;
/** Requests per climbing sample, per expected entry (as the sketch's aging period). */
const SAMPLE_REQUESTS_PER_ENTRY = 10;
/** The smallest number of entries a climbing sample is sized for. */
const MIN_EXPECTED_ENTRIES = 16;
/** The climber holds still on a sample with a hit ratio below this. */
export const STILL_HIT_RATE = 0.01;

/** Requests in one climbing sample of a cache expected to hold `expectedEntries` entries. */
export const sampleRequests = (expectedEntries: number): number =>
  Math.max(MIN_EXPECTED_ENTRIES, expectedEntries) * SAMPLE_REQUESTS_PER_ENTRY;

export class HillClimber {
  #fraction = WINDOW_FRACTION;
  /** The next step (signed: its sign is the direction of the last move). */
  #step = -STEP_FRACTION;
  #previousHitRate = 0;

  /** The window's share of the budget, between MIN_WINDOW_FRACTION and MAX_WINDOW_FRACTION. */
  get fraction(): number {
    return this.#fraction;
  }

  /**
   * Takes one sample's hit rate (0 to 1): moves the window's share by one
   * step, and returns whether it took the step (true even when a bound
   * held the share where it was: the policy then re-applies its shares),
   * false when the sample was too poor in hits to say anything.
   */
  climb(hitRate: number): boolean {
    const change = hitRate - this.#previousHitRate;
    if (hitRate < STILL_HIT_RATE) {
      // A sample with (almost) no hits, a scan say, says nothing about the
      // window's share: moving on it walked the window off and back for
      // samples after the scan (a point of hit ratio on the scan trace).
      this.#previousHitRate = hitRate;
      return false;
    }
    const amount = change >= 0 ? this.#step : -this.#step;
    this.#step = Math.abs(change) >= RESTART_THRESHOLD ? STEP_FRACTION * (amount >= 0 ? 1 : -1) : STEP_DECAY * amount;
    this.#previousHitRate = hitRate;
    this.#fraction = Math.min(MAX_WINDOW_FRACTION, Math.max(MIN_WINDOW_FRACTION, this.#fraction + amount));
    return true;
  }

  /** Back to the initial share, with the first step shrinking the window. */
  reset(): void {
    this.#fraction = WINDOW_FRACTION;
    this.#step = -STEP_FRACTION;
    this.#previousHitRate = 0;
  }
}
