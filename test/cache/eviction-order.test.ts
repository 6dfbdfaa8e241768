// The order each built-in strategy evicts in (`evict` follows it;
// `evictLeastRecentlyUsed` ignores it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheOf, fill, range } from './helpers.js';

describe('lru order', () => {
  it('evicts the least recently used (get or set) first', () => {
    const cache = cacheOf('lru');
    fill(cache, ['a', 'b', 'c', 'd'], 10);
    cache.get('a');
    cache.set('b', 'again', { size: 10 });
    assert.deepEqual(cache.evict(4), ['c', 'd', 'a', 'b']);
  });

  it('an unpinned entry rejoins as most recently used', () => {
    const cache = cacheOf('lru');
    fill(cache, ['a', 'b', 'c'], 10);
    cache.pin('a');
    cache.unpin('a');
    assert.deepEqual(cache.evict(3), ['b', 'c', 'a']);
  });
});

describe('lfu order', () => {
  it('evicts the fewest uses first, ties least recently used first', () => {
    const cache = cacheOf('lfu');
    fill(cache, ['a', 'b', 'c', 'd'], 10); // a1 b1 c1 d1
    cache.get('a');
    cache.get('a'); // a3
    cache.get('c'); // c2
    cache.get('b'); // b2, used after c
    assert.deepEqual(cache.evict(4), ['d', 'c', 'b', 'a']);
  });

  it('counts a replacing set as a use', () => {
    const cache = cacheOf('lfu');
    fill(cache, ['a', 'b'], 10);
    cache.set('a', 'again', { size: 10 });
    assert.deepEqual(cache.evict(2), ['b', 'a']);
  });

  it('keeps the count of an entry across a pin and unpin', () => {
    const cache = cacheOf('lfu');
    fill(cache, ['hot', 'x', 'y'], 10);
    for (let i = 0; i < 5; i++) cache.get('hot');
    cache.get('y');
    cache.pin('hot');
    cache.get('x');
    cache.get('x');
    cache.get('x'); // x4
    cache.unpin('hot'); // back with 6 uses
    assert.deepEqual(cache.evict(3), ['y', 'x', 'hot']);
  });

  it('follows counts over many distinct frequencies', () => {
    const cache = cacheOf<string>('lfu');
    const keys = range('k', 30);
    fill(cache, keys, 1);
    // k_i gets (i * 7) % 30 extra uses: distinct counts, in scrambled order.
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < keys.length; i++) if ((i * 7) % 30 > round) cache.get(keys[i]!);
    }
    const expected = [...keys].sort((a, b) => ((Number(a.slice(1)) * 7) % 30) - ((Number(b.slice(1)) * 7) % 30));
    assert.deepEqual(cache.evict(30), expected);
  });

  it('keeps the exact order over long random runs (stale use records compacted many times)', () => {
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const cache = cacheOf<string>('lfu');
    const model = new Map<string, { uses: number; lastUse: number }>();
    const pinned = new Set<string>();
    let tick = 0;
    const keys = range('k', 200);
    for (const key of keys) {
      cache.set(key, 1, { size: 1 });
      model.set(key, { uses: 1, lastUse: tick++ });
    }
    for (let step = 0; step < 30_000; step++) {
      const key = keys[Math.floor(Math.pow(random(), 2) * keys.length)]!;
      const roll = random();
      if (roll < 0.01) {
        cache.pin(key);
        pinned.add(key);
      } else if (roll < 0.02) {
        if (pinned.delete(key)) model.get(key)!.lastUse = tick++;
        cache.unpin(key);
      } else {
        cache.get(key);
        if (!pinned.has(key)) {
          const entry = model.get(key)!;
          entry.uses++;
          entry.lastUse = tick++;
        }
      }
    }
    const expected = [...model]
      .filter(([key]) => !pinned.has(key))
      .sort(([, a], [, b]) => a.uses - b.uses || a.lastUse - b.lastUse)
      .map(([key]) => key);
    assert.deepEqual(cache.evict(keys.length), expected);
  });
});

describe('size order', () => {
  it('evicts the largest first, ties least recently used first', () => {
    const cache = cacheOf('size');
    cache.set('small', 1, { size: 10 });
    cache.set('big1', 1, { size: 500 });
    cache.set('mid', 1, { size: 100 });
    cache.set('big2', 1, { size: 500 });
    cache.get('big1');
    assert.deepEqual(cache.evict(4), ['big2', 'big1', 'mid', 'small']);
  });

  it('follows a replacement that changes the size', () => {
    const cache = cacheOf('size');
    cache.set('a', 1, { size: 100 });
    cache.set('b', 1, { size: 50 });
    cache.set('a', 2, { size: 10 });
    assert.deepEqual(cache.evict(2), ['b', 'a']);
  });

  it('orders many distinct sizes', () => {
    const cache = cacheOf<string>('size');
    const sizes = Array.from({ length: 200 }, (_, i) => (i * 7919) % 1000);
    sizes.forEach((size, i) => cache.set(`k${i}`, 1, { size }));
    const evicted = cache.evict(200);
    const evictedSizes = evicted.map((k) => sizes[Number(k.slice(1))]!);
    assert.deepEqual(evictedSizes, [...sizes].sort((a, b) => b - a));
  });
});

describe('evictLeastRecentlyUsed ignores the strategy', () => {
  for (const strategy of ['lfu', 'size'] as const) {
    it(`under ${strategy}`, () => {
      const cache = cacheOf(strategy);
      cache.set('big-old', 1, { size: 1000 });
      cache.set('small-mid', 1, { size: 1 });
      cache.set('small-new', 1, { size: 1 });
      for (let i = 0; i < 5; i++) cache.get('big-old');
      cache.get('small-mid');
      assert.deepEqual(cache.evictLeastRecentlyUsed(3), ['small-new', 'big-old', 'small-mid']);
    });
  }
});
