/**
 * Deterministic randomness for the demo workload: the same seed gives the
 * same request sequence and the same payloads on every machine.
 *
 * - `mulberry32`: a 32-bit state PRNG (one multiply-xorshift round per draw),
 *   plenty for a workload generator and trivially seedable.
 * - `ZipfSampler`: ranks 0..n-1 with P(k) proportional to 1/(k+1)^s, the
 *   popularity curve of media catalogues and web caches. The CDF is
 *   precomputed once (O(n) memory, a Float64Array) and each draw is a binary
 *   search, O(log n): for the demo's catalogue sizes (<= 10^5) that is
 *   simpler and as fast as rejection-inversion.
 */

export type Random = () => number;

/** A PRNG returning floats in [0, 1), fully determined by `seed`. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ZipfSampler {
  readonly n: number;
  readonly exponent: number;
  readonly #cdf: Float64Array;

  constructor(n: number, exponent: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
    if (!Number.isFinite(exponent) || exponent < 0) throw new RangeError(`exponent must be a non-negative finite number, got ${exponent}`);
    this.n = n;
    this.exponent = exponent;
    this.#cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      sum += 1 / Math.pow(k + 1, exponent);
      this.#cdf[k] = sum;
    }
    for (let k = 0; k < n; k++) this.#cdf[k] = (this.#cdf[k] as number) / sum;
  }

  /** The probability of rank `k`. */
  probability(k: number): number {
    if (k < 0 || k >= this.n) return 0;
    return (this.#cdf[k] as number) - (k === 0 ? 0 : (this.#cdf[k - 1] as number));
  }

  /** A rank in [0, n): the first whose cumulative probability exceeds `random()`. */
  sample(random: Random): number {
    const u = random();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#cdf[mid] as number) > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
