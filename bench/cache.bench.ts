/**
 * MemoryManager against the caches people use today: lru-cache (count mode,
 * and maxSize + sizeCalculation mode), mnemonist's LRUCache, quick-lru, and
 * a plain Map as the limit (FIFO: no recency update on get, no size).
 *
 * Workloads (1M operations each, string keys built beforehand):
 * - get: 1M random hits on a warm cache of 100k entries.
 * - set with eviction: 1M distinct keys into a cache of capacity 100k.
 * - Zipf read-through: 1M accesses, Zipf s = 0.99 over 1M keys, capacity
 *   100k: get, and set on a miss.
 * Then heap bytes per entry for 1M entries (values shared, keys built
 * beforehand: what remains is the structure), and the time of one
 * handlePressure('emergency') over 100k entries.
 *
 * Each measurement runs in a fresh Node process that loads one competitor
 * only: a library whose code sees several configurations in one process
 * can get slower (its methods turn polymorphic), and an app usually
 * configures one cache one way. In each
 * process every workload runs once to warm up, then once measured.
 * Competitors are interleaved within each repetition and the order rotates;
 * each figure is the median of REPETITIONS runs, and each ratio the median
 * of the per-repetition ratios.
 *
 * Run: npm run bench -- cache (needs --expose-gc, which the runner passes).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import { LRUCache as MnemonistLRUCache, LRUMap as MnemonistLRUMap } from 'mnemonist';
import QuickLRU from 'quick-lru';
import { MemoryManager } from '../src/cache/memory-manager.js';
import { machineLine, median, table, writeSection } from './lib/results.js';

const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 7);
const CAPACITY = 100_000;
const OPS = 1_000_000;
const UNIVERSE = 1_000_000;
const ZIPF_S = 0.99;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc (npm run bench -- cache does)');

interface CacheLike {
  get(key: string): unknown;
  set(key: string, value: unknown): unknown;
}

/**
 * A Map used as a cache with the least work possible: FIFO eviction through
 * a ring of the inserted keys (asking the Map for its first key instead is
 * O(deleted entries) in V8, which turns 1M sets into minutes), no recency.
 */
