/**
 * NexusStore against PostgreSQL: what the cache buys.
 *
 * 1. Read latency and throughput over a real PostgreSQL table, for the same
 *    uniform random ids: the store with a warm cache, the store missing every
 *    time (its own overhead on top of the backend), and the anchor, the
 *    backend with no cache. Sequential (one caller) and 32 concurrent callers.
 * 2. Hit ratio of a Zipf workload (s = 0.9) under a byte budget, per cache
 *    strategy, through NexusStore; the anchor is lru-cache with the same
 *    byte budget and the same sizes. Items vary in size (100 B to 4 KB).
 * 3. The same Zipf workload over PostgreSQL: requests per second through the
 *    store with a 10% budget versus the backend alone.
 *
 * Competitors are interleaved within each repetition; figures are medians of
 * 5 repetitions. Run: npm run bench -- store (needs PostgreSQL on 127.0.0.1:5432).
 */
import { LRUCache } from 'lru-cache';
import pg from 'pg';
import { EVICTION_STRATEGIES } from '../src/cache/policies/registry.js';
import { PostgresBackend } from '../src/postgres/index.js';
import { MemoryBackend } from '../src/store/memory-backend.js';
import { NexusStore } from '../src/store/nexus-store.js';
import { machineLine, median, table, writeSection } from './lib/results.js';

interface Item {
  id: string;
  n: number;
  body: string;
}

const REPETITIONS = 5;
const PG_ITEMS = 2000;
const CONCURRENCY = 32;

// ---------------------------------------------------------------- workload

/** mulberry32: a seeded uniform source in [0, 1). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `requests` key indexes over `keys` keys, rank r drawn with probability ∝ 1/(r+1)^s; ranks are shuffled over keys. */
function zipfTrace(keys: number, requests: number, s: number, seed: number): Int32Array {
  const cdf = new Float64Array(keys);
  let total = 0;
  for (let r = 0; r < keys; r++) cdf[r] = total += 1 / (r + 1) ** s;
  const next = random(seed);
  const rankToKey = Int32Array.from({ length: keys }, (_, i) => i);
  for (let i = keys - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [rankToKey[i], rankToKey[j]] = [rankToKey[j] as number, rankToKey[i] as number];
  }
  const trace = new Int32Array(requests);
  for (let q = 0; q < requests; q++) {
    const u = next() * total;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    trace[q] = rankToKey[lo] as number;
  }
  return trace;
}

function makeItem(n: number, bytes: number): Item {
  return { id: `item-${n}`, n, body: 'x'.repeat(bytes) };
}

const sizeOf = (item: Item): number => item.body.length + 64;

// ---------------------------------------------------------------- timing

async function timeOps(ops: number, run: (i: number) => Promise<unknown>, concurrency = 1): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < ops; i = next++) await run(i);
    }),
  );
  return performance.now() - start;
}

const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

// ---------------------------------------------------------------- 1. latency over PostgreSQL

const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 10 });
const table1 = `bench_store_${process.pid}`;
const backend = new PostgresBackend<Item>({ pool, table: table1 });

