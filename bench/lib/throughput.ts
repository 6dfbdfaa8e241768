/**
 * The throughput workloads and competitors that the hit-ratio benchmark
 * times and the instruction benchmark counts, defined once so that both
 * measure the same operations on the same cache states: numeric keys,
 * unit-size entries, 100,000-entry caches.
 *
 * A workload is prepared (its cache built, and filled for the workloads on
 * a full cache) apart from its operations, which run in a function of a
 * range of them: the timing calls it once, the instruction count per chunk
 * (a loop in a function is optimized as in an application, where one at
 * the top level of a module may stay interpreted).
 */
import { LRUCache } from 'lru-cache';
import { zipf } from './traces.js';
import { unitSizeCache, type NumberCache } from './unit-caches.js';

export const THROUGHPUT_ENTRIES = 100_000;
const N = THROUGHPUT_ENTRIES;

export type MakeCache = (capacity: number) => NumberCache;

export interface Competitor {
  name: string;
  make: MakeCache;
}

export const THROUGHPUT_COMPETITORS: readonly Competitor[] = [
  { name: 'lru', make: (c) => unitSizeCache('lru', c) },
  { name: 'tinylfu', make: (c) => unitSizeCache('tinylfu', c) },
  { name: 'lru-cache', make: (c) => new LRUCache<number, boolean>({ max: c }) },
];

/** `lru` and `tinylfu` in the default configuration (watermarks 0.7 and 0.9), holding as many entries. */
export const WATERMARK_COMPETITORS: readonly Competitor[] = [
  { name: 'lru, default watermarks', make: (c) => unitSizeCache('lru', c, true) },
  { name: 'tinylfu, default watermarks', make: (c) => unitSizeCache('tinylfu', c, true) },
];

export interface ThroughputWorkload {
  name: string;
  /** Builds the workload's cache; returns the function that runs its operations `from` (included) to `to` on it. */
  prepare(make: MakeCache): (from: number, to: number) => void;
}

/** Each key array is built on first use and kept: a process runs a workload twice (warm-up, then measured). */
function lazily(build: () => Int32Array): () => Int32Array {
  let keys: Int32Array | undefined;
  return () => (keys ??= build());
}

function uniform(requests: number, keys: number): Int32Array {
  const out = new Int32Array(requests);
  let x = 12345;
  for (let i = 0; i < requests; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    out[i] = (x >>> 1) % keys;
  }
  return out;
}

function filled(make: MakeCache): NumberCache {
  const cache = make(N);
  for (let i = 0; i < N; i++) cache.set(i, true);
  return cache;
}

/** The workloads, for `operations` operations each. */
export function throughputWorkloads(operations: number): ThroughputWorkload[] {
  const zipfHitKeys = lazily(() => zipf({ requests: operations, keys: N, s: 0.99, seed: 11 }));
  const uniformKeys = lazily(() => uniform(operations, N));
  const readThroughKeys = lazily(() => zipf({ requests: operations, keys: N * 10, s: 0.99, seed: 12 }));
  return [
    {
      name: `get, hits, Zipf 0.99 over ${N} cached keys`,
      prepare: (make) => {
        const keys = zipfHitKeys();
        const cache = filled(make);
        return (from, to) => {
          for (let i = from; i < to; i++) cache.get(keys[i]!);
        };
      },
    },
    {
      name: `get, hits, uniform over ${N} cached keys`,
      prepare: (make) => {
        const keys = uniformKeys();
        const cache = filled(make);
        return (from, to) => {
          for (let i = from; i < to; i++) cache.get(keys[i]!);
        };
      },
    },
    {
      name: `set of new keys into a full cache (each evicts)`,
      prepare: (make) => {
        const cache = filled(make);
        return (from, to) => {
          for (let i = from; i < to; i++) cache.set(N + i, true);
        };
      },
    },
    {
      name: `read-through (get, set on miss), Zipf 0.99 over ${N * 10} keys, ${N} entries`,
      prepare: (make) => {
        const keys = readThroughKeys();
        const cache = make(N);
        return (from, to) => {
          for (let i = from; i < to; i++) {
            const key = keys[i]!;
            if (cache.get(key) === undefined) cache.set(key, true);
          }
        };
      },
    },
  ];
}
