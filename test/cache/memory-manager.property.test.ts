// Property-based tests: random operation sequences against a plain model,
// for every registered strategy. After every step the cache must agree with
// the model entry by entry, `currentUsage` must equal the sum of the stored
// sizes, no pinned entry may have been evicted, and unpinned bytes must stay
// within the budget. Where the model knows the strategy's order, `evict`,
// `evictLeastRecentlyUsed` and `handlePressure` must return exactly the keys
// it predicts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MemoryManager } from '../../src/cache/memory-manager.js';
import type { EvictionStrategy } from '../../src/cache/policies/registry.js';
import type { MemoryPressureLevel } from '../../src/pressure-levels.js';
import { STRATEGIES } from './helpers.js';

const KEYS = Array.from({ length: 12 }, (_, i) => `k${i}`);
const RUNS = 250;
const MIN_STEPS_PER_STRATEGY = 10_000;

type Op =
  | { kind: 'set'; key: string; size: number; pin: boolean }
  | { kind: 'get' | 'delete' | 'pin' | 'unpin'; key: string }
  | { kind: 'evict' | 'evictLru'; count: number }
  | { kind: 'pressure'; level: MemoryPressureLevel }
  | { kind: 'clearUnpinned' | 'clear' };

const key = fc.constantFrom(...KEYS);
const size = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 150 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 1500 }) });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('set' as const), key, size, pin: fc.integer({ min: 0, max: 9 }).map((n) => n < 2) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('get' as const), key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pin' as const), key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('unpin' as const), key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('evict' as const), count: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('evictLru' as const), count: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pressure' as const), level: fc.constantFrom<MemoryPressureLevel>('normal', 'moderate', 'critical', 'emergency') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clearUnpinned' as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);
const config: fc.Arbitrary<Config> = fc.record({
  maxCacheBytes: fc.option(fc.integer({ min: 100, max: 2000 }), { nil: undefined }),
  moderateThreshold: fc.double({ min: 0.3, max: 0.9, noNaN: true }),
  gap: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
  evictionBatchSize: fc.integer({ min: 1, max: 5 }),
});

interface ModelEntry {
  value: string;
  size: number;
  lastUse: number;
  uses: number;
}

/** The order of victims the contract states, for the strategies it defines. */
const ORDERS: Partial<Record<EvictionStrategy, (a: ModelEntry, b: ModelEntry) => number>> = {
  lru: (a, b) => a.lastUse - b.lastUse,
  lfu: (a, b) => a.uses - b.uses || a.lastUse - b.lastUse,
  size: (a, b) => b.size - a.size || a.lastUse - b.lastUse,
};

interface Config {
  maxCacheBytes: number | undefined;
  moderateThreshold: number;
  gap: number;
  evictionBatchSize: number;
}

