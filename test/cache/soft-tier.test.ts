// The soft tier (softEviction): evicted values stay revivable until the
// garbage collector reclaims them, and the tier never keeps one alive.
// The collection tests need gc() (test/helpers/gc.ts says what happens without it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { MemoryManager } from '../../src/cache/memory-manager.js';
import { SoftTier } from '../../src/cache/soft-tier.js';
import { STRATEGIES } from './helpers.js';
import { collectGarbage, needsGc } from '../helpers/gc.js';

/** Collects until `ref` is cleared (finalization and WeakRef clearing can take a few cycles). */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 20 && ref.deref() !== undefined; i++) {
    await tick();
    collectGarbage();
  }
  return ref.deref() === undefined;
}

const NO_WATERMARKS = { moderateThreshold: 0.99, criticalThreshold: 1 } as const;

function softCache<K = string, V = { id: string; payload?: number[] }>(strategy: (typeof STRATEGIES)[number] = 'lru'): MemoryManager<K, V> {
  return new MemoryManager<K, V>({ strategy, maxCacheBytes: 300, softEviction: true, ...NO_WATERMARKS });
}

describe('soft tier (softEviction)', () => {
  it('rejects a softEviction that is not a boolean, naming the field', () => {
    assert.throws(() => new MemoryManager({ softEviction: 'yes' as unknown as boolean }), { name: 'TypeError', message: /softEviction.*"yes"/ });
  });

  for (const strategy of STRATEGIES) {
    it(`revives an evicted value on get as a soft hit, re-stored with its size (${strategy})`, () => {
      const cache = softCache(strategy);
      const a = { id: 'a' };
      cache.set('a', a, { size: 100 });
      cache.set('b', { id: 'b' }, { size: 100 });
      cache.set('c', { id: 'c' }, { size: 100 });
      cache.evict(3);
      assert.equal(cache.size, 0);
      assert.equal(cache.metrics.currentUsage, 0, 'held values count for nothing in the budget');
      // `a` is still referenced here, so the collector cannot have taken it.
      assert.equal(cache.get('a'), a);
      const m = cache.metrics;
      assert.equal(m.softHits, 1);
      assert.equal(m.hits, 1);
      assert.equal(m.misses, 0);
      assert.equal(cache.has('a'), true);
      assert.equal(m.currentUsage, 100);
      assert.equal(m.entryCount, 1);
      // Revived once: the tier no longer holds it, the cache does.
      cache.delete('a');
      assert.equal(cache.get('a'), undefined);
      assert.equal(cache.metrics.misses, 1);
    });
  }

  it('a revived value that needs room evicts others as a set would', () => {
    const cache = softCache();
    const events: unknown[] = [];
    cache.evictions.subscribe((e) => events.push(e.key));
    const a = { id: 'a' };
    cache.set('a', a, { size: 200 });
    cache.evict(1);
    cache.set('b', { id: 'b' }, { size: 150 });
    assert.equal(cache.get('a'), a);
    assert.deepEqual(events, ['a', 'b']);
    assert.equal(cache.metrics.currentUsage, 200);
  });

  it('delete and clear drop the held value; a set of the key replaces it', () => {
    const cache = softCache();
    const a = { id: 'a' };
    const b = { id: 'b' };
    cache.set('a', a, { size: 10 });
    cache.set('b', b, { size: 10 });
    cache.evict(2);
    assert.equal(cache.delete('a'), false, 'no stored entry');
    assert.equal(cache.get('a'), undefined, 'a deleted value never comes back');
    cache.clear();
    assert.equal(cache.get('b'), undefined);
    cache.set('c', { id: 'c-old' }, { size: 10 });
    cache.evict(1);
    const fresh = { id: 'c-new' };
    cache.set('c', fresh, { size: 10 });
    cache.delete('c');
    assert.equal(cache.get('c'), undefined, 'the old value must not resurface after the replacement was deleted');
    assert.equal(cache.metrics.softHits, 0);
  });

  it('emergency pressure drops the tier; moderate pressure keeps evicted values revivable', () => {
    const cache = softCache();
    const a = { id: 'a' };
    const b = { id: 'b' };
    cache.set('a', a, { size: 10 });
    cache.set('b', b, { size: 10 });
    cache.handlePressure('moderate');
    assert.equal(cache.size, 0);
    assert.equal(cache.get('a'), a);
    cache.handlePressure('emergency');
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('b'), undefined);
  });

  it('clearUnpinned leaves evicted values revivable', () => {
    const cache = softCache();
    const a = { id: 'a' };
    cache.set('a', a, { size: 10 });
    assert.equal(cache.clearUnpinned(), 1);
    assert.equal(cache.get('a'), a);
  });

  it('holds only objects: an evicted primitive is gone', () => {
    const cache = new MemoryManager<string, unknown>({ maxCacheBytes: 100, softEviction: true });
    cache.set('n', 42, { size: 10 });
    cache.set('s', 'text', { size: 10 });
    cache.set('f', () => 1, { size: 10 });
    cache.evict(3);
    assert.equal(cache.get('n'), undefined);
    assert.equal(cache.get('s'), undefined);
    assert.equal(typeof cache.get('f'), 'function');
  });

  it('without softEviction nothing is revived and softHits stays 0', () => {
    const cache = new MemoryManager<string, object>({ maxCacheBytes: 100 });
    const a = { id: 'a' };
    cache.set('a', a, { size: 10 });
    cache.evict(1);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.metrics.softHits, 0);
  });

  it('object keys work and are looked up by identity', () => {
    const cache = softCache<object, { id: string }>();
    const key = { k: 1 };
    const value = { id: 'v' };
    cache.set(key, value, { size: 10 });
    cache.evict(1);
    assert.equal(cache.get({ k: 1 }), undefined);
    assert.equal(cache.get(key), value);
  });

  describe('never keeps a value alive', needsGc, () => {
    it('an evicted value is collected once nothing else refers to it, and is then a miss', async () => {
      const cache = softCache<string, { id: string; payload: number[] }>();
      let ref: WeakRef<object>;
      (() => {
        const value = { id: 'a', payload: new Array(1000).fill(1) };
        ref = new WeakRef(value);
        cache.set('a', value, { size: 100 });
      })();
      cache.evict(1);
      assert.equal(await collected(ref!), true, 'the soft tier must not keep the value alive');
      assert.equal(cache.get('a'), undefined);
      assert.equal(cache.metrics.softHits, 0);
      assert.equal(cache.metrics.misses, 1);
    });

    it('a value whose object key is otherwise unreachable is collected with the key', async () => {
      const cache = softCache<object, { id: string; back: object }>();
      let valueRef: WeakRef<object>;
      let keyRef: WeakRef<object>;
      (() => {
        const key = { k: 1 };
        // The value points back at its key: a strong key record would form a cycle that kept both.
        const value = { id: 'a', back: key };
        keyRef = new WeakRef(key);
        valueRef = new WeakRef(value);
        cache.set(key, value, { size: 10 });
      })();
      cache.evict(1);
      assert.equal(await collected(valueRef!), true);
      assert.equal(await collected(keyRef!), true);
    });

    it('the tier forgets a collected value (FinalizationRegistry bookkeeping)', async () => {
      const tier = new SoftTier<string, object>();
      (() => {
        tier.hold('a', { big: new Array(1000).fill(0) }, 10);
      })();
      assert.equal(tier.size, 1);
      const size = (): number => tier.size;
      for (let i = 0; i < 20 && size() !== 0; i++) {
        await tick();
        collectGarbage();
      }
      assert.equal(size(), 0);
      assert.equal(tier.take('a'), undefined);
    });
  });
});
