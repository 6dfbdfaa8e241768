// Behaviour of MemoryManager that every strategy must share: each suite runs
// once per registered strategy. The scenarios use equal sizes and no reads
// where the victim matters, so every strategy agrees on "oldest first".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryManager } from '../../src/cache/memory-manager.js';
import type { MemoryTelemetry } from '../../src/telemetry/memory-telemetry.js';
import { CacheCleaner } from '../../src/cleanup/cache-cleaner.js';
import { cacheOf, fill, NO_WATERMARKS, range, recordEvictions, STRATEGIES } from './helpers.js';

for (const strategy of STRATEGIES) {
  describe(`MemoryManager (${strategy})`, () => {
    describe('reads', () => {
      it('get returns the stored value and counts hits and misses', () => {
        const cache = cacheOf<string, number>(strategy);
        cache.set('a', 1, { size: 1 });
        assert.equal(cache.get('a'), 1);
        assert.equal(cache.get('a'), 1);
        assert.equal(cache.get('b'), undefined);
        assert.equal(cache.metrics.hits, 2);
        assert.equal(cache.metrics.misses, 1);
      });

      it('peek and has neither count nor mark use', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000, ...NO_WATERMARKS });
        fill(cache, ['a', 'b', 'c'], 10);
        assert.deepEqual(cache.peek('a'), { key: 'a' });
        assert.equal(cache.has('a'), true);
        assert.equal(cache.has('zz'), false);
        assert.equal(cache.peek('zz'), undefined);
        assert.equal(cache.metrics.hits, 0);
        assert.equal(cache.metrics.misses, 0);
        // 'a' is still the first victim in every strategy.
        assert.deepEqual(cache.evict(1), ['a']);
      });

      it('size counts entries', () => {
        const cache = cacheOf(strategy);
        fill(cache, range('k', 5), 3);
        assert.equal(cache.size, 5);
        cache.delete('k0');
        assert.equal(cache.size, 4);
      });
    });

    describe('budget', () => {
      it('evicts unpinned entries (reason capacity) until a set fits under maxCacheBytes', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000, ...NO_WATERMARKS });
        const events = recordEvictions(cache);
        fill(cache, range('k', 9), 100);
        assert.equal(cache.set('big', 'B', { size: 250 }), true);
        assert.deepEqual(
          events.map((e) => [e.key, e.bytes, e.reason]),
          [
            ['k0', 100, 'capacity'],
            ['k1', 100, 'capacity'],
          ],
        );
        assert.equal(cache.metrics.currentUsage, 950);
        assert.equal(cache.metrics.evictionCount, 2);
        assert.equal(cache.has('big'), true);
      });

      it('refuses an unpinned value that cannot fit even after evicting every unpinned entry, evicting nothing', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000, ...NO_WATERMARKS });
        const events = recordEvictions(cache);
        cache.set('pinned', 'P', { size: 500, pin: true });
        fill(cache, ['a', 'b'], 100);
        assert.equal(cache.set('huge', 'H', { size: 501 }), false);
        assert.equal(cache.has('huge'), false);
        assert.equal(events.length, 0);
        assert.equal(cache.size, 3);
        assert.equal(cache.metrics.currentUsage, 700);
        // A value that fits next to the pinned bytes is stored, making room.
        assert.equal(cache.set('fits', 'F', { size: 350 }), true);
        assert.deepEqual(
          events.map((e) => [e.key, e.reason]),
          [['a', 'capacity']],
        );
      });

      it('refusing a replacement removes the stale value instead of keeping it', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 100, ...NO_WATERMARKS });
        cache.set('a', 'old', { size: 10 });
        assert.equal(cache.set('a', 'new', { size: 101 }), false);
        assert.equal(cache.has('a'), false);
        assert.equal(cache.metrics.currentUsage, 0);
        assert.equal(cache.metrics.evictionCount, 0);
      });

      it('stores a pinned value over budget after evicting every unpinned entry', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000, ...NO_WATERMARKS });
        const events = recordEvictions(cache);
        fill(cache, ['a', 'b', 'c'], 100);
        assert.equal(cache.set('p', 'P', { size: 1500, pin: true }), true);
        assert.equal(cache.peek('p'), 'P');
        assert.deepEqual(events.map((e) => [e.key, e.reason]), [
          ['a', 'capacity'],
          ['b', 'capacity'],
          ['c', 'capacity'],
        ]);
        assert.equal(cache.metrics.currentUsage, 1500);
        assert.equal(cache.metrics.pinnedBytes, 1500);
        // Over budget on pinned bytes alone is an emergency.
        assert.equal(cache.metrics.pressureLevel, 'emergency');
      });

      it('accounts the new size on replace, not both', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000, ...NO_WATERMARKS });
        cache.set('a', 1, { size: 100 });
        cache.set('b', 2, { size: 50 });
        cache.set('a', 3, { size: 300 });
        assert.equal(cache.metrics.currentUsage, 350);
        assert.equal(cache.peek('a'), 3);
        cache.set('a', 4, { size: 20 });
        assert.equal(cache.metrics.currentUsage, 70);
        assert.equal(cache.size, 2);
      });

      it('a replacement that needs room evicts other entries, never the one being replaced', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000, ...NO_WATERMARKS });
        fill(cache, ['a', 'b', 'c', 'd'], 200);
        // 'a' is the oldest and, in every strategy here, the first victim.
        assert.equal(cache.set('a', 'bigger', { size: 450 }), true);
        assert.equal(cache.peek('a'), 'bigger');
        assert.equal(cache.has('b'), false);
        assert.equal(cache.metrics.currentUsage, 850);
      });

      it('keeps currentUsage the exact sum of stored sizes and maxUsage at its peak', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 10_000 });
        cache.set('a', 1, { size: 1000 });
        cache.set('b', 1, { size: 2500 });
        cache.set('c', 1, { size: 0.5 }); // whole bytes: rounded up
        assert.equal(cache.metrics.currentUsage, 3501);
        cache.delete('b');
        assert.equal(cache.metrics.currentUsage, 1001);
        assert.equal(cache.metrics.maxUsage, 3501);
      });

      it('counts evictions but not deletes, clears or replacements', () => {
        const cache = cacheOf(strategy);
        fill(cache, range('k', 6), 10);
        cache.delete('k0');
        cache.set('k1', 'again', { size: 10 });
        assert.equal(cache.metrics.evictionCount, 0);
        cache.evict(2);
        assert.equal(cache.metrics.evictionCount, 2);
        cache.clear();
        assert.equal(cache.metrics.evictionCount, 2);
      });

      it('handles sizes of 4 GiB and more exactly', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 2 ** 40 });
        cache.set('big', 1, { size: 2 ** 33 + 7 });
        cache.set('small', 1, { size: 5 });
        assert.equal(cache.metrics.currentUsage, 2 ** 33 + 12);
        cache.set('big', 2, { size: 2 ** 32 - 1 });
        assert.equal(cache.metrics.currentUsage, 2 ** 32 + 4);
        cache.delete('big');
        assert.equal(cache.metrics.currentUsage, 5);
      });
    });

    describe('watermarks after set', () => {
      it('evicts one batch of evictionBatchSize (reason pressure) once usage reaches moderateThreshold', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000, evictionBatchSize: 3 });
        const events = recordEvictions(cache);
        fill(cache, range('k', 6), 100); // 600: below 0.7
        assert.equal(events.length, 0);
        assert.equal(cache.set('k6', 'x', { size: 100 }), true); // 700: moderate
        assert.deepEqual(events.map((e) => [e.key, e.reason, e.level]), [
          ['k0', 'pressure', 'moderate'],
          ['k1', 'pressure', 'moderate'],
          ['k2', 'pressure', 'moderate'],
        ]);
        assert.equal(cache.metrics.currentUsage, 400);
      });

      it('evicts until usage is below moderateThreshold once it reaches criticalThreshold', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000, evictionBatchSize: 1 });
        const events = recordEvictions(cache);
        fill(cache, range('k', 6), 100); // 600
        assert.equal(cache.set('big', 'x', { size: 300 }), true); // 900: critical
        assert.deepEqual(events.map((e) => [e.key, e.level]), [
          ['k0', 'critical'],
          ['k1', 'critical'],
          ['k2', 'critical'],
        ]);
        assert.equal(cache.metrics.currentUsage, 600);
        assert.ok(cache.metrics.currentUsage / 1000 < 0.7);
      });

      it('evicts the entry just set last, and then set returns false', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000, evictionBatchSize: 10 });
        const events = recordEvictions(cache);
        fill(cache, ['a', 'b'], 10);
        // 720 bytes: moderate; a batch of 10 takes both others and then the entry itself.
        assert.equal(cache.set('big', 'x', { size: 700 }), false);
        assert.deepEqual(
          events.map((e) => e.key),
          ['a', 'b', 'big'],
        );
        assert.equal(cache.has('big'), false);
        assert.equal(cache.metrics.currentUsage, 0);
      });

      it('applies the thresholds with usage = currentUsage / maxCacheBytes exactly at the boundary', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 100, evictionBatchSize: 1 });
        const events = recordEvictions(cache);
        fill(cache, range('k', 69), 1);
        assert.equal(events.length, 0);
        cache.set('k69', 1, { size: 1 }); // exactly 0.7
        assert.equal(events.length, 1);
      });

      it('never evicts pinned entries, even when they keep usage above the watermark', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000 });
        cache.set('p', 'P', { size: 800, pin: true });
        const events = recordEvictions(cache);
        fill(cache, ['a', 'b'], 50);
        assert.equal(cache.has('p'), true);
        assert.deepEqual(
          events.map((e) => e.key),
          ['a', 'b'],
        );
        assert.equal(cache.metrics.pressureLevel, 'moderate');
      });
    });

    describe('pins', () => {
      it('never evicts a pinned entry by evict, evictLeastRecentlyUsed, clearUnpinned or pressure', () => {
        const cache = cacheOf(strategy);
        fill(cache, ['a', 'b', 'c'], 10);
        cache.pin('a');
        assert.deepEqual(cache.evict(10).sort(), ['b', 'c']);
        fill(cache, ['d', 'e'], 10);
        assert.deepEqual(cache.evictLeastRecentlyUsed(10), ['d', 'e']);
        fill(cache, ['f'], 10);
        assert.equal(cache.clearUnpinned(), 1);
        fill(cache, ['g'], 10);
        assert.deepEqual(cache.handlePressure('emergency'), ['g']);
        assert.deepEqual(cache.peek('a'), { key: 'a' });
        assert.equal(cache.size, 1);
      });

      it('pinning an absent key protects the entry once it is set', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 100, ...NO_WATERMARKS });
        cache.pin('later');
        assert.equal(cache.isPinned('later'), true);
        assert.deepEqual(cache.pinnedKeys, ['later']);
        assert.equal(cache.metrics.pinnedCount, 0);
        cache.set('later', 'L', { size: 40 });
        assert.equal(cache.metrics.pinnedCount, 1);
        assert.equal(cache.metrics.pinnedBytes, 40);
        fill(cache, range('k', 10), 30);
        assert.equal(cache.has('later'), true);
        assert.equal(cache.handlePressure('emergency').includes('later'), false);
        assert.equal(cache.has('later'), true);
      });

      it('delete removes a pinned entry but keeps its pin; clear forgets every pin', () => {
        const cache = cacheOf(strategy);
        cache.set('a', 1, { size: 10, pin: true });
        cache.pin('absent');
        assert.equal(cache.delete('a'), true);
        assert.equal(cache.has('a'), false);
        assert.equal(cache.isPinned('a'), true);
        assert.equal(cache.metrics.pinnedBytes, 0);
        cache.set('a', 2, { size: 10 });
        assert.equal(cache.metrics.pinnedCount, 1);
        assert.deepEqual(cache.evict(5), []);
        cache.clear();
        assert.deepEqual(cache.pinnedKeys, []);
        assert.equal(cache.isPinned('a'), false);
        cache.set('a', 3, { size: 10 });
        assert.deepEqual(cache.evict(5), ['a']);
      });

      it('pinnedKeys lists every pinned key, stored or not', () => {
        const cache = cacheOf(strategy);
        cache.set('stored', 1, { size: 1 });
        cache.pin('stored');
        cache.pin('absent');
        cache.set('viaSet', 1, { size: 1, pin: true });
        assert.deepEqual(new Set(cache.pinnedKeys), new Set(['stored', 'absent', 'viaSet']));
        cache.unpin('absent');
        assert.deepEqual(new Set(cache.pinnedKeys), new Set(['stored', 'viaSet']));
      });

      it('unpin makes the entry evictable again', () => {
        const cache = cacheOf(strategy);
        fill(cache, ['a'], 10, { pin: true });
        assert.deepEqual(cache.evict(), []);
        cache.unpin('a');
        assert.equal(cache.metrics.pinnedCount, 0);
        assert.equal(cache.metrics.pinnedBytes, 0);
        assert.deepEqual(cache.evict(), ['a']);
      });

      it('pinned bytes count against the budget', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000, ...NO_WATERMARKS });
        cache.set('p', 'P', { size: 600, pin: true });
        fill(cache, ['a', 'b', 'c'], 100);
        const events = recordEvictions(cache);
        // 900 + 150 only fits once 'a' is gone: the pinned 600 bytes count.
        assert.equal(cache.set('e', 'E', { size: 150 }), true);
        assert.deepEqual(events.map((e) => [e.key, e.reason]), [['a', 'capacity']]);
        assert.equal(cache.metrics.currentUsage, 950);
      });

      it('unpinning an entry stored over budget evicts (capacity) until the cache fits again', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000, ...NO_WATERMARKS });
        cache.set('p', 'P', { size: 1200, pin: true });
        const events = recordEvictions(cache);
        cache.unpin('p');
        assert.deepEqual(events.map((e) => [e.key, e.reason]), [['p', 'capacity']]);
        assert.equal(cache.metrics.currentUsage, 0);
      });

      it('pin through set options pins an existing entry too; pin: false leaves a pin alone', () => {
        const cache = cacheOf(strategy);
        cache.set('a', 1, { size: 5 });
        cache.set('a', 2, { size: 7, pin: true });
        assert.equal(cache.isPinned('a'), true);
        assert.equal(cache.metrics.pinnedBytes, 7);
        cache.set('a', 3, { size: 9, pin: false });
        assert.equal(cache.isPinned('a'), true);
        assert.equal(cache.metrics.pinnedBytes, 9);
        assert.deepEqual(cache.evict(), []);
      });
    });

    describe('manual eviction', () => {
      it('evict defaults to one batch of evictionBatchSize', () => {
        const cache = cacheOf(strategy, { evictionBatchSize: 4 });
        fill(cache, range('k', 10), 1);
        assert.equal(cache.evict().length, 4);
        assert.equal(cache.size, 6);
      });

      it('evictLeastRecentlyUsed evicts least recently used first (reason manual)', () => {
        const cache = cacheOf(strategy);
        const events = recordEvictions(cache);
        cache.set('a', 1, { size: 50 });
        cache.set('b', 1, { size: 10 });
        cache.set('c', 1, { size: 30 });
        cache.get('a');
        cache.get('a');
        cache.get('b');
        assert.deepEqual(cache.evictLeastRecentlyUsed(2), ['c', 'a']);
        assert.deepEqual(events.map((e) => e.reason), ['manual', 'manual']);
      });

      it('rejects a count that is not a non-negative integer', () => {
        const cache = cacheOf(strategy);
        assert.throws(() => cache.evict(-1), { name: 'RangeError', message: /count/ });
        assert.throws(() => cache.evict(1.5), { name: 'RangeError', message: /count/ });
        assert.throws(() => cache.evictLeastRecentlyUsed(Number.NaN), { name: 'RangeError', message: /count/ });
        assert.deepEqual(cache.evict(0), []);
      });

      it('clearUnpinned returns the number of entries evicted', () => {
        const cache = cacheOf(strategy);
        fill(cache, range('k', 7), 3);
        cache.pin('k3');
        assert.equal(cache.clearUnpinned(), 6);
        assert.deepEqual([...cache.pinnedKeys], ['k3']);
        assert.equal(cache.metrics.currentUsage, 3);
      });
    });

    describe('delete and clear', () => {
      it('delete returns whether an entry was there and emits no eviction', () => {
        const cache = cacheOf(strategy);
        const events = recordEvictions(cache);
        cache.set('a', 1, { size: 3 });
        assert.equal(cache.delete('a'), true);
        assert.equal(cache.delete('a'), false);
        assert.equal(events.length, 0);
        assert.equal(cache.metrics.currentUsage, 0);
      });

      it('clear removes everything and the cache works as new afterwards', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 10_000 });
        fill(cache, range('k', 200), 10);
        cache.pin('k5');
        cache.clear();
        assert.equal(cache.size, 0);
        assert.equal(cache.metrics.currentUsage, 0);
        assert.equal(cache.metrics.pinnedCount, 0);
        fill(cache, range('n', 100), 10);
        assert.equal(cache.size, 100);
        assert.equal(cache.metrics.currentUsage, 1000);
        assert.deepEqual(cache.evict(2), ['n0', 'n1']);
      });
    });

    describe('size estimation', () => {
      it('calls the estimator once per set without size and never on get', () => {
        let calls = 0;
        const cache = cacheOf<string, string>(strategy, {
          sizeEstimator: (value: string) => {
            calls++;
            return value.length;
          },
        });
        cache.set('a', 'hello');
        assert.equal(calls, 1);
        cache.get('a');
        cache.peek('a');
        cache.has('a');
        assert.equal(calls, 1);
        cache.set('b', 'x', { size: 99 });
        assert.equal(calls, 1);
        assert.equal(cache.metrics.currentUsage, 5 + 99);
      });

      it('sizes values with defaultSizeEstimator when none is configured', () => {
        const cache = cacheOf(strategy);
        cache.set('a', 'x'.repeat(1000));
        assert.ok(cache.metrics.currentUsage >= 1000, `a 1000-character string was sized ${cache.metrics.currentUsage} bytes`);
      });

      for (const [label, estimator] of [
        ['throws', () => {
          throw new Error('boom');
        }],
        ['returns NaN', () => Number.NaN],
        ['returns a negative number', () => -5],
        ['returns Infinity', () => Infinity],
        ['returns a non-number', () => '12' as unknown as number],
      ] as const) {
        it(`an estimator that ${label} gives a fallback size and an error report, never a throw or a corrupt total`, () => {
          const recorded: Error[] = [];
          const telemetry: MemoryTelemetry = {
            recordCacheSize() {},
            recordEviction() {},
            recordPressureChange() {},
            recordError: (error) => recorded.push(error),
          };
          const cache = cacheOf<string, unknown>(strategy, { sizeEstimator: estimator, telemetry });
          const errors: Error[] = [];
          cache.errors.subscribe((e) => errors.push(e));
          assert.equal(cache.set('a', 'abc'), true);
          assert.equal(errors.length, 1);
          assert.match(errors[0]!.message, /sizeEstimator/);
          assert.match(errors[0]!.message, /"a"/);
          assert.deepEqual(recorded, errors);
          const usage = cache.metrics.currentUsage;
          assert.ok(Number.isFinite(usage) && usage > 0, `fallback size ${usage}`);
          cache.set('b', 'defg', { size: 10 });
          assert.equal(cache.metrics.currentUsage, usage + 10);
          cache.delete('a');
          assert.equal(cache.metrics.currentUsage, 10);
        });
      }

      it('rejects a size option that is not a non-negative finite number, naming size', () => {
        const cache = cacheOf(strategy);
        for (const size of [-1, Number.NaN, Infinity, '5']) {
          assert.throws(() => cache.set('a', 1, { size: size as number }), { name: 'RangeError', message: /size/ });
        }
        assert.throws(() => cache.set('a', 1, { pin: 'yes' as unknown as boolean }), { name: 'TypeError', message: /pin/ });
        assert.equal(cache.size, 0);
        assert.equal(cache.isPinned('a'), false);
      });
    });

    describe('events and metrics', () => {
      it('delivers evictions synchronously, inside the set that caused them', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 100, ...NO_WATERMARKS });
        fill(cache, ['a', 'b'], 45);
        const seenDuringSet: string[] = [];
        let inSet = false;
        cache.evictions.subscribe((e) => {
          if (inSet) seenDuringSet.push(e.key as string);
        });
        inSet = true;
        cache.set('c', 1, { size: 45 });
        inSet = false;
        assert.deepEqual(seenDuringSet, ['a']);
      });

      it('a listener that changes the cache during delivery leaves the accounting exact', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 100, ...NO_WATERMARKS });
        cache.evictions.subscribe((e) => {
          if (e.key === 'a') {
            cache.set('a', 'back', { size: 20 });
            cache.delete('b');
          }
        });
        fill(cache, ['a', 'b', 'c'], 30);
        assert.equal(cache.set('d', 1, { size: 30 }), true);
        assert.equal(cache.peek('a'), 'back');
        assert.equal(cache.has('b'), false);
        assert.equal(cache.metrics.currentUsage, 20 + 30 + 30);
        assert.equal(cache.size, 3);
      });

      it('set reports whether the key is present when it returns, even if a listener removed it', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 100, ...NO_WATERMARKS });
        cache.evictions.subscribe(() => cache.delete('new'));
        fill(cache, ['a', 'b'], 45);
        assert.equal(cache.set('new', 1, { size: 45 }), false);
        assert.equal(cache.has('new'), false);
      });

      it('reports size, evictions and pressure changes to telemetry, and survives a throwing hook', () => {
        const sizes: Array<[number, number]> = [];
        const evictions: unknown[] = [];
        const changes: Array<[string, string]> = [];
        const telemetry: MemoryTelemetry = {
          recordCacheSize: (bytes, entries) => {
            sizes.push([bytes, entries]);
            throw new Error('telemetry is down');
          },
          recordEviction: (event) => evictions.push(event.key),
          recordPressureChange: (from, to) => changes.push([from, to]),
        };
        const cache = cacheOf(strategy, { maxCacheBytes: 100, telemetry, evictionBatchSize: 1 });
        cache.set('a', 1, { size: 40 });
        cache.set('b', 1, { size: 40 }); // 80: moderate, sheds 'a'
        assert.deepEqual(sizes, [
          [40, 1],
          [40, 1],
        ]);
        assert.deepEqual(evictions, ['a']);
        assert.deepEqual(changes, []);
        cache.set('p', 1, { size: 200, pin: true });
        assert.deepEqual(changes, [['normal', 'emergency']]);
      });

      it('metrics is a snapshot', () => {
        const cache = cacheOf(strategy);
        const before = cache.metrics;
        cache.set('a', 1, { size: 10 });
        assert.equal(before.entryCount, 0);
        assert.equal(cache.metrics.entryCount, 1);
      });
    });

    describe('as a ClearableCache', () => {
      it('estimateCacheSize is currentUsage and clearAllCaches keeps pinned entries', async () => {
        const cache = cacheOf(strategy);
        fill(cache, range('k', 4), 25);
        cache.pin('k2');
        assert.equal(cache.estimateCacheSize(), 100);
        const cleaner = new CacheCleaner({ name: 'cache', priority: 'low', cache });
        const result = await cleaner.cleanup(new AbortController().signal);
        assert.equal(result.success, true);
        assert.equal(result.bytesFreed, 75);
        assert.deepEqual(cache.pinnedKeys, ['k2']);
        assert.equal(cache.has('k2'), true);
      });
    });
  });
}

