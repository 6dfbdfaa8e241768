import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CacheCleaner,
  CLEANUP_PRIORITIES,
  compareCleanupPriority,
  isCleanupPriority,
  ManualClock,
  maxCleanupPriority,
  MemoryManager,
  ResourceCleanupCoordinator,
  type CleanupPriority,
  type ClearableCache,
  type MemoryPressureLevel,
  type TrimmableCache,
} from '../../src/index.js';
import { ValueSubject } from '../../src/observable.js';

describe('CleanupPriority', () => {
  test('CLEANUP_PRIORITIES lists low, medium, high in cleaning order and cannot be changed', () => {
    assert.deepEqual([...CLEANUP_PRIORITIES], ['low', 'medium', 'high']);
    assert.ok(Object.isFrozen(CLEANUP_PRIORITIES));
  });

  test('compareCleanupPriority orders low before medium before high and sorts arrays', () => {
    assert.ok(compareCleanupPriority('low', 'medium') < 0);
    assert.ok(compareCleanupPriority('high', 'medium') > 0);
    assert.equal(compareCleanupPriority('medium', 'medium'), 0);
    const shuffled: CleanupPriority[] = ['high', 'low', 'medium', 'low', 'high'];
    assert.deepEqual(shuffled.sort(compareCleanupPriority), ['low', 'low', 'medium', 'high', 'high']);
    assert.equal(maxCleanupPriority('low', 'high'), 'high');
    assert.equal(maxCleanupPriority('medium', 'low'), 'medium');
  });

  test('an unknown priority is a RangeError naming the argument and the value', () => {
    assert.throws(() => compareCleanupPriority('urgent' as CleanupPriority, 'low'), { name: 'RangeError', message: /^a must be one of low, medium, high, got "urgent"$/ });
    assert.throws(() => compareCleanupPriority('low', 2 as unknown as CleanupPriority), { name: 'RangeError', message: /^b must be .* got 2$/ });
    assert.equal(isCleanupPriority('medium'), true);
    assert.equal(isCleanupPriority('toString'), false);
    assert.equal(isCleanupPriority(undefined), false);
  });
});

/** A cache of `bytes`, of which `keptBytes` survive clearing (pinned entries). */
function fakeCache(bytes: number, options: { keptBytes?: number; async?: boolean } = {}): ClearableCache & { bytes: number; clears: number } {
  const cache = {
    bytes,
    clears: 0,
    estimateCacheSize(): number | Promise<number> {
      return options.async === true ? Promise.resolve(cache.bytes) : cache.bytes;
    },
    clearAllCaches(): void | Promise<void> {
      cache.clears++;
      cache.bytes = options.keptBytes ?? 0;
      return options.async === true ? Promise.resolve() : undefined;
    },
  };
  return cache;
}

