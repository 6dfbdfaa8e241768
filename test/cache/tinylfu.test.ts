// W-TinyLFU (`strategy: 'tinylfu'`): the frequency sketch, key hashing, the
// region structure, and the behaviour that sets it apart from LRU (scan and
// loop resistance, admission by frequency, adaptation). The behaviour shared
// with every strategy (budget, pins, pressure, accounting, leaks) is tested
// by the suites that iterate the strategy registry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { MemoryManager } from '../../src/cache/memory-manager.js';
import type { EvictionStrategy } from '../../src/cache/policies/registry.js';
import { EVICTION_STRATEGIES } from '../../src/cache/policies/registry.js';
import { FrequencySketch } from '../../src/cache/policies/tinylfu/frequency-sketch.js';
import { createKeyHasher } from '../../src/cache/policies/tinylfu/key-hash.js';
import { WTinyLfuPolicy } from '../../src/cache/policies/tinylfu/w-tinylfu-policy.js';
import { STAMP_LIMIT, StampModel } from './stamp-model.js';
import { collectGarbage, needsGc } from '../helpers/gc.js';


/** A read-through cache of unit-size entries holding exactly `capacity` entries. */
function unitCache(strategy: EvictionStrategy, capacity: number): MemoryManager<number, boolean> {
  return new MemoryManager<number, boolean>({
    strategy,
    maxCacheBytes: capacity + 0.5,
    moderateThreshold: 1 - 0.1 / capacity,
    criticalThreshold: 1,
  });
}

function request(cache: MemoryManager<number, boolean>, key: number): boolean {
  if (cache.get(key) !== undefined) return true;
  cache.set(key, true, { size: 1 });
  return false;
}

/** A tiny seeded generator, so the tests are deterministic. */
/**
 * Catches the tinylfu policies caches create, through their prototype's
 * `add` (the real method runs), until `restore` is called.
 */
function catchPolicies(): { policies: WTinyLfuPolicy[]; restore: () => void } {
  const policies: WTinyLfuPolicy[] = [];
  const add = Object.getOwnPropertyDescriptor(WTinyLfuPolicy.prototype, 'add')!.value as WTinyLfuPolicy['add'];
  WTinyLfuPolicy.prototype.add = function (this: WTinyLfuPolicy, ...args: Parameters<WTinyLfuPolicy['add']>) {
    if (!policies.includes(this)) policies.push(this);
    add.apply(this, args);
  };
  return { policies, restore: () => (WTinyLfuPolicy.prototype.add = add) };
}

/** Requests each of `keys` in turn (read-through); the cache's hit ratio after them. */
function hitRatioOver(cache: MemoryManager<number, boolean>, keys: Iterable<number>): number {
  for (const key of keys) request(cache, key);
  const { hits, misses } = cache.metrics;
  return hits / (hits + misses);
}

/** Keys 0 to `count` - 1 in order, `passes` times. */
function* loop(count: number, passes: number): Generator<number> {
  for (let pass = 0; pass < passes; pass++) for (let k = 0; k < count; k++) yield k;
}

