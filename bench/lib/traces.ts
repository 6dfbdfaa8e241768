/**
 * Seeded, reproducible request traces for the hit-ratio benchmark.
 *
 * A trace is an `Int32Array` of key ids. Every generator takes a seed and
 * returns the same trace for the same arguments on every machine: the random
 * source is sfc32 (a small, fast generator with a 128-bit state), not
 * `Math.random`.
 *
 * - zipf: `requests` draws over `keys` keys, where the key of rank r (0 is the
 *   most popular) is drawn with probability proportional to 1 / (r + 1)^s. The
 *   draw inverts the cumulative distribution by binary search over a
 *   precomputed table (8 bytes per key, O(log keys) per draw).
 * - zipfWithScans: a Zipf trace cut into equal parts with a one-time
 *   sequential scan of fresh keys (never requested again) between them: the
 *   pattern of a batch job or a crawler walking through the key space.
 * - loop: the keys 0..length-1 requested in order, over and over.
 * - shiftingZipf: a Zipf trace whose popularity ranking is rotated through the
 *   key space at each phase, so the hot set is replaced wholesale.
 */

/** sfc32: returns a function yielding uniform floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed | 0;
  const next = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next(); // let the seed spread through the state
  return next;
}

/** Cumulative Zipf probabilities for ranks 0..keys-1 (the last one is 1). */
function zipfCdf(keys: number, s: number): Float64Array {
  const cdf = new Float64Array(keys);
  let sum = 0;
  for (let r = 0; r < keys; r++) {
    sum += 1 / Math.pow(r + 1, s);
    cdf[r] = sum;
  }
  for (let r = 0; r < keys; r++) cdf[r] = cdf[r]! / sum;
  cdf[keys - 1] = 1;
  return cdf;
}

function drawRank(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid]! > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export interface ZipfOptions {
  requests: number;
  keys: number;
  /** The exponent: 0.8 is a flat, hard workload; 1.2 a very skewed one. */
  s: number;
  seed: number;
}

/** Ranks are scattered over the key ids (a seeded permutation), so key order carries no popularity. */
function permutation(n: number, random: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

export function zipf({ requests, keys, s, seed }: ZipfOptions): Int32Array {
  const random = seededRandom(seed);
  const cdf = zipfCdf(keys, s);
  const keyOfRank = permutation(keys, random);
  const trace = new Int32Array(requests);
  for (let i = 0; i < requests; i++) trace[i] = keyOfRank[drawRank(cdf, random())]!;
  return trace;
}

export interface ScanOptions extends ZipfOptions {
  /** Length of each scan, in distinct fresh keys. */
  scanLength: number;
  /** Number of scans, spread evenly through the trace. */
  scans: number;
}

/** `requests` in total, of which `scans * scanLength` are scan requests. */
export function zipfWithScans({ requests, keys, s, seed, scanLength, scans }: ScanOptions): Int32Array {
  const zipfRequests = requests - scans * scanLength;
  if (zipfRequests <= 0) throw new RangeError(`scans * scanLength (${scans * scanLength}) must be below requests (${requests})`);
  const base = zipf({ requests: zipfRequests, keys, s, seed });
  const trace = new Int32Array(requests);
  const parts = scans + 1;
  let from = 0;
  let at = 0;
  let fresh = keys; // scan keys lie beyond the Zipf key space
  for (let part = 0; part < parts; part++) {
    const to = Math.round((zipfRequests * (part + 1)) / parts);
    trace.set(base.subarray(from, to), at);
    at += to - from;
    from = to;
    if (part < scans) {
      for (let i = 0; i < scanLength; i++) trace[at++] = fresh++;
    }
  }
  return trace;
}

/** The keys 0..length-1 in order, repeated until `requests` requests. */
export function loop({ requests, length }: { requests: number; length: number }): Int32Array {
  const trace = new Int32Array(requests);
  for (let i = 0; i < requests; i++) trace[i] = i % length;
  return trace;
}

export interface ShiftOptions extends ZipfOptions {
  /** Number of equal phases; each moves the ranking by `shift` key ids. */
  phases: number;
  shift: number;
}

/** Zipf, but at each phase the key of rank r becomes the key of rank r shifted by `shift` more ids. */
export function shiftingZipf({ requests, keys, s, seed, phases, shift }: ShiftOptions): Int32Array {
  const trace = zipf({ requests, keys, s, seed });
  for (let i = 0; i < requests; i++) {
    const phase = Math.floor((i * phases) / requests);
    trace[i] = (trace[i]! + phase * shift) % keys;
  }
  return trace;
}

export interface DriftOptions extends ZipfOptions {
  /** Ranks the popularity ranking moves per request: new keys keep entering at the top and fading down. */
  ranksPerRequest: number;
}

/**
 * Zipf whose ranking drifts continuously: at request i the key of rank r is
 * the one that had rank r + floor(i * ranksPerRequest) at the start, so a
 * steady stream of fresh keys (from the cold end of the key space) becomes
 * the most popular and then slowly cools down, like items in a news feed.
 */
export function driftingZipf({ requests, keys, s, seed, ranksPerRequest }: DriftOptions): Int32Array {
  const random = seededRandom(seed);
  const cdf = zipfCdf(keys, s);
  const keyOfRank = permutation(keys, random);
  const trace = new Int32Array(requests);
  for (let i = 0; i < requests; i++) {
    const shift = Math.floor(i * ranksPerRequest) % keys;
    const rank = drawRank(cdf, random());
    trace[i] = keyOfRank[(rank + keys - shift) % keys]!;
  }
  return trace;
}

export interface PhaseChangeOptions extends ZipfOptions {
  /** Keys in the middle phase's loop. */
  loopLength: number;
}

/**
 * Caffeine's adaptivity stress test: a third of the requests Zipf, a third
 * a loop over `loopLength` keys of their own (ids from `keys` up), then Zipf
 * again (the same popularity): a policy must move from frequency to recency
 * and back.
 */
export function phaseChange({ requests, keys, s, seed, loopLength }: PhaseChangeOptions): Int32Array {
  const trace = zipf({ requests, keys, s, seed });
  const from = Math.floor(requests / 3);
  const to = Math.floor((2 * requests) / 3);
  for (let i = from; i < to; i++) trace[i] = keys + ((i - from) % loopLength);
  return trace;
}