async function main(): Promise<void> {
  await backend.ready();
  await pool.query(`TRUNCATE "${table1}"`);
  for (let n = 0; n < PG_ITEMS; n += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, k) => backend.save(makeItem(n + k, 1000))));
  }
  const uniform = random(11);
  const ids = Array.from({ length: 100_000 }, () => `item-${Math.floor(uniform() * PG_ITEMS)}`);
  const id = (i: number) => ids[i % ids.length] as string;

  const warm = new NexusStore<Item, string>({ backend, idOf: (item) => item.id });
  await warm.getMany(Array.from({ length: PG_ITEMS }, (_, n) => `item-${n}`));

  type Row = { name: string; seqUs: number[]; seqOps: number[]; parOps: number[] };
  const rows: Record<string, Row> = {
    warm: { name: 'NexusStore, warm cache', seqUs: [], seqOps: [], parOps: [] },
    cold: { name: 'NexusStore, every read a miss', seqUs: [], seqOps: [], parOps: [] },
    direct: { name: 'PostgresBackend alone (anchor)', seqUs: [], seqOps: [], parOps: [] },
  };
  const dbOps = 1500;
  const cacheOps = 200_000;
  const cold = new NexusStore<Item, string>({ backend, idOf: (item) => item.id, config: { memory: { maxCacheBytes: 1 } } });
  const competitors: Array<[keyof typeof rows, number, (i: number) => Promise<unknown>]> = [
    ['warm', cacheOps, (i) => warm.get(id(i))],
    ['cold', dbOps, (i) => cold.get(id(i))],
    ['direct', dbOps, (i) => backend.get(id(i))],
  ];
  for (const [, ops, run] of competitors) await timeOps(Math.min(ops, 300), run); // warm-up
  for (let r = 0; r < REPETITIONS; r++) {
    const order = r % 2 === 0 ? competitors : [...competitors].reverse();
    for (const [key, ops, run] of order) {
      const row = rows[key] as Row;
      const seqMs = await timeOps(ops, run);
      row.seqUs.push((seqMs * 1000) / ops);
      row.seqOps.push(ops / (seqMs / 1000));
      const parMs = await timeOps(ops, run, CONCURRENCY);
      row.parOps.push(ops / (parMs / 1000));
    }
  }
  const direct = rows['direct'] as Row;
  const latencyTable = table(
    ['reader', 'µs per read, 1 caller', 'reads/s, 1 caller', `reads/s, ${CONCURRENCY} callers`, 'speedup vs backend (1 caller)'],
    Object.values(rows).map((row) => [
      row.name,
      fmt(median(row.seqUs), 1),
      fmt(median(row.seqOps)),
      fmt(median(row.parOps)),
      `${fmt(median(direct.seqUs) / median(row.seqUs), 1)}x`,
    ]),
  );
  console.log(latencyTable);

  // ---------------------------------------------------------------- 2. Zipf hit ratio under a byte budget

  const KEYS = 20_000;
  const REQUESTS = 300_000;
  const itemSizes = random(3);
  const items = Array.from({ length: KEYS }, (_, n) => makeItem(n, 100 + Math.floor(itemSizes() * 3900)));
  const totalBytes = items.reduce((sum, item) => sum + sizeOf(item), 0);
  const trace = zipfTrace(KEYS, REQUESTS, 0.9, 42);
  const memoryBackend = new MemoryBackend<Item, string>({ idOf: (item) => item.id, clone: false });
  for (const item of items) await memoryBackend.save(item);

  const budgets = [0.01, 0.05, 0.1];
  const hitRows: (string | number)[][] = [];
  for (const fraction of budgets) {
    const maxCacheBytes = Math.round(totalBytes * fraction);
    const ratios: Record<string, number> = {};
    for (const strategy of EVICTION_STRATEGIES) {
      const store = new NexusStore<Item, string>({
        backend: memoryBackend,
        idOf: (item) => item.id,
        config: { memory: { maxCacheBytes, strategy, sizeEstimator: sizeOf } },
      });
      for (let q = 0; q < REQUESTS; q++) await store.get(`item-${trace[q]}`);
      const m = store.memoryMetrics;
      ratios[strategy] = m.hits / (m.hits + m.misses);
      await store.dispose();
    }
    {
      // Watermarks off: evict only when full, as lru-cache does, to compare like with like.
      const store = new NexusStore<Item, string>({
        backend: memoryBackend,
        idOf: (item) => item.id,
        config: { memory: { maxCacheBytes, strategy: 'lru', sizeEstimator: sizeOf, moderateThreshold: 0.999, criticalThreshold: 1 } },
      });
      for (let q = 0; q < REQUESTS; q++) await store.get(`item-${trace[q]}`);
      const m = store.memoryMetrics;
      ratios['lru-full'] = m.hits / (m.hits + m.misses);
      await store.dispose();
    }
    const anchor = new LRUCache<string, Item>({ maxSize: maxCacheBytes, sizeCalculation: sizeOf });
    let anchorHits = 0;
    for (let q = 0; q < REQUESTS; q++) {
      const key = `item-${trace[q]}`;
      if (anchor.get(key) !== undefined) anchorHits++;
      else anchor.set(key, (await memoryBackend.get(key)) as Item);
    }
    const anchorRatio = anchorHits / REQUESTS;
    hitRows.push([
      `${fraction * 100}% (${fmt(maxCacheBytes / 1024)} KiB)`,
      ...EVICTION_STRATEGIES.map((s) => `${((ratios[s] as number) * 100).toFixed(1)}%`),
      `${((ratios['lru-full'] as number) * 100).toFixed(1)}%`,
      `${(anchorRatio * 100).toFixed(1)}%`,
    ]);
  }
  const hitTable = table(
    ['budget (of all bytes)', ...EVICTION_STRATEGIES.map((s) => `NexusStore ${s}`), 'NexusStore lru, watermarks off', 'lru-cache (anchor)'],
    hitRows,
  );
  console.log(hitTable);

  // ---------------------------------------------------------------- 3. Zipf over PostgreSQL

  const table3 = `bench_store_zipf_${process.pid}`;
  const zipfBackend = new PostgresBackend<Item>({ pool, table: table3 });
  await zipfBackend.ready();
  await pool.query(`TRUNCATE "${table3}"`);
  for (let n = 0; n < KEYS; n += 200) await Promise.all(items.slice(n, n + 200).map((item) => zipfBackend.save(item)));
  const pgRequests = 10_000;
  const zipfStoreOps: number[] = [];
  const zipfDirectOps: number[] = [];
  const zipfHit: number[] = [];
  const zipfStore = () =>
    new NexusStore<Item, string>({
      backend: zipfBackend,
      idOf: (item) => item.id,
      config: { memory: { maxCacheBytes: Math.round(totalBytes * 0.1), sizeEstimator: sizeOf } },
    });
  {
    // Warm-up of both paths (JIT, pool connections), not measured.
    const store = zipfStore();
    await timeOps(2000, (i) => store.get(`item-${trace[i]}`), CONCURRENCY);
    await timeOps(2000, (i) => zipfBackend.get(`item-${trace[i]}`), CONCURRENCY);
    await store.dispose();
  }
  for (let r = 0; r < REPETITIONS; r++) {
    // Each repetition starts with an empty cache and reads its own slice of the trace.
    const store = zipfStore();
    const offset = (r + 1) * pgRequests;
    const runStore = async () => zipfStoreOps.push(pgRequests / ((await timeOps(pgRequests, (i) => store.get(`item-${trace[offset + i]}`), CONCURRENCY)) / 1000));
    const runDirect = async () => zipfDirectOps.push(pgRequests / ((await timeOps(pgRequests, (i) => zipfBackend.get(`item-${trace[offset + i]}`), CONCURRENCY)) / 1000));
    if (r % 2 === 0) {
      await runStore();
      await runDirect();
    } else {
      await runDirect();
      await runStore();
    }
    const m = store.memoryMetrics;
    zipfHit.push(m.hits / (m.hits + m.misses));
    await store.dispose();
  }
  await zipfBackend.close();
  await pool.query(`DROP TABLE IF EXISTS "${table3}"`);

  const markdown = `## Store over PostgreSQL

${machineLine('npm run bench -- store')}

### Read latency and throughput

${fmt(PG_ITEMS)} items of about 1 KB in a PostgreSQL table on the same
machine, read by uniformly random id. Median of ${REPETITIONS} interleaved
repetitions (${fmt(dbOps)} reads per repetition through the database,
${fmt(cacheOps)} from the warm cache). "Every read a miss" is a store whose
1-byte budget keeps nothing, so every read goes through the store's miss path
to the database: its speedup column shows the store's own cost on a miss
(1.0x would be none; the difference is within this machine's noise when close).

${latencyTable}

### Hit ratio of a Zipf workload under a byte budget

${fmt(REQUESTS)} reads over ${fmt(KEYS)} items of 100 B to 4 KB
(${fmt(totalBytes / 2 ** 20, 1)} MiB in all), Zipf s = 0.9, popularity not
related to size. Budgets are fractions of the total bytes; lru-cache gets the
same budget and the same size function. NexusStore's default budget
watermarks evict a batch whenever usage reaches 70% of the budget and evict
down to 70% once it reaches 90% (the contract's "start evicting at 70%,
aggressive at 90%"), so it holds less than a cache that only evicts when full; the "watermarks off" column
(thresholds 0.999 / 1.0) is the like-for-like comparison with lru-cache.

${hitTable}

### Zipf over PostgreSQL, ${CONCURRENCY} callers

The same workload read from PostgreSQL: the store with a 10% byte budget
(lru, default watermarks) versus the backend alone, ${fmt(pgRequests)} reads
each per repetition; every repetition starts with an empty cache, so its hit
ratio includes the warm-up. Median of ${REPETITIONS} interleaved repetitions.

${table(
  ['reader', 'reads/s', 'hit ratio', 'speedup'],
  [
    ['NexusStore, 10% budget', fmt(median(zipfStoreOps)), `${(median(zipfHit) * 100).toFixed(1)}%`, `${fmt(median(zipfStoreOps) / median(zipfDirectOps), 1)}x`],
    ['PostgresBackend alone (anchor)', fmt(median(zipfDirectOps)), '-', '1.0x'],
  ],
)}
`;
  writeSection('store', markdown);
  console.log(markdown);
  await warm.dispose();
  await cold.dispose();
}

try {
  await main();
} finally {
  await backend.close();
  await pool.query(`DROP TABLE IF EXISTS "${table1}"`).catch(() => undefined);
  await pool.end();
}
