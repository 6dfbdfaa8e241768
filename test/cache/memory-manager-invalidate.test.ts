import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryManager } from '../../src/cache/memory-manager.js';
import type { EvictionEvent } from '../../src/cache/eviction-event.js';

describe('MemoryManager.invalidateAll', () => {
  for (const strategy of ['lru', 'lfu', 'size', 'tinylfu'] as const) {
    test(`${strategy}: drops every entry and every soft-held value, keeps the pins, and counts no eviction`, () => {
      const cache = new MemoryManager<string, { v: number }>({ strategy, softEviction: true, maxCacheBytes: 10_000 });
      const events: EvictionEvent[] = [];
      cache.evictions.subscribe((event) => events.push(event));
      // Held here, so the collector cannot take them and a soft tier that kept them would revive them.
      const values = Array.from({ length: 6 }, (_, v) => ({ v }));
      values.forEach((value, i) => cache.set(`k${i}`, value, { size: 100 }));
      cache.pin('k0');
      cache.pin('absent');
      assert.deepEqual(cache.evict(2).length, 2); // two values now wait in the soft tier
      const evictionsBefore = cache.metrics.evictionCount;
      events.length = 0;

      assert.equal(cache.invalidateAll(), 4);
      assert.equal(cache.size, 0);
      const metrics = cache.metrics;
      assert.equal(metrics.currentUsage, 0);
      assert.equal(metrics.pinnedBytes, 0);
      assert.equal(metrics.pinnedCount, 0);
      assert.equal(metrics.evictionCount, evictionsBefore);
      assert.deepEqual(events, []);
      assert.deepEqual(cache.pinnedKeys, ['k0', 'absent']);
      for (let i = 0; i < 6; i++) assert.equal(cache.get(`k${i}`), undefined, `k${i}`);
      assert.equal(cache.metrics.softHits, 0);

      // The pins still hold: a pinned key set again is pinned and counted.
      cache.set('k0', { v: 10 }, { size: 100 });
      assert.equal(cache.metrics.pinnedBytes, 100);
      assert.equal(cache.handlePressure('emergency').length, 0);
      assert.deepEqual(cache.peek('k0'), { v: 10 });
      assert.equal(values.length, 6);
    });
  }
});