function runSequence(strategy: EvictionStrategy, cfg: Config, ops: Op[]): number {
  const criticalThreshold = Math.min(1, cfg.moderateThreshold + cfg.gap);
  const max = cfg.maxCacheBytes;
  const batch = cfg.evictionBatchSize;
  const cache = new MemoryManager<string, string>({
    strategy,
    maxCacheBytes: max,
    moderateThreshold: cfg.moderateThreshold,
    criticalThreshold,
    evictionBatchSize: batch,
  });
  const order = ORDERS[strategy];
  const model = new Map<string, ModelEntry>();
  const pins = new Set<string>();
  let tick = 0;
  let hits = 0;
  let misses = 0;
  let evictions = 0;
  let peak = 0;
  const violations: string[] = [];
  const bytesOf = (filter: (k: string) => boolean) => [...model].reduce((sum, [k, e]) => (filter(k) ? sum + e.size : sum), 0);

  /** The entry a `set` in progress is storing: a watermark pass may evict it before the model holds it. */
  let setting: { key: string; size: number } | undefined;
  cache.evictions.subscribe((event) => {
    const k = event.key as string;
    const size = setting?.key === k ? setting.size : model.get(k)?.size;
    if (size === undefined) violations.push(`evicted ${k}, which the model does not hold`);
    else if (size !== event.bytes) violations.push(`evicted ${k} with ${event.bytes} bytes, stored with ${size}`);
    if (pins.has(k)) violations.push(`evicted pinned ${k} (${event.reason})`);
    model.delete(k);
    evictions++;
  });

  /** The victims the model expects, in order, while `more(victim, index)` says to go on. */
  const predictVictims = (compare: (a: ModelEntry, b: ModelEntry) => number, more: (entry: ModelEntry, index: number) => boolean) => {
    const candidates = [...model].filter(([k]) => !pins.has(k)).sort(([, a], [, b]) => compare(a, b));
    const out: string[] = [];
    for (const [k, entry] of candidates) {
      if (!more(entry, out.length)) break;
      out.push(k);
    }
    return out;
  };
  const byRecency = (a: ModelEntry, b: ModelEntry) => a.lastUse - b.lastUse;

  let step = 0;
  for (const o of ops) {
    step++;
    const where = `step ${step} (${JSON.stringify(o)})`;
    switch (o.kind) {
      case 'set': {
        if (o.pin) pins.add(o.key);
        const pinned = pins.has(o.key);
        const before = model.get(o.key);
        const evictionsBefore = evictions;
        const refused = max !== undefined && !pinned && o.size + bytesOf((k) => pins.has(k)) > max;
        const value = `v${step}`;
        setting = { key: o.key, size: o.size };
        const stored = cache.set(o.key, value, { size: o.size, pin: o.pin });
        setting = undefined;
        if (refused) {
          assert.equal(stored, false, `${where}: a value that cannot fit must be refused`);
          assert.equal(evictions, evictionsBefore, `${where}: a refused value evicts nothing`);
        }
        assert.equal(stored, cache.has(o.key), `${where}: set returns whether the entry is present`);
        if (stored) {
          const uses = before === undefined ? 1 : pinned ? before.uses : before.uses + 1;
          const lastUse = pinned && before !== undefined ? before.lastUse : tick++;
          model.set(o.key, { value, size: o.size, lastUse, uses });
          peak = Math.max(peak, bytesOf(() => true));
        } else {
          model.delete(o.key);
        }
        break;
      }
      case 'get': {
        const entry = model.get(o.key);
        assert.equal(cache.get(o.key), entry?.value, where);
        if (entry === undefined) misses++;
        else {
          hits++;
          if (!pins.has(o.key)) {
            entry.lastUse = tick++;
            entry.uses++;
          }
        }
        break;
      }
      case 'delete':
        assert.equal(cache.delete(o.key), model.delete(o.key), where);
        break;
      case 'pin':
        cache.pin(o.key);
        pins.add(o.key);
        break;
      case 'unpin': {
        const wasPinned = pins.delete(o.key);
        const entry = model.get(o.key);
        if (wasPinned && entry !== undefined) entry.lastUse = tick++;
        cache.unpin(o.key);
        break;
      }
      case 'evict': {
        const expected = order === undefined ? undefined : predictVictims(order, (_, i) => i < o.count);
        const evicted = cache.evict(o.count);
        if (expected !== undefined) assert.deepEqual(evicted, expected, `${where}: ${strategy} order`);
        break;
      }
      case 'evictLru': {
        const expected = predictVictims(byRecency, (_, i) => i < o.count);
        assert.deepEqual(cache.evictLeastRecentlyUsed(o.count), expected, `${where}: recency order`);
        break;
      }
      case 'pressure': {
        let expected: string[] | undefined;
        if (order !== undefined) {
          const unpinnedBytes = bytesOf((k) => !pins.has(k));
          let freed = 0;
          // Emergency evicts everything unpinned, least recently used first.
          expected = predictVictims(o.level === 'emergency' ? byRecency : order, (entry, i) => {
            if (o.level === 'normal') return false;
            if (o.level === 'moderate') return i < batch;
            if (o.level === 'emergency') return true;
            const go = freed < unpinnedBytes / 2 || i < batch;
            if (go) freed += entry.size;
            return go;
          });
        }
        const evicted = cache.handlePressure(o.level);
        if (expected !== undefined) {
          // Emergency under a strategy other than lru goes in slot order: compare the sets.
          if (o.level === 'emergency' && strategy !== 'lru') assert.deepEqual([...evicted].sort(), [...expected].sort(), where);
          else assert.deepEqual(evicted, expected, `${where}: ${strategy} order under pressure`);
        }
        break;
      }
      case 'clearUnpinned': {
        const unpinned = [...model.keys()].filter((k) => !pins.has(k)).length;
        assert.equal(cache.clearUnpinned(), unpinned, where);
        break;
      }
      case 'clear':
        cache.clear();
        model.clear();
        pins.clear();
        break;
    }

    // Invariants after every step.
    assert.deepEqual(violations, [], where);
    for (const k of KEYS) {
      assert.equal(cache.has(k), model.has(k), `${where}: presence of ${k}`);
      assert.equal(cache.peek(k), model.get(k)?.value, `${where}: value of ${k}`);
    }
    const m = cache.metrics;
    const total = bytesOf(() => true);
    const pinnedBytes = bytesOf((k) => pins.has(k));
    assert.equal(m.currentUsage, total, `${where}: currentUsage is the sum of stored sizes`);
    assert.equal(m.entryCount, model.size, where);
    assert.equal(cache.size, model.size, where);
    assert.equal(m.pinnedBytes, pinnedBytes, `${where}: pinnedBytes`);
    assert.equal(m.pinnedCount, [...model.keys()].filter((k) => pins.has(k)).length, `${where}: pinnedCount`);
    assert.deepEqual(new Set(cache.pinnedKeys), pins, `${where}: pinnedKeys`);
    assert.equal(m.hits, hits, where);
    assert.equal(m.misses, misses, where);
    assert.equal(m.evictionCount, evictions, where);
    assert.ok(m.maxUsage >= m.currentUsage && m.maxUsage >= peak, `${where}: maxUsage ${m.maxUsage} is the peak`);
    if (max !== undefined) {
      assert.ok(total - pinnedBytes <= max, `${where}: unpinned bytes ${total - pinnedBytes} within the budget ${max}`);
      assert.ok(total <= max || total === pinnedBytes, `${where}: over budget (${total} > ${max}) only on pinned bytes`);
    }
  }
  return ops.length;
}

for (const strategy of STRATEGIES) {
  describe(`MemoryManager properties (${strategy})`, () => {
    it(`keeps exact accounting, pins and the budget over random operation sequences (>= ${MIN_STEPS_PER_STRATEGY} steps)`, () => {
      let steps = 0;
      fc.assert(
        fc.property(config, fc.array(op, { minLength: 30, maxLength: 70 }), (cfg, ops) => {
          steps += runSequence(strategy, cfg, ops);
        }),
        { numRuns: RUNS },
      );
      assert.ok(steps >= MIN_STEPS_PER_STRATEGY, `ran ${steps} steps`);
    });
  });
}