function random(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

describe('FrequencySketch', () => {
  it('counts occurrences per key and saturates at 15', () => {
    const sketch = new FrequencySketch(1024);
    const hash = createKeyHasher(7);
    for (let i = 0; i < 5; i++) sketch.increment(hash('a'));
    assert.equal(sketch.frequency(hash('a')), 5);
    for (let i = 0; i < 30; i++) sketch.increment(hash('a'));
    assert.equal(sketch.frequency(hash('a')), 15);
    assert.equal(sketch.frequency(hash('never seen')), 0);
  });

  it('rarely over-estimates: other keys stay near their true count', () => {
    const sketch = new FrequencySketch(1024);
    const hash = createKeyHasher(11);
    for (let k = 0; k < 1024; k++) sketch.increment(hash(k));
    let exact = 0;
    for (let k = 0; k < 1024; k++) if (sketch.frequency(hash(k)) === 1) exact++;
    assert.ok(exact > 950, `only ${exact} of 1024 keys seen once are estimated at 1`);
  });

  it('spreads hashes whose low 4 bits are zero (as tinylfu passes them) over the whole table', () => {
    const sketch = new FrequencySketch(1024);
    const hash = createKeyHasher(17);
    // Twice as many keys as the table is sized for: crowded, but within one
    // aging period. Spread over a quarter of the blocks (as when the block
    // comes from the hash's low bits), fewer than 75% stay exact.
    const hashes = Array.from({ length: 2048 }, (_, k) => hash(k) & ~15);
    for (const h of hashes) sketch.increment(h);
    assert.equal(sketch.aged, false);
    let exact = 0;
    for (const h of hashes) if (sketch.frequency(h) === 1) exact++;
    assert.ok(exact > 1950, `only ${exact} of 2048 keys seen once are estimated at 1`);
  });

  it('halves every counter after 5 increments per expected entry (aging)', () => {
    const sketch = new FrequencySketch(16);
    const hash = createKeyHasher(3);
    assert.equal(sketch.samplePeriod, 80);
    for (let i = 0; i < 12; i++) sketch.increment(hash('hot'));
    assert.equal(sketch.frequency(hash('hot')), 12);
    assert.equal(sketch.aged, false);
    // 80 increments in all trigger the halving.
    for (let k = 0; sketch.additions < 79 && k < 1000; k++) sketch.increment(hash(`cold${k}`));
    assert.equal(sketch.aged, false);
    sketch.increment(hash('other'));
    assert.equal(sketch.aged, true);
    assert.equal(sketch.frequency(hash('hot')), 6);
  });

  it('returns each key\'s estimate after its increment, aged when a halving falls inside a batch', () => {
    const sketch = new FrequencySketch(16);
    const hash = createKeyHasher(13);
    const a = hash('a') & ~15;
    assert.equal(sketch.increment(a), 1);
    assert.equal(sketch.increment(a), 2);
    const start = sketch.halvings;
    // 78 more increments, one batch: the 80th (sample period 80) halves.
    // The batch takes hashes with their low 4 bits clear and writes each
    // key's estimate there.
    const hashes = new Int32Array(78);
    hashes[0] = a;
    for (let i = 1; i < 78; i++) hashes[i] = hash(`cold${i}`) & ~15;
    const given = hashes.slice();
    sketch.incrementAll(hashes, 78);
    assert.equal(sketch.halvings, start + 1);
    for (let i = 0; i < 78; i++) assert.equal(hashes[i]! & ~15, given[i], `key ${i} keeps its hash bits`);
    // 'a' was at 3 right after its increment; the halving since makes it 1,
    // which is what the sketch says now.
    assert.equal(hashes[0]! & 15, 1);
    assert.equal(sketch.frequency(given[0]!), 1);
    for (let i = 1; i < 78; i++) assert.equal(hashes[i]! & 15, sketch.frequency(given[i]!), `key ${i}`);
    // Saturation: the estimate stays 15.
    for (let i = 0; i < 20; i++) sketch.increment(hash('hot'));
    assert.equal(sketch.increment(hash('hot')), 15);
    // A reset counts as four halvings: any estimate taken before ages to 0.
    sketch.reset();
    assert.equal(sketch.halvings, start + 5);
  });

  it('grows with the expected entries (never shrinks) and forgets counts when it grows', () => {
    const sketch = new FrequencySketch(100);
    assert.equal(sketch.capacity, 128);
    sketch.increment(42);
    sketch.ensureCapacity(50);
    assert.equal(sketch.capacity, 128);
    assert.equal(sketch.frequency(42), 1);
    sketch.ensureCapacity(1000);
    assert.equal(sketch.capacity, 1024);
    assert.equal(sketch.frequency(42), 0);
  });
});

describe('key hashing', () => {
  it('hashes equal keys equally: strings, numbers (0 and -0, every NaN), bigint, booleans, null, undefined', () => {
    const hash = createKeyHasher(123);
    assert.equal(hash('abc'), hash('ab' + 'c'));
    assert.equal(hash(0), hash(-0));
    assert.equal(hash(NaN), hash(Number('x')));
    assert.equal(hash(1.5), hash(3 / 2));
    assert.equal(hash(10n ** 30n), hash(10n ** 30n));
    assert.equal(hash(Symbol.for('s')), hash(Symbol.for('s')));
    for (const k of [true, false, null, undefined]) assert.equal(hash(k), hash(k));
    assert.notEqual(hash(1), hash('1'));
    assert.notEqual(hash(true), hash('true'));
  });

  it('hashes objects, functions and symbols by identity', () => {
    const hash = createKeyHasher(5);
    const a = { id: 1 };
    const s = Symbol('s');
    const f = () => 1;
    assert.equal(hash(a), hash(a));
    assert.notEqual(hash(a), hash({ id: 1 }));
    assert.equal(hash(s), hash(s));
    assert.notEqual(hash(s), hash(Symbol('s')));
    assert.equal(hash(f), hash(f));
  });

  it('mixes a per-instance seed in, so colliding keys cannot be precomputed for every cache', () => {
    const one = createKeyHasher();
    const other = createKeyHasher();
    let same = 0;
    for (let k = 0; k < 200; k++) if (one(`key${k}`) === other(`key${k}`)) same++;
    assert.ok(same < 3, `${same} of 200 keys hash alike under two random seeds`);
    // Same seed, same function (tests and the benchmark rely on it).
    assert.equal(createKeyHasher(9)('x'), createKeyHasher(9)('x'));
  });

  it('gives int32 hashes (which the engine keeps unboxed), for every kind of key', () => {
    const hash = createKeyHasher();
    const keys: unknown[] = [{}, () => 1, Symbol('s'), 10n, null, undefined, true, 1.5, NaN, -0];
    for (let k = 0; k < 1000; k++) keys.push(k, `key${k}`, k * 1e9, -k);
    for (const key of keys) {
      const h = hash(key);
      assert.equal(h, h | 0, `hash of ${String(key)} is ${h}`);
    }
  });

  it('spreads sequential keys over the low bits', () => {
    const hash = createKeyHasher(1);
    const buckets = new Array<number>(64).fill(0);
    for (let k = 0; k < 64_000; k++) buckets[hash(k) & 63]!++;
    assert.ok(Math.min(...buckets) > 850 && Math.max(...buckets) < 1150, `buckets ${Math.min(...buckets)}..${Math.max(...buckets)}`);
  });

  it('does not keep object keys alive', needsGc, async () => {
    const hash = createKeyHasher();
    let ref: WeakRef<object>;
    (() => {
      const key = { big: new Array(1000).fill(0) };
      ref = new WeakRef(key);
      hash(key);
    })();
    for (let i = 0; i < 10 && ref!.deref() !== undefined; i++) {
      await tick();
      collectGarbage();
    }
    assert.equal(ref!.deref(), undefined);
  });
});

describe('W-TinyLFU regions', () => {
  /** A policy driven directly, over unit or given sizes. */
  function harness(maxBytes: number, firstStamp = 0) {
    const sizes: number[] = [0];
    const context = {
      oldest: () => 0,
      newer: () => 0,
      sizeOf: (slot: number) => sizes[slot]!,
      maxBytes,
    };
    let capacity = 4096;
    const policy = new WTinyLfuPolicy(context, capacity, { maxBytes, seed: 1, firstStamp });
    const add = (key: unknown, size = 1): number => {
      sizes.push(size);
      const slot = sizes.length - 1;
      // Grown as the cache grows its slots.
      if (slot >= capacity) policy.grow((capacity *= 2));
      policy.add(slot, key, size);
      return slot;
    };
    /** Adds `key` into a slot a removed entry left free. */
    const addInto = (slot: number, key: unknown, size = 1): void => {
      sizes[slot] = size;
      policy.add(slot, key, size);
    };
    /** Takes the entry in `slot` out of the order and puts it back, with its size, as the cache does. */
    const remove = (slot: number): void => policy.remove(slot, sizes[slot]!);
    const readd = (slot: number): void => policy.readd(slot, sizes[slot]!);
    return { policy, add, addInto, remove, readd };
  }

  it('keeps the window near 1% of the budget and protected within 80% of the main region, in bytes', () => {
    const { policy, add } = harness(10_000);
    const slots: number[] = [];
    for (let k = 0; k < 1000; k++) slots.push(add(k, 10));
    // Use every entry once: probation entries move to protected.
    for (const slot of slots) policy.touch(slot);
    const r = policy.regions;
    assert.ok(r.window <= 100 + 10, `window ${r.window} bytes`);
    assert.ok(r.protected <= 0.8 * 9900, `protected ${r.protected} bytes`);
    assert.equal(r.window + r.candidates + r.probation + r.protected, 10_000);
  });

  it('while the cache fills up, the window\'s oldest entries beyond its share join probation a batch at a time, a used one getting its second chance', () => {
    // A share of 100 entries; the window may exceed it by a batch of 64 before it drains.
    const { policy, add, remove } = harness(10_000);
    const slots: number[] = [];
    for (let k = 0; k < 164; k++) slots.push(add(k));
    assert.deepEqual(policy.regions, { window: 164, candidates: 0, probation: 0, protected: 0 });
    const used = slots[10]!;
    policy.touch(used);
    slots.push(add(164));
    // Drained back to its share in one pass, oldest first: 65 entries, the used one back at the window's recent end instead.
    assert.deepEqual(policy.regions, { window: 100, candidates: 0, probation: 65, protected: 0 });
    const drained = slots.slice(0, 66).filter((slot) => slot !== used);
    assert.deepEqual(drained.map((slot) => policy.regionOf(slot)), drained.map(() => 'probation'));
    assert.equal(policy.regionOf(used), 'window');
    assert.deepEqual(slots.slice(66).map((slot) => policy.regionOf(slot)), slots.slice(66).map(() => 'window'));
    // The first eviction: the window's overflow joins probation but one entry, which duels, as a full cache's last insertion
    // leaves it. Probation's oldest (seen once, as the candidate) leaves; the candidate is admitted.
    for (let k = 165; k < 200; k++) slots.push(add(k));
    const victim = policy.victim();
    assert.equal(policy.regions.window, 101);
    assert.equal(victim, slots[0]);
    remove(victim);
    assert.deepEqual(policy.regions, { window: 100, candidates: 0, probation: 99, protected: 0 });
  });

  it('once the cache evicts, the window\'s overflow becomes candidates a batch of 16 at a time, and duels in between take the window\'s oldest', () => {
    // A share of 100 entries (budget 10,000, unit entries). Held under the budget, as under the default watermarks: insertions
    // do not evict, the cache does in passes of its own.
    const { policy, add, remove } = harness(10_000);
    const slots: number[] = [];
    for (let k = 0; k < 5000; k++) slots.push(add(k));
    // The first eviction: the cache evicts from now on.
    remove(policy.victim());
    assert.equal(policy.regions.window, 100);
    // 16 entries over the share stay in the window; the 17th insertion drains the overflow, oldest first, used ones excepted.
    for (let k = 0; k < 16; k++) slots.push(add(`a${k}`));
    assert.deepEqual([policy.regions.window, policy.regions.candidates], [116, 0]);
    const oldest = slots.filter((slot) => policy.regionOf(slot) === 'window').slice(0, 18);
    const used = oldest[3]!;
    policy.touch(used);
    slots.push(add('a16'));
    assert.deepEqual([policy.regions.window, policy.regions.candidates], [100, 17]);
    const drained = oldest.filter((slot) => slot !== used);
    assert.deepEqual(drained.map((slot) => policy.regionOf(slot)), drained.map(() => 'candidate'));
    assert.equal(policy.regionOf(used), 'window', 'a used entry gets its second chance instead');
    // The candidates duel first, oldest first: each duel settles one (it leaves, or joins probation as its rival leaves).
    for (const candidate of drained) {
      remove(policy.victim());
      assert.notEqual(policy.regionOf(candidate), 'candidate');
    }
    assert.equal(policy.regions.candidates, 0);
    // Then, under the batch, the window's oldest duels directly, without a drain.
    for (let k = 0; k < 5; k++) slots.push(add(`b${k}`));
    const head = slots.find((slot) => policy.regionOf(slot) === 'window' && slot !== used)!;
    remove(policy.victim());
    assert.notEqual(policy.regionOf(head), 'window');
    assert.deepEqual([policy.regions.window, policy.regions.candidates], [104, 0]);
  });

  it('an entry used while in probation is promoted to protected (at the latest when it would be the victim)', () => {
    const { policy, add } = harness(1000);
    const first = add('first');
    const second = add('second');
    for (let k = 0; k < 50; k++) add(k);
    assert.equal(policy.regionOf(first), 'probation');
    policy.touch(first);
    // The promotion is deferred until probation's old end is examined: the
    // used entry is skipped (promoted) and the next unused one is the victim.
    assert.equal(policy.victim(), second);
    assert.equal(policy.regionOf(first), 'protected');
  });

  it('a full window offers its oldest unused entry to the duel: a used one gets its second chance first', () => {
    const { policy, add, remove } = harness(400);
    const slots: number[] = [];
    for (let k = 0; k < 400; k++) slots.push(add(k));
    // Settle the pending candidates and the overflow the last insertion left
    // in the window (which would be one), so the next duel draws from the
    // full window itself.
    while (policy.regions.candidates > 0 || policy.regions.window > 4) remove(policy.victim());
    const windowSlots = slots.filter((slot) => policy.regionOf(slot) === 'window');
    assert.ok(windowSlots.length > 1, `window of ${windowSlots.length}`);
    const [used, unused] = windowSlots as [number, number];
    policy.touch(used, 400 - windowSlots.length);
    remove(policy.victim());
    assert.equal(policy.regionOf(used), 'window', 'the used entry went round the window again');
    assert.equal(policy.regionOf(unused), 'probation', 'the next oldest, unused, was the one that left the window');
  });

  it('counts an entry\'s requests once per round until its list examines it, in the window as in the main region', () => {
    const { policy, add } = harness(1000);
    const main = add('main');
    for (let k = 0; k < 50; k++) add(k);
    assert.equal(policy.regionOf(main), 'probation');
    for (let i = 0; i < 5; i++) policy.touch(main, 'main');
    // The add and the first hit; the other four found it already marked.
    assert.equal(policy.frequencyOf('main'), 2);
    const fresh = add('fresh');
    assert.equal(policy.regionOf(fresh), 'window');
    for (let i = 0; i < 5; i++) policy.touch(fresh, 'fresh');
    assert.equal(policy.frequencyOf('fresh'), 2);
    // Once examined (promoted at probation's old end), it is counted again.
    policy.victim();
    assert.equal(policy.regionOf(main), 'protected');
    policy.touch(main, 'main');
    assert.equal(policy.frequencyOf('main'), 3);
    // In the window, once a drain reaches it at the old end (its second chance, back to the recent end): its hits before
    // that are not counted, the first after it is.
    for (let fillers = 0; policy.frequencyOf('fresh') === 2; fillers++) {
      assert.ok(fillers < 100, 'no drain of the window reached the used entry');
      add(`filler${fillers}`);
      assert.equal(policy.regionOf(fresh), 'window', 'a used window entry gets its second chance in the window');
      policy.touch(fresh, 'fresh');
    }
    policy.touch(fresh, 'fresh');
    assert.equal(policy.frequencyOf('fresh'), 3);
  });

  it('in a full cache, a new entry leaves the overflow of the window to the next duel instead of making it a candidate', () => {
    const { policy, add, remove } = harness(100);
    const stored = new Set<number>();
    for (let k = 0; k < 100; k++) stored.add(add(k));
    for (let k = 0; k < 50; k++) {
      const victim = policy.victim();
      remove(victim);
      stored.delete(victim);
      // The duel took the window's oldest entry (evicted, or admitted to
      // probation): the window is back within its share of one entry.
      if (k > 0) assert.equal(policy.regions.window, 1, `after eviction ${k}`);
      stored.add(add(`new${k}`));
      const r = policy.regions;
      assert.equal(r.candidates, 0, `after insertion ${k}`);
      assert.equal(r.window, 2, `after insertion ${k}`);
      assert.equal(r.window + r.probation + r.protected, 100);
    }
  });

  it('the oldest entry of a window left over its share is protected when used before its duel, as a candidate is', () => {
    const { policy, add } = harness(100);
    const slots: number[] = [];
    for (let k = 0; k < 100; k++) slots.push(add(k));
    // The window's share is one entry; the last insertion left it at two.
    const [older, newest] = slots.slice(-2) as [number, number];
    assert.equal(policy.regionOf(older), 'window');
    assert.equal(policy.regionOf(newest), 'window');
    policy.touch(newest);
    assert.equal(policy.regionOf(newest), 'window', 'the newest entry only gets its flag');
    policy.touch(older);
    assert.equal(policy.regionOf(older), 'protected');
    assert.equal(policy.regions.window, 1);
  });

  it('a lone used window entry offered to a duel gets its second chance in place (the list stays whole)', () => {
    // A budget of 50 gives the window half an entry: it holds only the newest.
    const { policy, add, remove } = harness(50);
    const stored = new Set<number>();
    for (let k = 0; k < 50; k++) stored.add(add(k));
    // Popular main-region entries: the window's entries lose their duels.
    for (let i = 0; i < 3; i++) for (const slot of stored) if (policy.regionOf(slot) !== 'window') policy.touch(slot);
    for (let k = 0; k < 200; k++) {
      // Two evictions in a row, the window's entries used before each: the
      // second duel finds the window's last entry alone, and used.
      for (let e = 0; e < 2; e++) {
        for (const slot of stored) if (policy.regionOf(slot) === 'window') policy.touch(slot);
        const victim = policy.victim();
        assert.equal(stored.has(victim), true, `eviction ${k}: victim ${victim} is stored`);
        remove(victim);
        stored.delete(victim);
      }
      stored.add(add(`new${k}`));
      stored.add(add(`newer${k}`));
      const r = policy.regions;
      assert.equal(r.window + r.candidates + r.probation + r.protected, 50);
    }
    // Every entry can still be reached: evicting all of them empties every region.
    while (stored.size > 0) {
      const victim = policy.victim();
      assert.equal(stored.has(victim), true, `victim ${victim} is stored`);
      remove(victim);
      stored.delete(victim);
    }
    const r = policy.regions;
    assert.equal(r.window + r.candidates + r.probation + r.protected, 0);
  });

  it('a protected entry unused for a whole aging period of the sketch is demoted to probation; a used one stays', () => {
    const { policy, add, remove } = harness(100);
    const slots: number[] = [];
    for (let k = 0; k < 100; k++) slots.push(add(k));
    // The ten oldest are used: the next eviction promotes them to protected.
    const favourites = slots.slice(0, 10);
    for (const slot of favourites) policy.touch(slot);
    remove(policy.victim());
    for (const slot of favourites) assert.equal(policy.regionOf(slot), 'protected');
    const [kept] = favourites as [number];
    const period = 5 * 100; // the sketch's aging period: 5 requests per expected entry
    // New keys come and go, one eviction each; only `kept` is used again.
    const churn = (from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        if (i % 50 === 0) policy.touch(kept);
        remove(policy.victim());
        add(`new${i}`);
      }
    };
    churn(0, period * 0.8);
    for (const slot of favourites) assert.equal(policy.regionOf(slot), 'protected', 'within the period, nothing moves');
    churn(period * 0.8, period * 1.5);
    assert.equal(policy.regionOf(kept), 'protected');
    for (const slot of favourites.slice(1)) assert.notEqual(policy.regionOf(slot), 'protected', `slot ${slot}`);
  });

  it('keeps exact recency in its use stamps (lastUse), through their renumbering near 2^31 - 1', () => {
    let renumbered = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const { policy, add, remove, readd } = harness(30, seed % 2 === 0 ? STAMP_LIMIT - 1 - seed * 7 : 0);
      const next = random(seed);
      const stamps = new StampModel(policy);
      const inOrder = new Map<number, boolean>(); // every stored slot: whether it is in the order (not pinned)
      for (let step = 0; step < 400; step++) {
        const roll = next();
        const stored = [...inOrder.keys()];
        const slot = stored[Math.floor(next() * stored.length)];
        const where = `seed ${seed}, step ${step}`;
        if (slot === undefined || roll < 0.2) {
          if (inOrder.size === 30) {
            const victim = policy.victim();
            remove(victim);
            inOrder.delete(victim);
            stamps.left(victim, where);
          }
          const added = add(`k${seed}-${step}`);
          inOrder.set(added, true);
          stamps.used(added);
        } else if (roll < 0.3) {
          // Pin or unpin.
          if (inOrder.get(slot)) {
            remove(slot);
            stamps.left(slot, where);
            policy.touch(slot); // a get of a pinned entry: ignored
            assert.equal(policy.lastUse(slot), 0, `${where}: touched while pinned`);
          } else {
            readd(slot);
            stamps.used(slot);
          }
          inOrder.set(slot, !inOrder.get(slot));
        } else {
          policy.touch(slot);
          if (inOrder.get(slot)) stamps.used(slot);
        }
        stamps.assertRecency(inOrder.keys(), where);
      }
      renumbered += stamps.renumbered;
    }
    assert.ok(renumbered >= 10, `renumbered ${renumbered} times`);
  });

  it('duels on the estimate each entry keeps from its last increment, which follows the sketch through batches and halvings', () => {
    // A window of 100 entries (new entries' increments applied with the
    // buffer, before their duels) and one of 3 (a new entry may duel while
    // its increment is still buffered).
    for (const budget of [10_000, 300]) {
      const { policy, add, addInto, remove } = harness(budget);
      const next = random(budget);
      const slotOf = new Map<number, number>();
      const keyOf = new Map<number, number>();
      let behind = 0;
      let checked = 0;
      for (let i = 0; i < 40_000; i++) {
        // Skewed keys: some hot, most seen once or twice.
        const key = Math.floor(next() ** 3 * 100_000);
        const slot = slotOf.get(key);
        if (slot !== undefined) {
          policy.touch(slot, key);
        } else {
          let added: number;
          if (slotOf.size >= budget) {
            added = policy.victim();
            remove(added);
            slotOf.delete(keyOf.get(added)!);
            addInto(added, key);
          } else {
            added = add(key);
          }
          slotOf.set(key, added);
          keyOf.set(added, key);
        }
        if (i % 5000 === 4999) {
          for (const [k, s] of slotOf) {
            const kept = policy.estimateOf(s);
            const sketch = policy.frequencyOf(k);
            assert.ok(kept <= sketch, `key ${k}: kept ${kept} above the sketch's ${sketch}`);
            if (kept < sketch) behind++;
            checked++;
          }
        }
      }
      // Only collisions on all four counters put the sketch above.
      assert.ok(behind < checked * 0.02, `budget ${budget}: ${behind} of ${checked} kept estimates below the sketch`);
      assert.ok(checked > 0);
    }
  });

  it('a slot that changes hands keeps its new key\'s estimate, not the one its old key\'s buffered hits bring', () => {
    const { policy, add, addInto, remove } = harness(300);
    for (let k = 0; k < 300; k++) add(k);
    // The newest entry sits in the window; its insertion and its first hit
    // are buffered (the other hits find it marked). Then it leaves, and a
    // new key takes its slot, its increment buffered too.
    const slot = add('old');
    for (let i = 0; i < 10; i++) policy.touch(slot, 'old');
    remove(slot);
    addInto(slot, 'new');
    // Applying the buffer now must not give the new key the old one's count.
    assert.equal(policy.frequencyOf('old'), 2);
    assert.equal(policy.estimateOf(slot), policy.frequencyOf('new'));
    assert.equal(policy.estimateOf(slot), 1);
  });

  it('a full buffer of hits drops further hits and is applied at the next insertion', () => {
    const { policy, add } = harness(10_000);
    const slots: number[] = [];
    for (let k = 0; k < 200; k++) slots.push(add(k));
    add(200);
    const kept = (): number[] => slots.slice(0, 100).map((slot) => policy.estimateOf(slot));
    // `estimateOf` applies the buffer (the insertions' increments): empty from here.
    const before = kept();
    // 100 first hits: 64 buffered, 36 dropped (`estimateOf` applies the buffer: not read until the insertion).
    for (let k = 0; k < 100; k++) policy.touch(slots[k]!, k);
    add(201);
    const raised = kept().map((e, i) => e - before[i]!);
    assert.equal(raised.filter((d) => d === 1).length, 64, 'the buffered hits are applied at the insertion');
    assert.equal(raised.filter((d) => d === 0).length, 36, 'the hits past a full buffer were dropped');
  });

  it('a new entry whose increment is still buffered duels with it counted', () => {
    // A small window (its share soon climbs to 0). Here the entry duels
    // right after its insertion, its increment still in the buffer: the
    // other window entry is deleted, so it is the window's only entry, left
    // over its share for the next eviction.
    const { policy, add, addInto, remove } = harness(50);
    const insert = (key: unknown): number => {
      const slot = policy.victim();
      remove(slot);
      addInto(slot, key);
      return slot;
    };
    for (let k = 0; k < 50; k++) add(k);
    for (let k = 50; k < 700; k++) insert(k);
    // A key requested 7 times, each a miss (a hit counts once until its
    // list examines it), each time deleted after.
    for (let i = 0; i < 7; i++) {
      const first = insert('popular');
      remove(first);
      addInto(first, `filler${i}`);
    }
    let other = 0;
    for (let k = 700; k < 710; k++) other = insert(k);
    assert.equal(policy.frequencyOf('popular'), 7);
    const back = insert('popular');
    // The other window entry, unless the duel that made room took it, is deleted.
    if (other !== back && policy.regionOf(other) === 'window') remove(other);
    assert.equal(policy.regions.window, 1);
    assert.equal(policy.regionOf(back), 'window');
    // It wins against probation's oldest (seen once): counted 8 times, not 0.
    const loser = policy.victim();
    assert.notEqual(loser, back);
    assert.equal(policy.regionOf(loser), 'probation');
    assert.equal(policy.estimateOf(back), 8);
  });

  for (const evicted of [false, true]) {
    const where = evicted ? 'once the cache evicts' : 'while the cache fills up';
    it(`a hit that falls on a climbing step which drains its entry out of the window leaves it where the drain put it, ${where}`, () => {
      // The hit used to read the entry's flags before the hill-climbing step
      // it triggers, then write the stale region back: the entry sat in the
      // candidates' list with flags saying "window", and the next drain of
      // the window looped forever.
      const fill = (h: ReturnType<typeof harness>): number[] => {
        const slots: number[] = [];
        for (let k = 0; k < 1000; k++) slots.push(h.add(k));
        // One eviction: from then on the window's overflow becomes candidates.
        if (evicted) h.remove(h.policy.victim());
        return slots;
      };
      // A twin with the same seed finds the request on which the climber,
      // starting by shrinking the window, first runs on a full cache.
      const twin = harness(1000);
      const twinSlots = fill(twin);
      let requests = 1000;
      while (twin.policy.regions.window > 2) {
        twin.policy.touch(twinSlots[1]!, 1);
        requests++;
        assert.ok(requests < 1_000_000, 'the climber never shrank the window');
      }
      // Replay up to the request before it; that request is a first hit on
      // a window entry (neither its oldest nor its newest) that the step
      // drains.
      const h = harness(1000);
      const slots = fill(h);
      for (let r = 1001; r < requests; r++) h.policy.touch(slots[1]!, 1);
      const window = slots.filter((slot) => h.policy.regionOf(slot) === 'window');
      assert.ok(window.length >= 3, `window of ${window.length}`);
      const hit = window[1]!;
      h.policy.touch(hit, slots.indexOf(hit));
      assert.ok(h.policy.regions.window <= 2, 'the hit ran the climbing step');
      if (evicted) {
        assert.equal(h.policy.regionOf(hit), 'protected', 'used while awaiting admission: protected');
      } else {
        // Every entry is admitted while the cache fills up: the drain put it in probation, where a hit only marks it.
        assert.equal(h.policy.regionOf(hit), 'probation', 'drained while the cache fills up: probation');
      }
      // Regions by flags add up to the bytes of each region's list.
      const sums = { window: 0, candidate: 0, probation: 0, protected: 0 };
      for (const slot of slots) if (h.policy.regionOf(slot) !== undefined) sums[h.policy.regionOf(slot)!]++;
      const r = h.policy.regions;
      assert.deepEqual([sums.window, sums.candidate, sums.probation, sums.protected], [r.window, r.candidates, r.probation, r.protected]);
    });
  }

  it('victim() is stable until the order changes, and remove() admits a winning candidate', () => {
    const { policy, add, remove } = harness(100);
    const slots: number[] = [];
    for (let k = 0; k < 60; k++) slots.push(add(k));
    // The cache has evicted (and holds over half its budget): the window's overflow now awaits its duel as a candidate.
    remove(policy.victim());
    const popular = add('popular');
    for (let i = 0; i < 5; i++) policy.touch(popular); // in the window: frequency (and a second chance) only
    // New entries push it out of the window (after its second chance): a candidate (the others' duels are settled first).
    for (let k = 0; k < 10 && policy.regionOf(popular) !== 'candidate'; k++) {
      while (policy.regions.candidates > 0) remove(policy.victim());
      slots.push(add(`new${k}`));
    }
    assert.equal(policy.regionOf(popular), 'candidate');
    // The window's other overflow, drained with it, is deleted: it is the only candidate.
    for (const slot of slots) if (policy.regionOf(slot) === 'candidate') remove(slot);
    assert.equal(policy.regions.candidates, 1);
    const victim = policy.victim();
    assert.equal(policy.victim(), victim);
    assert.notEqual(victim, popular, 'the popular candidate must win its duel');
    remove(victim);
    assert.equal(policy.regionOf(popular), 'probation');
  });

  it('the candidates, kept at the old end of the window\'s list, stay apart from the window through drains, hits, removals and re-adds', () => {
    // The window's list holds the candidates, then the window's own entries, from a mark: every entry's region (its
    // flags) must agree with the regions' sums, whichever entry leaves the list (the one at the mark included). A mark
    // left on an entry that left would turn it back into a candidate at the next drain.
    const { policy, add, addInto, remove, readd } = harness(400);
    const next = random(5);
    const live = new Set<number>();
    const out: number[] = []; // removed (as pinned), to be re-added
    const free: number[] = [];
    const names = ['window', 'candidate', 'probation', 'protected'] as const;
    let sawCandidates = 0;
    for (let step = 0; step < 20_000; step++) {
      const roll = next();
      const any = [...live];
      const pick = any[Math.floor(next() * any.length)];
      if (roll < 0.45 || pick === undefined) {
        // An insertion; the cache makes room first (400 unit entries), through the duel.
        if (live.size >= 380) {
          const victim = policy.victim();
          remove(victim);
          live.delete(victim);
          free.push(victim);
        }
        const slot = free.pop();
        const key = `k${Math.floor(next() * 2000)}`;
        if (slot === undefined) live.add(add(key));
        else {
          addInto(slot, key);
          live.add(slot);
        }
      } else if (roll < 0.8) {
        policy.touch(pick);
      } else if (roll < 0.9) {
        remove(pick);
        live.delete(pick);
        if (next() < 0.5) free.push(pick);
        else out.push(pick);
      } else if (out.length !== 0) {
        const slot = out.pop()!;
        readd(slot);
        live.add(slot);
      }
      const sums = { window: 0, candidate: 0, probation: 0, protected: 0 };
      for (const slot of live) sums[policy.regionOf(slot)!]++;
      for (const slot of [...out, ...free]) assert.equal(policy.regionOf(slot), undefined, `step ${step}: slot ${slot} left the order`);
      const r = policy.regions;
      assert.deepEqual([r.window, r.candidates, r.probation, r.protected], names.map((n) => sums[n]), `step ${step}`);
      if (sums.candidate !== 0) sawCandidates++;
    }
    assert.ok(sawCandidates > 1000, `candidates were held on ${sawCandidates} steps`);
  });
});