describe('MemoryManager configuration', () => {
  it('uses lru, batches of 10, and the 0.7 / 0.9 watermarks by default', () => {
    const cache = new MemoryManager<string, number>({ maxCacheBytes: 100 });
    assert.equal(cache.strategy, 'lru');
    fill(cache as MemoryManager<string, unknown>, range('k', 69), 1);
    assert.equal(cache.size, 69);
    cache.set('x', 1, { size: 1 }); // 0.7
    assert.equal(cache.size, 60);
    for (let i = 0; i < 10; i++) cache.set(`y${i}`, 1, { size: 1 });
    assert.equal(cache.metrics.currentUsage, 60);
    cache.set('big', 1, { size: 30 }); // 0.9: down below 0.7
    assert.ok(cache.metrics.currentUsage < 70);
  });

  it('places the watermarks exactly where currentUsage / maxCacheBytes reaches each threshold', () => {
    // Products like 100 * 0.7 are not exact in floating point; the cache
    // must still agree with the division the contract states, byte for byte.
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 300; round++) {
      const max = round % 3 === 0 ? 1 + Math.floor(next() * 1000) : round % 3 === 1 ? 1 + Math.floor(next() * 1e9) : 10 + next() * 1000;
      const moderate = Math.round((0.05 + next() * 0.85) * 100) / 100;
      const critical = Math.min(1, moderate + Math.round((0.01 + next() * 0.3) * 100) / 100);
      for (const threshold of [moderate, critical]) {
        const around = Math.ceil(max * threshold);
        for (const bytes of [around - 1, around, around + 1]) {
          if (bytes < 0 || bytes > max) continue;
          const cache = new MemoryManager<string, number>({ maxCacheBytes: max, moderateThreshold: moderate, criticalThreshold: critical });
          cache.set('p', 1, { size: bytes, pin: true });
          const usage = bytes / max;
          const expected = usage >= critical ? 'critical' : usage >= moderate ? 'moderate' : 'normal';
          assert.equal(cache.metrics.pressureLevel, expected, `max ${max}, thresholds ${moderate}/${critical}, ${bytes} bytes`);
        }
      }
    }
  });

  it('has no budget without maxCacheBytes: bounded by pressure only', () => {
    const cache = new MemoryManager<number, number>();
    for (let i = 0; i < 5000; i++) cache.set(i, i, { size: 1_000_000 });
    assert.equal(cache.size, 5000);
    assert.equal(cache.metrics.pressureLevel, 'normal');
    assert.equal(cache.handlePressure('emergency').length, 5000);
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a negative maxCacheBytes', { maxCacheBytes: -1 }, /maxCacheBytes/],
    ['a zero maxCacheBytes', { maxCacheBytes: 0 }, /maxCacheBytes/],
    ['a NaN maxCacheBytes', { maxCacheBytes: Number.NaN }, /maxCacheBytes/],
    ['an infinite maxCacheBytes', { maxCacheBytes: Infinity }, /maxCacheBytes/],
    ['a string maxCacheBytes', { maxCacheBytes: '100' }, /maxCacheBytes/],
    ['a zero moderateThreshold', { moderateThreshold: 0 }, /moderateThreshold/],
    ['a NaN moderateThreshold', { moderateThreshold: Number.NaN }, /moderateThreshold/],
    ['a criticalThreshold above 1', { criticalThreshold: 1.5 }, /criticalThreshold/],
    ['thresholds out of order', { moderateThreshold: 0.8, criticalThreshold: 0.6 }, /moderateThreshold.*criticalThreshold/],
    ['equal thresholds', { moderateThreshold: 0.8, criticalThreshold: 0.8 }, /moderateThreshold.*criticalThreshold/],
    ['a batch size of 0', { evictionBatchSize: 0 }, /evictionBatchSize/],
    ['a fractional batch size', { evictionBatchSize: 2.5 }, /evictionBatchSize/],
    ['an unknown strategy', { strategy: 'fifo' }, /strategy.*lru/],
  ];
  for (const [label, config, message] of bad) {
    it(`rejects ${label} with a RangeError naming the field`, () => {
      assert.throws(() => new MemoryManager(config as never), (error: unknown) => {
        assert.ok(error instanceof RangeError, `expected a RangeError, got ${String(error)}`);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('rejects a sizeEstimator, pressureHandler or telemetry of the wrong type with a TypeError naming it', () => {
    assert.throws(() => new MemoryManager({ sizeEstimator: 5 as never }), { name: 'TypeError', message: /sizeEstimator/ });
    assert.throws(() => new MemoryManager({ pressureHandler: {} as never }), { name: 'TypeError', message: /pressureHandler/ });
    assert.throws(() => new MemoryManager({ telemetry: {} as never }), { name: 'TypeError', message: /telemetry/ });
    assert.throws(() => new MemoryManager('big' as never), { name: 'TypeError', message: /config/ });
  });
});