class FifoMap implements CacheLike {
  readonly #map = new Map<string, unknown>();
  readonly #ring: (string | undefined)[];
  #next = 0;
  constructor(capacity: number) {
    this.#ring = new Array<string | undefined>(capacity).fill(undefined);
  }
  get(key: string): unknown {
    return this.#map.get(key);
  }
  set(key: string, value: unknown): void {
    const map = this.#map;
    const size = map.size;
    map.set(key, value);
    if (map.size === size) return;
    const ring = this.#ring;
    const oldest = ring[this.#next];
    if (oldest !== undefined) map.delete(oldest);
    ring[this.#next] = key;
    this.#next = (this.#next + 1) % ring.length;
  }
}

const one = (): number => 1;

/**
 * Our cache with a byte budget of `capacity` bytes, 1 byte per entry (the
 * same per-set size function as lru-cache's sizeCalculation), and the
 * watermarks as close to a hard cap as the contract allows: shedding starts
 * at 99.99% of the budget, one entry at a time. It then holds 99.99% of
 * what the others hold, with one eviction per set like them.
 */
function ours(strategy: 'lru' | 'lfu' | 'size', capacity: number): CacheLike {
  return new MemoryManager<string, unknown>({
    strategy,
    maxCacheBytes: capacity,
    moderateThreshold: 0.9999,
    criticalThreshold: 1,
    evictionBatchSize: 1,
    sizeEstimator: one,
  });
}

interface Competitor {
  name: string;
  make(capacity: number): CacheLike;
}

const COMPETITORS: Competitor[] = [
  { name: 'nexus lru', make: (c) => ours('lru', c) },
  { name: 'nexus lfu', make: (c) => ours('lfu', c) },
  { name: 'nexus size', make: (c) => ours('size', c) },
  {
    // Our defaults: watermarks at 70% / 90% and batches of 10; the budget is
    // sized so the 70% watermark sits at `capacity` entries.
    name: 'nexus lru, default watermarks',
    make: (c) => new MemoryManager<string, unknown>({ maxCacheBytes: Math.ceil(c / 0.7), sizeEstimator: one }),
  },
  { name: 'lru-cache (max)', make: (c) => new LRUCache<string, object>({ max: c }) as CacheLike },
  { name: 'lru-cache (maxSize + sizeCalculation)', make: (c) => new LRUCache<string, object>({ maxSize: c, sizeCalculation: one }) as CacheLike },
  { name: 'mnemonist LRUCache', make: (c) => new MnemonistLRUCache<string, unknown>(c) as CacheLike },
  { name: 'mnemonist LRUMap', make: (c) => new MnemonistLRUMap<string, unknown>(c) as CacheLike },
  { name: 'quick-lru', make: (c) => new QuickLRU<string, unknown>({ maxSize: c }) as CacheLike },
  { name: 'Map (FIFO, the limit)', make: (c) => new FifoMap(c) },
];

// ------------------------------------------------------------------ data

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = Array.from({ length: UNIVERSE }, (_, i) => `key:${i}`);
const VALUE = { value: true };
const random = mulberry32(42);
const HIT_INDEXES = Uint32Array.from({ length: OPS }, () => Math.floor(random() * CAPACITY));
const SEQUENTIAL = Uint32Array.from({ length: OPS }, (_, i) => i);
const ZIPF_TRACE = (() => {
  const cdf = new Float64Array(UNIVERSE);
  let sum = 0;
  for (let i = 0; i < UNIVERSE; i++) cdf[i] = sum += 1 / Math.pow(i + 1, ZIPF_S);
  const trace = new Uint32Array(OPS);
  for (let n = 0; n < OPS; n++) {
    const target = random() * sum;
    let lo = 0;
    let hi = UNIVERSE - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    trace[n] = lo;
  }
  return trace;
})();

// ------------------------------------------------------------------ loops

type Loop = (cache: CacheLike, keys: readonly string[], indexes: Uint32Array, value: unknown) => number;

const LOOP_BODIES = {
  get: `let found = 0;
    for (let i = 0; i < indexes.length; i++) if (cache.get(keys[indexes[i]]) !== undefined) found++;
    return found;`,
  set: `for (let i = 0; i < indexes.length; i++) cache.set(keys[indexes[i]], value);
    return indexes.length;`,
  zipf: `let hits = 0;
    for (let i = 0; i < indexes.length; i++) {
      const key = keys[indexes[i]];
      if (cache.get(key) !== undefined) hits++;
      else cache.set(key, value);
    }
    return hits;`,
} as const;
type Workload = keyof typeof LOOP_BODIES;
const WORKLOADS: Workload[] = ['get', 'set', 'zipf'];

/** A separately compiled loop per competitor and workload: its own type feedback. */
const loops = new Map<string, Loop>();
function loopFor(workload: Workload, competitor: string): Loop {
  const id = `${workload}/${competitor}`;
  let loop = loops.get(id);
  if (loop === undefined) {
    loop = new Function('cache', 'keys', 'indexes', 'value', `/* ${id} */\n${LOOP_BODIES[workload]}`) as Loop;
    loops.set(id, loop);
  }
  return loop;
}

function warmCache(competitor: Competitor): CacheLike {
  const cache = competitor.make(CAPACITY);
  for (let i = 0; i < CAPACITY; i++) cache.set(KEYS[i]!, VALUE);
  return cache;
}

/** One timed run; returns [ms, result of the loop]. */
function run(workload: Workload, competitor: Competitor): [number, number] {
  const cache = workload === 'get' ? warmCache(competitor) : competitor.make(CAPACITY);
  const indexes = workload === 'get' ? HIT_INDEXES : workload === 'set' ? SEQUENTIAL : ZIPF_TRACE;
  const loop = loopFor(workload, competitor.name);
  gc!();
  const start = performance.now();
  const result = loop(cache, KEYS, indexes, VALUE);
  return [performance.now() - start, result];
}

// ------------------------------------------------------------------ memory

const MEMORY_ENTRIES = 1_000_000;

function heapNow(): number {
  gc!();
  gc!();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

const MEMORY_COMPETITORS: Competitor[] = [
  {
    name: 'nexus lru',
    make: () => new MemoryManager<string, unknown>({ sizeEstimator: one }),
  },
  {
    name: 'nexus lfu',
    make: () => new MemoryManager<string, unknown>({ strategy: 'lfu', sizeEstimator: one }),
  },
  {
    name: 'nexus tinylfu',
    make: () => new MemoryManager<string, unknown>({ strategy: 'tinylfu', sizeEstimator: one }),
  },
  { name: 'lru-cache (max)', make: (c) => new LRUCache<string, object>({ max: c }) as CacheLike },
  { name: 'lru-cache (maxSize + sizeCalculation)', make: (c) => new LRUCache<string, object>({ maxSize: c, sizeCalculation: one }) as CacheLike },
  { name: 'mnemonist LRUCache', make: (c) => new MnemonistLRUCache<string, unknown>(c) as CacheLike },
  { name: 'mnemonist LRUMap', make: (c) => new MnemonistLRUMap<string, unknown>(c) as CacheLike },
  { name: 'quick-lru', make: (c) => new QuickLRU<string, unknown>({ maxSize: c }) as CacheLike },
  { name: 'Map', make: () => new Map<string, unknown>() },
];

function bytesPerEntry(competitor: Competitor): number {
  const before = heapNow();
  const cache = competitor.make(MEMORY_ENTRIES);
  for (let i = 0; i < MEMORY_ENTRIES; i++) cache.set(KEYS[i]!, VALUE);
  const after = heapNow();
  if (cache.get(KEYS[0]!) === undefined && cache.get(KEYS[MEMORY_ENTRIES - 1]!) === undefined) throw new Error(`${competitor.name} lost its entries`);
  return (after - before) / MEMORY_ENTRIES;
}

// ------------------------------------------------------------------ processes

interface ChildTask {
  kind: 'speed' | 'memory';
  name: string;
}
const CHILD_ENV = 'NEXUS_CACHE_BENCH_CHILD';
const RESULT_PREFIX = 'RESULT ';

/** Runs `task` in a fresh process (this file in child mode) and returns what it printed. */
function inChild<T>(task: ChildTask): T {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, [CHILD_ENV]: JSON.stringify(task) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (child.status !== 0 || line === undefined) throw new Error(`${task.kind} run of ${task.name} failed (status ${child.status})`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as T;
}

type SpeedResult = Record<Workload, [number, number]>;

function childSpeed(competitor: Competitor): SpeedResult {
  for (const workload of WORKLOADS) run(workload, competitor); // warm-up
  const out = {} as SpeedResult;
  for (const workload of WORKLOADS) out[workload] = run(workload, competitor);
  return out;
}

const childTask = process.env[CHILD_ENV];
if (childTask !== undefined) {
  const task = JSON.parse(childTask) as ChildTask;
  const list = task.kind === 'speed' ? COMPETITORS : MEMORY_COMPETITORS;
  const competitor = list.find((c) => c.name === task.name);
  if (competitor === undefined) throw new Error(`no competitor ${task.name}`);
  const result = task.kind === 'speed' ? childSpeed(competitor) : bytesPerEntry(competitor);
  console.log(RESULT_PREFIX + JSON.stringify(result));
  process.exit(0);
}

// ------------------------------------------------------------------ speed

const times = new Map<string, number[]>(); // `${workload}/${competitor}` -> ms per repetition
const results = new Map<string, number>();
for (let rep = 0; rep < REPETITIONS; rep++) {
  const order = COMPETITORS.map((_, i) => COMPETITORS[(i + rep) % COMPETITORS.length]!);
  for (const competitor of order) {
    const measured = inChild<SpeedResult>({ kind: 'speed', name: competitor.name });
    for (const workload of WORKLOADS) {
      const [ms, result] = measured[workload];
      const id = `${workload}/${competitor.name}`;
      times.set(id, [...(times.get(id) ?? []), ms]);
      results.set(id, result);
    }
  }
  console.log(`repetition ${rep + 1}/${REPETITIONS} done`);
}

const timeOf = (workload: Workload, name: string): number[] => times.get(`${workload}/${name}`)!;
/** Median over repetitions of (anchor time / subject time): above 1 means the subject is faster. */
function speedRatio(workload: Workload, subject: string, anchor: string): number {
  const s = timeOf(workload, subject);
  const a = timeOf(workload, anchor);
  return median(s.map((ms, i) => a[i]! / ms));
}

const LRU_COUNT = 'lru-cache (max)';
const LRU_SIZE = 'lru-cache (maxSize + sizeCalculation)';
const MNEMONIST = 'mnemonist LRUCache';
const MNEMONIST_MAP = 'mnemonist LRUMap';
const fmt = (x: number, digits = 2): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function speedTable(workload: Workload): string {
  const rows = COMPETITORS.map((c) => {
    const ms = median(timeOf(workload, c.name));
    const row: (string | number)[] = [
      c.name,
      fmt(ms, 1),
      fmt(OPS / ms / 1000, 1),
      `${fmt(speedRatio(workload, c.name, LRU_COUNT))}x`,
      `${fmt(speedRatio(workload, c.name, LRU_SIZE))}x`,
      `${fmt(speedRatio(workload, c.name, MNEMONIST))}x`,
      `${fmt(speedRatio(workload, c.name, MNEMONIST_MAP))}x`,
    ];
    if (workload === 'zipf') row.push(`${fmt((100 * results.get(`zipf/${c.name}`)!) / OPS, 1)}%`);
    return row;
  });
  const header = ['cache', 'ms (median)', 'M ops/s', 'vs lru-cache (max)', 'vs lru-cache (maxSize)', 'vs mnemonist LRUCache', 'vs mnemonist LRUMap'];
  if (workload === 'zipf') header.push('hit ratio');
  return table(header, rows);
}

const memory = new Map<string, number[]>();
for (let rep = 0; rep < 3; rep++) {
  for (const competitor of MEMORY_COMPETITORS) {
    memory.set(competitor.name, [...(memory.get(competitor.name) ?? []), inChild<number>({ kind: 'memory', name: competitor.name })]);
  }
}
console.log('memory done');

// ------------------------------------------------------------------ emergency

function emergencyMs(strategy: 'lru' | 'lfu' | 'size', listen: boolean): number {
  const cache = new MemoryManager<string, unknown>({ strategy, sizeEstimator: one });
  for (let i = 0; i < CAPACITY; i++) cache.set(KEYS[i]!, VALUE);
  let seen = 0;
  if (listen) cache.evictions.subscribe(() => seen++);
  gc!();
  const start = performance.now();
  const evicted = cache.handlePressure('emergency').length;
  const ms = performance.now() - start;
  if (evicted !== CAPACITY || (listen && seen !== CAPACITY)) throw new Error(`emergency evicted ${evicted}, listener saw ${seen}`);
  return ms;
}

const emergency: (string | number)[][] = [];
const emergencyFigures = new Map<string, number>();
for (const strategy of ['lru', 'lfu', 'size'] as const) {
  for (const listen of [false, true]) {
    const runs: number[] = [];
    for (let rep = 0; rep < Math.max(REPETITIONS, 5); rep++) runs.push(emergencyMs(strategy, listen));
    const ms = median(runs);
    emergencyFigures.set(`${strategy}/${listen}`, ms);
    emergency.push([strategy, listen ? 'yes' : 'no', fmt(ms, 1), fmt(Math.max(...runs), 1)]);
  }
}

// ------------------------------------------------------------------ report

const bytes = (name: string): number => median(memory.get(name)!);
const ratio = (workload: Workload, subject: string, anchor: string): string => `${fmt(speedRatio(workload, subject, anchor))}x`;
const lfuOverLru = (workload: Workload): string => ratio(workload, 'nexus lfu', 'nexus lru');
const worst = (workload: Workload): number => Math.max(...timeOf(workload, 'nexus lru'));

const markdown = `## Memory-bounded cache

${machineLine('npm run bench -- cache')}

Each time is the median of ${REPETITIONS} interleaved repetitions (order
rotated); each ratio is the median of the per-repetition ratios *anchor time
/ our time*, so above 1x means faster than the anchor. Every measurement
runs in a fresh Node process holding that one cache (after one warm-up run
of each workload): several configurations of one library in a process can
slow it down (its methods see several shapes and turn polymorphic), which
would measure the mix, not the cache. 1M
operations per run, string keys built beforehand, one shared value.

How each cache is configured (capacity 100k entries):
- **nexus lru / lfu / size**: \`maxCacheBytes: 100_000\`, \`sizeEstimator: () => 1\`
  (called on each set, as lru-cache's sizeCalculation is), \`moderateThreshold: 0.9999\`,
  \`criticalThreshold: 1\`, \`evictionBatchSize: 1\`: the contract always sheds at
  the watermarks, and this puts them at the budget, so it evicts one entry per set
  at capacity, like the others (it holds 99.99% of their count).
- **nexus lru, default watermarks**: the defaults (70% / 90%, batches of 10) with
  \`maxCacheBytes: ceil(100_000 / 0.7)\`, so it holds about 100k entries.
- **lru-cache (max)**: \`{ max: 100_000 }\`. **lru-cache (maxSize + sizeCalculation)**:
  \`{ maxSize: 100_000, sizeCalculation: () => 1 }\`.
- **mnemonist LRUCache**: \`new LRUCache(100_000)\`: its index is a plain object, so
  keys are strings only (which is faster for string keys than any \`Map\`, and
  costs more memory per entry). **mnemonist LRUMap**: the same structure over a
  \`Map\`, any key type: the like-for-like design of ours.
- **quick-lru**: \`{ maxSize: 100_000 }\` (two generations: holds up to 200k, which
  shows in its hit ratio).
- **Map (FIFO, the limit)**: \`Map.get\`, and \`set\` plus deleting the oldest
  inserted key (kept in a ring) over capacity: no recency, no sizes; the
  floor an exact LRU over a \`Map\` cannot beat.

### get: 1M random hits on a warm cache of 100k entries

${speedTable('get')}

### set with eviction: 1M distinct keys at capacity 100k

${speedTable('set')}

### Zipf (s = ${ZIPF_S}) read-through over 1M keys, capacity 100k

${speedTable('zipf')}

### Heap bytes per entry beyond the values (1M entries)

Heap used plus ArrayBuffers after \`gc()\`, before and after inserting 1M
entries (keys built beforehand, one shared value), divided by 1M; median of 3,
each in a fresh process.
Ours with no budget (\`sizeEstimator: () => 1\`), which is the same structure.

${table(
  ['cache', 'bytes per entry'],
  MEMORY_COMPETITORS.map((c) => [c.name, fmt(bytes(c.name), 1)]),
)}

### handlePressure('emergency') over 100k entries

Median (and worst) of ${Math.max(REPETITIONS, 5)} runs, with and without a subscriber on \`evictions\`
(each eviction then allocates and delivers an event).

${table(['strategy', 'eviction listener', 'ms (median)', 'ms (worst)'], emergency)}

### Figures against the targets

- \`lru\` get-hit vs lru-cache (max): **${ratio('get', 'nexus lru', LRU_COUNT)}** (target >= 1.0x); vs mnemonist LRUCache: ${ratio('get', 'nexus lru', MNEMONIST)}, LRUMap: ${ratio('get', 'nexus lru', MNEMONIST_MAP)}.
- set with eviction under a byte budget vs lru-cache (maxSize): **${ratio('set', 'nexus lru', LRU_SIZE)}** (target >= 1.0x); vs mnemonist LRUCache: ${ratio('set', 'nexus lru', MNEMONIST)}, LRUMap: ${ratio('set', 'nexus lru', MNEMONIST_MAP)}; with our default watermarks: ${ratio('set', 'nexus lru, default watermarks', LRU_SIZE)}.
- Zipf read-through vs lru-cache (maxSize): **${ratio('zipf', 'nexus lru', LRU_SIZE)}** (target >= 1.0x); vs mnemonist LRUCache: ${ratio('zipf', 'nexus lru', MNEMONIST)}, LRUMap: ${ratio('zipf', 'nexus lru', MNEMONIST_MAP)}.
- \`lfu\` relative to our \`lru\` (target >= 0.70x): get ${lfuOverLru('get')}, set ${lfuOverLru('set')}, Zipf ${lfuOverLru('zipf')}.
- Bytes per entry: ours ${fmt(bytes('nexus lru'), 1)} (lfu ${fmt(bytes('nexus lfu'), 1)}, tinylfu ${fmt(bytes('nexus tinylfu'), 1)}); lru-cache maxSize ${fmt(bytes(LRU_SIZE), 1)} (target: no more), count mode ${fmt(bytes(LRU_COUNT), 1)} (aim), Map ${fmt(bytes('Map'), 1)}.
- Evicting 100k entries in one handlePressure('emergency'): ${fmt(emergencyFigures.get('lru/false')!, 1)} ms, ${fmt(emergencyFigures.get('lru/true')!, 1)} ms with a listener (target < 50 ms).
- Slowest of the ${REPETITIONS} \`nexus lru\` runs: get ${fmt(worst('get'), 1)} ms, set ${fmt(worst('set'), 1)} ms, Zipf ${fmt(worst('zipf'), 1)} ms (noise check).
`;

writeSection('cache', markdown);
console.log(markdown);
