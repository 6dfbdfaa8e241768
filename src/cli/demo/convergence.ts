/**
 * Whether the caches settled: after the warm-up, each component's cached
 * bytes once a second, their mean and coefficient of variation (standard
 * deviation over mean; a cache that flushes and refills shows a high one),
 * and the hit ratio over the same stretch. Read by the report and by
 * bench/demo-sweep.bench.ts from the same samples.
 */
import type { ComponentName } from './service.js';
import type { DemoSample } from './timeline.js';

/** The share of the run counted as warm-up: the first third, as in the survival matrix. */
export const WARMUP_SHARE = 1 / 3;

export interface ComponentConvergence {
  readonly name: ComponentName;
  /** Mean cached bytes over the samples after the warm-up. */
  readonly meanBytes: number;
  /** Standard deviation over mean of those samples; NaN with fewer than two samples or a mean of 0. */
  readonly cv: number;
}

export interface Convergence {
  /** Seconds from the start counted as warm-up. */
  readonly warmupS: number;
  /** How many once-a-second samples the figures below are over. */
  readonly samples: number;
  readonly components: readonly ComponentConvergence[];
  /** Hits over lookups between the end of the warm-up and the end of the run; NaN without lookups. */
  readonly hitRatio: number;
}

/**
 * The samples once a second from the end of the warm-up: for each whole
 * second, the last sample taken at or before it.
 */
export function secondlySamples(samples: readonly DemoSample[], warmupS: number): DemoSample[] {
  const out: DemoSample[] = [];
  const end = samples.at(-1)?.t ?? 0;
  let i = 0;
  for (let second = Math.ceil(warmupS); second <= end; second++) {
    while (i + 1 < samples.length && (samples[i + 1] as DemoSample).t <= second) i++;
    const sample = samples[i];
    if (sample !== undefined && sample.t <= second && sample.t >= warmupS) out.push(sample);
  }
  return out;
}

function coefficientOfVariation(values: readonly number[]): number {
  if (values.length < 2) return NaN;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (mean === 0) return NaN;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return Math.sqrt(variance) / mean;
}

export function measureConvergence(samples: readonly DemoSample[], durationS: number, warmupS = durationS * WARMUP_SHARE): Convergence {
  const seen = secondlySamples(samples, warmupS);
  const names = Object.keys(samples[0]?.cacheBytes ?? {}) as ComponentName[];
  const components = names.map((name) => {
    const bytes = seen.map((s) => s.cacheBytes[name]);
    const meanBytes = bytes.length === 0 ? NaN : bytes.reduce((a, b) => a + b, 0) / bytes.length;
    return { name, meanBytes, cv: coefficientOfVariation(bytes) };
  });
  // The hit ratio from the first sample at or after the warm-up to the last sample of the run.
  const from = samples.find((s) => s.t >= warmupS);
  const to = samples.at(-1);
  const lookups = from === undefined || to === undefined ? 0 : to.requests - from.requests;
  const hitRatio = lookups > 0 && from !== undefined && to !== undefined ? (to.hits - from.hits) / lookups : NaN;
  return { warmupS, samples: seen.length, components, hitRatio };
}