describe('CacheCleaner', () => {
  test('bytesFreed is the size before minus the size after', async () => {
    const cache = fakeCache(10_000, { keptBytes: 2_500 });
    const cleaner = new CacheCleaner({ name: 'images', priority: 'low', cache, clock: new ManualClock() });
    assert.equal(cleaner.name, 'images');
    assert.equal(cleaner.priority, 'low');
    assert.deepEqual(await cleaner.cleanup(new AbortController().signal), { cleanerName: 'images', bytesFreed: 7_500, success: true, durationMs: 0 });
    assert.equal(cache.clears, 1);
  });

  test('works with an asynchronous cache and measures its duration on the clock', async () => {
    const clock = new ManualClock();
    const inner = fakeCache(4096);
    const cache: ClearableCache = {
      estimateCacheSize: () => inner.estimateCacheSize(),
      clearAllCaches: () =>
        new Promise<void>((resolve) =>
          clock.setTimeout(() => {
            inner.clearAllCaches();
            resolve();
          }, 40),
        ),
    };
    const cleaner = new CacheCleaner({ name: 'video', priority: 'medium', cache, clock });
    const result = cleaner.cleanup(new AbortController().signal);
    await clock.advanceAsync(40);
    assert.deepEqual(await result, { cleanerName: 'video', bytesFreed: 4096, success: true, durationMs: 40 });
  });

  test('bytesFreed is never negative when the cache grew while clearing', async () => {
    const cache = fakeCache(100, { keptBytes: 300 });
    const result = await new CacheCleaner({ name: 'c', priority: 'low', cache, clock: new ManualClock() }).cleanup(new AbortController().signal);
    assert.equal(result.bytesFreed, 0);
    assert.equal(result.success, true);
  });

  test('a size that is not a non-negative finite number fails the cleanup, naming the step and the value', async () => {
    const bad: unknown[] = [Number.NaN, -1, Number.POSITIVE_INFINITY, '100', undefined, null];
    for (const value of bad) {
      let cleared = false;
      const cache = {
        estimateCacheSize: () => value as number,
        clearAllCaches: () => {
          cleared = true;
        },
      };
      const result = await new CacheCleaner({ name: 'c', priority: 'low', cache, clock: new ManualClock() }).cleanup(new AbortController().signal);
      assert.equal(result.success, false);
      assert.equal(result.bytesFreed, 0);
      assert.match(result.error ?? '', /^estimateCacheSize before clearing returned .* expected a non-negative finite number of bytes$/);
      assert.ok((result.error ?? '').includes(typeof value === 'string' ? JSON.stringify(value) : String(value)), result.error);
      assert.equal(cleared, false, 'a cache whose size cannot be read is not cleared');
    }
    const after = fakeCache(100);
    const original = after.clearAllCaches;
    after.clearAllCaches = () => {
      original();
      after.bytes = Number.NaN;
    };
    const result = await new CacheCleaner({ name: 'c', priority: 'low', cache: after, clock: new ManualClock() }).cleanup(new AbortController().signal);
    assert.equal(result.success, false);
    assert.match(result.error ?? '', /^estimateCacheSize after clearing returned NaN/);
  });

  test('a cache that throws or rejects gives a failed result, never a rejection', async () => {
    const cases: Array<[ClearableCache, RegExp]> = [
      [
        {
          estimateCacheSize: () => {
            throw new Error('no stats');
          },
          clearAllCaches: () => {},
        },
        /^estimateCacheSize before clearing failed: no stats$/,
      ],
      [{ estimateCacheSize: () => Promise.reject(new Error('io')), clearAllCaches: () => {} }, /^estimateCacheSize before clearing failed: io$/],
      [
        {
          estimateCacheSize: () => 10,
          clearAllCaches: () => {
            throw new RangeError('locked');
          },
        },
        /^clearAllCaches failed: RangeError: locked$/,
      ],
      [{ estimateCacheSize: () => 10, clearAllCaches: () => Promise.reject(new Error('busy')) }, /^clearAllCaches failed: busy$/],
    ];
    for (const [cache, message] of cases) {
      const result = await new CacheCleaner({ name: 'c', priority: 'low', cache, clock: new ManualClock() }).cleanup(new AbortController().signal);
      assert.equal(result.success, false);
      assert.equal(result.bytesFreed, 0);
      assert.match(result.error ?? '', message);
    }
  });

  test('an aborted signal stops it before it clears the cache', async () => {
    const controller = new AbortController();
    const cache = fakeCache(100, { async: true });
    const cleaner = new CacheCleaner({ name: 'c', priority: 'low', cache, clock: new ManualClock() });
    const pending = cleaner.cleanup(controller.signal);
    controller.abort(new Error('timed out'));
    const result = await pending;
    assert.equal(cache.clears, 0);
    assert.equal(result.success, false);
    assert.match(result.error ?? '', /^aborted before clearing: timed out$/);
  });

  test('rejects invalid options with an error naming the field', () => {
    const cache = fakeCache(1);
    const cases: Array<[unknown, string, RegExp]> = [
      [undefined, 'TypeError', /options must be an object/],
      [{ name: '', priority: 'low', cache }, 'TypeError', /name must be a non-empty string, got ""/],
      [{ name: 'c', priority: 'max', cache }, 'RangeError', /priority must be one of low, medium, high, got "max"/],
      [{ name: 'c', priority: 'low' }, 'TypeError', /cache must be an object.*got undefined/],
      [{ name: 'c', priority: 'low', cache: { estimateCacheSize: () => 1 } }, 'TypeError', /cache\.clearAllCaches must be a function, got undefined/],
      [{ name: 'c', priority: 'low', cache: { clearAllCaches: () => {} } }, 'TypeError', /cache\.estimateCacheSize must be a function/],
      [{ name: 'c', priority: 'low', cache, clock: Date }, 'TypeError', /clock/],
    ];
    for (const [options, name, message] of cases) {
      assert.throws(() => new CacheCleaner(options as never), { name, message });
    }
  });

  test('the seed composition: image (low) and video (medium) caches cleaned in priority order', async () => {
    const images = fakeCache(3_000);
    const video = fakeCache(50_000, { keptBytes: 10_000 });
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    coordinator.register(new CacheCleaner({ name: 'VideoCacheCleaner', priority: 'medium', cache: video }));
    coordinator.register(new CacheCleaner({ name: 'ImageCacheCleaner', priority: 'low', cache: images }));
    const lowOnly = await coordinator.cleanupUpTo('low');
    assert.deepEqual(
      lowOnly.map((r) => [r.cleanerName, r.bytesFreed]),
      [['ImageCacheCleaner', 3_000]],
    );
    assert.equal(video.clears, 0);
    const all = await coordinator.cleanupAll();
    assert.deepEqual(
      all.map((r) => [r.cleanerName, r.bytesFreed]),
      [
        ['ImageCacheCleaner', 0],
        ['VideoCacheCleaner', 40_000],
      ],
    );
  });
});

