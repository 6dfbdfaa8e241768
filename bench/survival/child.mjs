/**
 * One cell of the survival matrix: a service that caches what it fetches,
 * run inside a memory cgroup (see cell.ts for the options and the result).
 *
 * Each request draws a key from a Zipf(0.9) popularity curve over a
 * catalogue far larger than the container; a miss "fetches" a 64 KiB
 * payload (allocates and writes it, as a response body arriving from the
 * network is written) and caches it. Misses are paced to `rateMBps` of new
 * payload bytes per second by a token bucket, so the allocation rate is the
 * cell's, not the machine's.
 *
 * Payloads: `buffer` is a `Buffer` (off the V8 heap, the malloc'd memory of
 * image and media caches); `heap` a plain array of 8,192 doubles (64 KiB in
 * the V8 heap); `mixed` half of each.
 *
 * Caches: `map` a plain `Map` that nothing bounds; `fixed` a MemoryManager
 * with the hand-tuned `maxCacheBytes` and no monitor; `monitor` a
 * MemoryManager over `createNodeMemoryMonitor()` with every default.
 *
 * Plain JavaScript over the built package (`npm run build`, or the copy of
 * dist/ that NEXUS_SURVIVAL_DIST names): a TypeScript loader would run inside
 * the cgroup too and be charged to its limit.
 *
 * Prints `progress <s> <entries> <cache bytes> <level> <container working set>`
 * once a second and `result {json}` at the end.
 * Usage: node child.mjs '<json options>'
 */
// NEXUS_SURVIVAL_DIST: a copy of dist/ to run against, so that a long matrix
// run is not broken by a rebuild of dist/ while it runs.
const dist = process.env.NEXUS_SURVIVAL_DIST ? new URL(`file://${process.env.NEXUS_SURVIVAL_DIST.replace(/\/?$/, '/')}`) : new URL('../../dist/', import.meta.url);
const { MemoryManager } = await import(new URL('index.js', dist).href);
const { createNodeMemoryMonitor } = await import(new URL('node/index.js', dist).href);
const { mulberry32, ZipfSampler } = await import(new URL('cli/demo/random.js', dist).href);

const PAYLOAD_BYTES = 64 * 1024;
const CATALOGUE_KEYS = 40_000;
const ZIPF_EXPONENT = 0.9;
const DOUBLES = PAYLOAD_BYTES / 8;
const MAX_REQUESTS_PER_TURN = 5000;

const options = JSON.parse(process.argv[2] ?? '{}');

function makePayload(key) {
  const fill = key & 0xff;
  switch (options.payload) {
    case 'buffer':
      return Buffer.allocUnsafe(PAYLOAD_BYTES).fill(fill);
    case 'heap':
      return new Array(DOUBLES).fill(key + 0.5);
    case 'mixed':
      return { meta: new Array(DOUBLES / 2).fill(key + 0.5), body: Buffer.allocUnsafe(PAYLOAD_BYTES / 2).fill(fill) };
    default:
      throw new RangeError(`payload must be buffer, heap or mixed, got ${JSON.stringify(options.payload)}`);
  }
}

let startedAt = performance.now();
const monitor = options.cache === 'monitor' ? createNodeMemoryMonitor() : undefined;
let manager;
if (options.cache === 'monitor') manager = new MemoryManager({ pressureHandler: monitor });
else if (options.cache === 'fixed') manager = new MemoryManager({ maxCacheBytes: options.fixedBudgetBytes });
else if (options.cache !== 'map') throw new RangeError(`cache must be map, fixed or monitor, got ${JSON.stringify(options.cache)}`);
const cache = manager ?? new Map();
const levels = {};
// The last samples seen, for the report of a run that ends badly.
const recent = [];
monitor?.states.subscribe((s) => {
  levels[s.level] = (levels[s.level] ?? 0) + 1;
  recent.push(`${((performance.now() - startedAt) / 1000).toFixed(2)}s ${s.source} ${(s.usedBytes / 1e6).toFixed(0)}MB ${s.level} cache ${((manager?.metrics.currentUsage ?? 0) / 1e6).toFixed(0)}MB ceiling ${((manager?.limitBytes ?? 0) / 1e6).toFixed(0)}MB`);
  if (recent.length > 12) recent.shift();
  if (process.env.NEXUS_SURVIVAL_TRACE === '2') {
    const m = process.memoryUsage();
    console.log(`sample ${(performance.now() - startedAt).toFixed(0)} ${s.source} ${(s.usedBytes / 1e6).toFixed(1)} ${s.level} cache ${((manager?.metrics.currentUsage ?? 0) / 1e6).toFixed(1)} limit ${((manager?.limitBytes ?? 0) / 1e6).toFixed(1)} rss ${(m.rss / 1e6).toFixed(1)} ext ${(m.external / 1e6).toFixed(1)} heap ${(m.heapTotal / 1e6).toFixed(1)}`);
  }
});
monitor?.startMonitoring();

const random = mulberry32(options.seed);
const zipf = new ZipfSampler(CATALOGUE_KEYS, ZIPF_EXPONENT);
const rateBytesPerMs = (options.rateMBps * 1e6) / 1000;
startedAt = performance.now();
const warmUntil = startedAt + options.warmupS * 1000;
const endsAt = startedAt + options.durationS * 1000;
let requests = 0;
let hits = 0;
let warmRequests = 0;
let warmHits = 0;
let missBytes = 0;
let nextProgressAt = startedAt + 1000;
const cacheBytesSeen = [];

const cacheBytes = () => manager?.metrics.currentUsage ?? cache.size * PAYLOAD_BYTES;

function workingSet() {
  const reading = monitor?.lastReading?.signals.find((s) => s.signal === 'container');
  return reading === undefined ? '-' : String(reading.usedBytes);
}

function turn() {
  const now = performance.now();
  const warm = now >= warmUntil;
  const allowance = Math.min(now, endsAt) - startedAt;
  for (let i = 0; i < MAX_REQUESTS_PER_TURN && missBytes < allowance * rateBytesPerMs; i++) {
    const key = zipf.sample(random);
    requests++;
    if (warm) warmRequests++;
    if (cache.get(key) !== undefined) {
      hits++;
      if (warm) warmHits++;
      continue;
    }
    missBytes += PAYLOAD_BYTES;
    cache.set(key, makePayload(key));
  }
  if (now >= nextProgressAt) {
    nextProgressAt += 1000;
    if (warm) cacheBytesSeen.push(cacheBytes());
    const level = monitor?.currentPressure() ?? manager?.metrics.pressureLevel ?? '-';
    console.log(`progress ${((now - startedAt) / 1000).toFixed(1)} ${cache.size} ${cacheBytes()} ${level} ${workingSet()}`);
  }
  if (now < endsAt) {
    setTimeout(turn, 2);
    return;
  }
  const collections = monitor?.collections;
  monitor?.close();
  manager?.dispose();
  const result = {
    requests,
    hits,
    hitRatio: requests === 0 ? 0 : hits / requests,
    warmHitRatio: warmRequests === 0 ? 0 : warmHits / warmRequests,
    missBytes,
    entries: cache.size,
    cacheBytes: cacheBytes(),
    cacheBytesSeen,
    levels,
    recent,
    elapsedS: (now - startedAt) / 1000,
    forcedCollections: collections?.count ?? 0,
    forcedCollectionMs: collections?.totalMs ?? 0,
  };
  console.log(`result ${JSON.stringify(result)}`);
}

setTimeout(turn, 0);