describe('tinylfu behaviour (through MemoryManager)', () => {
  it('is a registered strategy, so every shared cache suite runs over it', () => {
    assert.ok(EVICTION_STRATEGIES.includes('tinylfu'));
    assert.equal(new MemoryManager({ strategy: 'tinylfu' }).strategy, 'tinylfu');
  });

  it('a one-time scan does not flush the frequently used entries (LRU loses them all)', () => {
    const capacity = 100;
    const survivors: Record<string, number> = {};
    for (const strategy of ['lru', 'tinylfu'] as const) {
      const cache = unitCache(strategy, capacity);
      // A working set of 50 keys, each used many times.
      for (let round = 0; round < 20; round++) for (let k = 0; k < 50; k++) request(cache, k);
      for (let k = 1000; k < 1000 + 10 * capacity; k++) request(cache, k);
      survivors[strategy] = Array.from({ length: 50 }, (_, k) => k).filter((k) => cache.has(k)).length;
    }
    assert.equal(survivors.lru, 0);
    assert.ok(survivors.tinylfu! >= 48, `${survivors.tinylfu} of 50 hot keys survived the scan`);
  });

  it('keeps most of a loop slightly larger than the cache (LRU hits nothing)', () => {
    const capacity = 200;
    const ratios: Record<string, number> = {};
    for (const strategy of ['lru', 'tinylfu'] as const) {
      ratios[strategy] = hitRatioOver(unitCache(strategy, capacity), loop(capacity * 1.1, 30));
    }
    assert.equal(ratios.lru, 0);
    assert.ok(ratios.tinylfu! >= 0.8, `loop hit ratio ${ratios.tinylfu}`);
  });

  it('beats LRU on a skewed (Zipf-like) workload', () => {
    const capacity = 100;
    const keys = 10_000;
    const next = random(42);
    // Zipf-like ranks by inverse-power sampling.
    const draws = Array.from({ length: 100_000 }, () => Math.floor(Math.pow(keys, next()) - 1));
    const ratios: Record<string, number> = {};
    for (const strategy of ['lru', 'tinylfu'] as const) {
      ratios[strategy] = hitRatioOver(unitCache(strategy, capacity), draws);
    }
    assert.ok(ratios.tinylfu! > ratios.lru! + 0.03, `tinylfu ${ratios.tinylfu} vs lru ${ratios.lru}`);
  });

  it('adapts when the popular keys change: the new ones become resident', () => {
    const capacity = 100;
    const cache = unitCache('tinylfu', capacity);
    for (let round = 0; round < 50; round++) for (let k = 0; k < 50; k++) request(cache, k);
    // The old favourites are never asked for again; a new set is, often.
    for (let round = 0; round < 100; round++) for (let k = 500; k < 550; k++) request(cache, k);
    const resident = Array.from({ length: 50 }, (_, i) => 500 + i).filter((k) => cache.has(k)).length;
    assert.ok(resident >= 48, `${resident} of 50 new favourites resident`);
  });

  it('admits a frequently requested key over a rarely used one even when it is new', () => {
    const cache = unitCache('tinylfu', 20);
    for (let k = 0; k < 20; k++) request(cache, k);
    for (let i = 0; i < 10; i++) request(cache, 999);
    assert.equal(cache.has(999), true);
    assert.equal(cache.size, 20);
  });

  it('works with byte sizes: a budget of mixed sizes stays exact and within bounds', () => {
    const cache = new MemoryManager<string, string>({ strategy: 'tinylfu', maxCacheBytes: 5000 });
    const next = random(7);
    for (let i = 0; i < 5000; i++) {
      const key = `k${Math.floor(next() * 300)}`;
      if (cache.get(key) === undefined) cache.set(key, key, { size: 1 + Math.floor(next() * 200) });
      const m = cache.metrics;
      assert.ok(m.currentUsage <= 5000, `usage ${m.currentUsage}`);
    }
    let sum = 0;
    for (let k = 0; k < 300; k++) if (cache.has(`k${k}`)) sum++;
    assert.equal(sum, cache.size);
  });

  it('its regions hold exactly the unpinned bytes the cache accounts, through replacements, pins, deletes and evictions', () => {
    // The cache hands `add` and `remove` each entry's bytes: a wrong figure
    // would not show in the cache's own accounting, only in the policy's
    // regions, which size the window and protected. The policy instance
    // is caught through its prototype's `add` (the real method runs).
    const { policies, restore } = catchPolicies();
    try {
      const cache = new MemoryManager<string, number>({ strategy: 'tinylfu', maxCacheBytes: 2000, moderateThreshold: 0.8, criticalThreshold: 0.9 });
      const next = random(11);
      const held = (): number => {
        const r = policies[0]!.regions;
        return r.window + r.candidates + r.probation + r.protected;
      };
      for (let step = 0; step < 20_000; step++) {
        const key = `k${Math.floor(next() * 120)}`;
        const roll = next();
        if (roll < 0.55) cache.set(key, step, { size: 1 + Math.floor(next() * 90) });
        else if (roll < 0.8) cache.get(key);
        else if (roll < 0.86) cache.delete(key);
        else if (roll < 0.91) cache.pin(key);
        else if (roll < 0.97) cache.unpin(key);
        else if (roll < 0.98) cache.evict(3);
        else if (roll < 0.99) cache.evictLeastRecentlyUsed(3);
        else if (roll < 0.995) cache.handlePressure('critical');
        else cache.clearUnpinned();
        const m = cache.metrics;
        assert.equal(held(), m.currentUsage - m.pinnedBytes, `step ${step}`);
      }
      assert.equal(policies.length, 1);
    } finally {
      restore();
    }
  });

  it('with the default watermarks (0.7/0.9), keeps most of a loop of 1.1x the budget (LRU hits nothing)', () => {
    // The watermark pass is where a full cache evicts here: the newcomers
    // must duel there too, or the loop flushes the cache as in LRU.
    const budget = 1000;
    const ratios: Record<string, number> = {};
    for (const strategy of ['lru', 'tinylfu'] as const) {
      ratios[strategy] = hitRatioOver(new MemoryManager<number, boolean>({ strategy, maxCacheBytes: budget }), loop(budget * 1.1, 40));
    }
    assert.equal(ratios.lru, 0);
    // The cache holds 70% of the budget: at best 700 of the 1100 keys.
    assert.ok(ratios.tinylfu! >= 0.5, `loop hit ratio ${ratios.tinylfu}`);
  });

  it('with the default watermarks, a one-time scan does not flush the frequently used entries', () => {
    const cache = new MemoryManager<number, boolean>({ strategy: 'tinylfu', maxCacheBytes: 100 });
    for (let round = 0; round < 20; round++) for (let k = 0; k < 40; k++) request(cache, k);
    for (let k = 1000; k < 2000; k++) request(cache, k);
    const survivors = Array.from({ length: 40 }, (_, k) => k).filter((k) => cache.has(k)).length;
    assert.ok(survivors >= 38, `${survivors} of 40 hot keys survived the scan`);
  });

  it('property: with the default watermarks and with watermarks off, under outside pressure, accounting stays exact, the budget holds, pins are never evicted, set returns whether the entry stayed, and a newcomer that loses its duel is evicted as pressure', () => {
    const { policies, restore } = catchPolicies();
    try {
      // The default watermarks, then watermarks off (only the budget evicts, as in the
      // benchmark's second table) with emergency pressure among the steps.
      const configs = [
        { name: 'default watermarks', options: { maxCacheBytes: 3000 }, emergency: false },
        { name: 'watermarks off', options: { maxCacheBytes: 3000.5, moderateThreshold: 1 - 0.1 / 3000, criticalThreshold: 1 }, emergency: true },
      ];
      for (const [config, seed] of configs.flatMap((c) => [3, 17, 29].map((seed) => [c, seed] as const))) {
        policies.length = 0;
        const cache = new MemoryManager<string, number>({ strategy: 'tinylfu', evictionBatchSize: 4, ...config.options });
        const evicted: string[] = [];
        const reasons = new Set<string>();
        cache.evictions.subscribe((e) => {
          evicted.push(String(e.key));
          reasons.add(e.reason);
        });
        const sizes = new Map<string, number>();
        const next = random(seed);
        let newcomerLost = 0;
        for (let step = 0; step < 15_000; step++) {
          // Skewed keys, so admission has frequencies to compare.
          const key = `k${Math.floor(Math.pow(400, next()))}`;
          const roll = next();
          // Pinned and stored before the step: stored after it, unless the step deleted or unpinned it.
          const pinnedBefore = cache.pinnedKeys.filter((k) => cache.has(k));
          evicted.length = 0;
          if (roll < 0.5) {
            const size = 1 + Math.floor(next() * 60);
            const was = cache.has(key);
            const stored = cache.set(key, step, { size });
            sizes.set(key, size);
            assert.equal(stored, cache.has(key), `step ${step}: set returned ${stored}`);
            if (!stored && !was && evicted.includes(key)) newcomerLost++;
          } else if (roll < 0.85) cache.get(key);
          else if (roll < 0.88) cache.delete(key);
          else if (roll < 0.91) cache.pin(key);
          else if (roll < 0.95) cache.unpin(key);
          else if (roll < 0.975) cache.handlePressure('moderate');
          else if (roll < 0.99) cache.handlePressure('critical');
          else if (config.emergency && roll < 0.992) cache.handlePressure('emergency');
          else cache.evict(2);
          for (const k of pinnedBefore) if (k !== key || roll < 0.85 || roll >= 0.95) assert.ok(cache.has(k), `step ${step} (roll ${roll}, key ${key}): pinned ${k} was evicted`);
          const m = cache.metrics;
          let sum = 0;
          for (const [k, size] of sizes) if (cache.has(k)) sum += size;
          assert.equal(m.currentUsage, sum, `${config.name}, step ${step}`);
          // The budget: only pinned bytes may keep the cache over it, once every unpinned entry is gone.
          assert.ok(m.currentUsage <= config.options.maxCacheBytes || m.currentUsage === m.pinnedBytes, `${config.name}, step ${step}: ${m.currentUsage} bytes held, ${m.pinnedBytes} pinned`);
          const r = policies[0]!.regions;
          assert.equal(r.window + r.candidates + r.probation + r.protected, m.currentUsage - m.pinnedBytes, `step ${step}: regions`);
        }
        // Both configurations went through the budget or the watermarks, and through pressure.
        assert.ok(reasons.has(config.emergency ? 'capacity' : 'pressure') && reasons.has('pressure'), `${config.name}, seed ${seed}: evicted for ${[...reasons].join(', ')}`);
        // Without watermarks a newcomer never duels in its own `set` (room is made before it is stored).
        if (!config.emergency) assert.ok(newcomerLost > 0, `seed ${seed}: no newcomer lost a duel at the watermark`);
      }
    } finally {
      restore();
    }
  });

  it('outside pressure (moderate, then critical) sheds newcomers seen once before the frequently used entries, under the default watermarks', () => {
    const cache = new MemoryManager<number, boolean>({ strategy: 'tinylfu', maxCacheBytes: 200 });
    // 60 hot keys, used many times, then a stream of keys seen once that keeps the cache at its watermark.
    for (let round = 0; round < 30; round++) for (let k = 0; k < 60; k++) request(cache, k);
    for (let k = 1000; k < 1400; k++) request(cache, k);
    const hot = () => Array.from({ length: 60 }, (_, k) => k).filter((k) => cache.has(k)).length;
    const before = hot();
    assert.ok(before >= 58, `${before} of 60 hot keys before the pressure`);
    const moderate = cache.handlePressure('moderate');
    assert.equal(moderate.length, 10);
    assert.deepEqual(moderate.filter((k) => k < 1000), [], 'moderate shed only keys seen once');
    const onceHeld = cache.size - hot();
    const critical = cache.handlePressure('critical');
    // Half the unpinned entries go (unit sizes): fewer than the keys seen once still held.
    assert.ok(critical.length < onceHeld, `critical shed ${critical.length} of ${cache.size + critical.length}, ${onceHeld} seen once`);
    assert.deepEqual(critical.filter((k) => k < 1000), [], 'critical shed only keys seen once');
  });

  it('emergency pressure under the default watermarks drops every unpinned entry', () => {
    const cache = new MemoryManager<number, boolean>({ strategy: 'tinylfu', maxCacheBytes: 500 });
    for (let i = 0; i < 5000; i++) request(cache, Math.floor(Math.pow(2000, (i * 7919 % 10007) / 10007)));
    cache.set(-1, true, { size: 1, pin: true });
    cache.handlePressure('emergency');
    assert.equal(cache.size, 1);
    assert.equal(cache.metrics.currentUsage, 1);
  });

  it('accepts keys of any type', () => {
    const cache = new MemoryManager<unknown, number>({ strategy: 'tinylfu', maxCacheBytes: 100 });
    const keys: unknown[] = ['s', 1, 1.5, -0, NaN, 10n, true, null, undefined, Symbol('x'), Symbol.for('y'), { o: 1 }, () => 0];
    keys.forEach((k, i) => cache.set(k, i, { size: 1 }));
    keys.forEach((k, i) => assert.equal(cache.get(k), i));
    assert.equal(cache.get(0), 3, '-0 and 0 are the same key');
  });
});