/** A cache of `bytes` that sheds `shares[level]` of its bytes on handlePressure(level), and records every call. */
function trimmingCache(bytes: number): TrimmableCache & { bytes: number; calls: string[] } {
  const shares: Record<MemoryPressureLevel, number> = { normal: 0, moderate: 0.1, critical: 0.5, emergency: 1 };
  const cache = {
    bytes,
    calls: [] as string[],
    estimateCacheSize: () => cache.bytes,
    clearAllCaches() {
      cache.calls.push('clearAllCaches');
      cache.bytes = 0;
    },
    handlePressure(level: MemoryPressureLevel) {
      cache.calls.push(`handlePressure(${level})`);
      cache.bytes -= Math.round(cache.bytes * shares[level]);
    },
  };
  return cache;
}

describe('CacheCleaner and the run\'s level', () => {
  const signal = () => new AbortController().signal;

  test('a cache with handlePressure is trimmed as the level asks and never cleared whole', async () => {
    const cache = trimmingCache(10_000);
    const cleaner = new CacheCleaner({ name: 'thumbs', priority: 'low', cache, clock: new ManualClock() });
    assert.equal((await cleaner.cleanup(signal(), { level: 'moderate' })).bytesFreed, 1_000);
    assert.equal((await cleaner.cleanup(signal(), { level: 'critical' })).bytesFreed, 4_500);
    assert.equal((await cleaner.cleanup(signal(), { level: 'normal' })).bytesFreed, 0);
    assert.equal((await cleaner.cleanup(signal(), { level: 'emergency' })).bytesFreed, 4_500);
    assert.deepEqual(cache.calls, ['handlePressure(moderate)', 'handlePressure(critical)', 'handlePressure(normal)', 'handlePressure(emergency)']);
  });

  test('called with one argument, it answers as for emergency (as a coordinator run asked for by hand)', async () => {
    const cache = trimmingCache(800);
    const cleaner = new CacheCleaner({ name: 'thumbs', priority: 'low', cache, clock: new ManualClock() });
    assert.deepEqual(await cleaner.cleanup(signal()), { cleanerName: 'thumbs', bytesFreed: 800, success: true, durationMs: 0 });
    assert.deepEqual(cache.calls, ['handlePressure(emergency)']);
  });

  test('a cache that can only clear is cleared whole whatever the level', async () => {
    for (const level of ['moderate', 'emergency'] as const) {
      const cache = fakeCache(500);
      const result = await new CacheCleaner({ name: 'c', priority: 'low', cache, clock: new ManualClock() }).cleanup(signal(), { level });
      assert.equal(result.bytesFreed, 500);
      assert.equal(cache.clears, 1);
    }
  });

  test('leaves alone a MemoryManager whose own monitor already reports the run\'s level, and sheds for a higher one', async () => {
    const outside = new ValueSubject<MemoryPressureLevel>('normal');
    const cache = new MemoryManager<number, string>({
      sizeEstimator: () => 64,
      evictionBatchSize: 4,
      pressureHandler: { pressure: outside, currentPressure: () => outside.value },
    });
    for (let i = 0; i < 40; i++) cache.set(i, 'v');
    outside.next('critical'); // the cache halves itself for this event
    assert.equal(cache.size, 20);
    const cleaner = new CacheCleaner({ name: 'c', priority: 'low', cache, clock: new ManualClock() });
    const same = await cleaner.cleanup(signal(), { level: 'critical' });
    assert.deepEqual([same.success, same.bytesFreed, cache.size], [true, 0, 20], 'not halved a second time for the same event');
    assert.equal((await cleaner.cleanup(signal(), { level: 'moderate' })).bytesFreed, 0);
    const higher = await cleaner.cleanup(signal(), { level: 'emergency' });
    assert.deepEqual([higher.bytesFreed, cache.size], [20 * 64, 0]);
    cache.dispose();
  });

  test('over a real MemoryManager: moderate evicts one batch, normal nothing, bytesFreed is exactly what left', async () => {
    const cache = new MemoryManager<number, string>({ sizeEstimator: () => 64, evictionBatchSize: 4 });
    for (let i = 0; i < 12; i++) cache.set(i, 'v');
    const cleaner = new CacheCleaner({ name: 'mm', priority: 'medium', cache, clock: new ManualClock() });
    assert.deepEqual(await cleaner.cleanup(signal(), { level: 'normal' }), { cleanerName: 'mm', bytesFreed: 0, success: true, durationMs: 0 });
    assert.equal(cache.size, 12);
    assert.deepEqual(await cleaner.cleanup(signal(), { level: 'moderate' }), { cleanerName: 'mm', bytesFreed: 256, success: true, durationMs: 0 });
    assert.equal(cache.size, 8);
    assert.equal(cache.has(0), false);
    assert.equal(cache.has(4), true);
  });

  test('bytesFreed is never negative when a trimming cache grew meanwhile', async () => {
    const cache = trimmingCache(100);
    cache.handlePressure = () => {
      cache.bytes += 50;
    };
    const result = await new CacheCleaner({ name: 'c', priority: 'low', cache, clock: new ManualClock() }).cleanup(signal(), { level: 'moderate' });
    assert.deepEqual(result, { cleanerName: 'c', bytesFreed: 0, success: true, durationMs: 0 });
  });

  test('a failing handlePressure, an abort and a bad context give failed results that name the step, the field and the value', async () => {
    const throwing = trimmingCache(100);
    throwing.handlePressure = () => Promise.reject(new Error('locked'));
    const failed = await new CacheCleaner({ name: 'c', priority: 'low', cache: throwing, clock: new ManualClock() }).cleanup(signal(), { level: 'critical' });
    assert.equal(failed.success, false);
    assert.equal(failed.error, 'handlePressure(critical) failed: locked');

    const controller = new AbortController();
    controller.abort(new Error('timed out'));
    const untouched = trimmingCache(100);
    const aborted = await new CacheCleaner({ name: 'c', priority: 'low', cache: untouched, clock: new ManualClock() }).cleanup(controller.signal, { level: 'emergency' });
    assert.equal(aborted.error, 'aborted before shedding: timed out');
    assert.deepEqual(untouched.calls, []);

    const bad: Array<[unknown, RegExp]> = [
      [{ level: 'panic' }, /^context\.level must be one of normal, moderate, critical, emergency, got "panic"$/],
      [{}, /^context\.level must be one of .*, got undefined$/],
      [7, /^context must be an object with a level, got 7$/],
    ];
    for (const [context, message] of bad) {
      const cache = trimmingCache(100);
      const result = await new CacheCleaner({ name: 'c', priority: 'low', cache, clock: new ManualClock() }).cleanup(signal(), context as never);
      assert.equal(result.success, false);
      assert.equal(result.bytesFreed, 0);
      assert.match(result.error ?? '', message);
      assert.deepEqual(cache.calls, [], 'nothing is shed for a level it cannot read');
    }
  });
});
