// Outside pressure and the cache's pressure level, over every strategy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { ValueSubject } from '../../src/observable.js';
import type { MemoryPressureLevel } from '../../src/pressure-levels.js';
import type { MemoryPressureHandler } from '../../src/pressure/monitor.js';
import { PollingMemoryMonitor } from '../../src/pressure/polling-memory-monitor.js';
import { cacheOf, fill, range, recordEvictions, STRATEGIES } from './helpers.js';

/** A plain handler (no `states`): only level changes. */
function plainHandler(initial: MemoryPressureLevel = 'normal'): MemoryPressureHandler & { set(level: MemoryPressureLevel): void } {
  const subject = new ValueSubject<MemoryPressureLevel>(initial);
  return {
    pressure: subject,
    currentPressure: () => subject.value,
    set: (level) => subject.next(level),
  };
}

/** A plain handler that records what the cache reports dropping. */
function releaseRecorder(): MemoryPressureHandler & { notes: number[] } {
  const handler = { ...plainHandler(), notes: [] as number[], noteReleased: (bytes: number) => handler.notes.push(bytes) };
  return handler;
}

/** A monitor sampled every second of `clock`: `usedBytes()` of `totalBytes`, from `source` when given. */
function sampledEverySecond(clock: ManualClock, usedBytes: () => number, totalBytes: number, source?: string): PollingMemoryMonitor {
  return new PollingMemoryMonitor({
    memoryProvider: () => ({ usedBytes: usedBytes(), availableBytes: totalBytes - usedBytes(), ...(source === undefined ? {} : { source }) }),
    pollingIntervalMs: 1000,
    clock,
  });
}

for (const strategy of STRATEGIES) {
  describe(`MemoryManager tells its handler what it dropped (${strategy})`, () => {
    it('once per operation: the bytes of every entry evicted, deleted, replaced or cleared, and nothing for a hit or a fresh set', () => {
      const handler = releaseRecorder();
      const cache = cacheOf(strategy, { maxCacheBytes: 100, evictionBatchSize: 2, pressureHandler: handler });
      const events = recordEvictions(cache);
      fill(cache, range('k', 6), 10);
      cache.get('k5');
      assert.deepEqual(handler.notes, [], 'nothing dropped yet');
      cache.set('big', { big: true }, { size: 30 }); // past the 70-byte watermark: evicts a batch of 2
      const evicted = events.reduce((sum, e) => sum + e.bytes, 0);
      assert.ok(evicted > 0);
      assert.deepEqual(handler.notes, [evicted], 'one note for the whole batch');
      cache.set('big', { big: 'again' }, { size: 20 });
      assert.equal(handler.notes.at(-1), 30, 'a replaced value is garbage too');
      cache.set('big', cache.get('big'), { size: 25 });
      assert.equal(handler.notes.at(-1), 30, 'the same value stored again drops nothing');
      const before = cache.metrics.currentUsage;
      cache.delete('big');
      assert.equal(handler.notes.at(-1), 25);
      cache.clear();
      assert.equal(handler.notes.at(-1), before - 25);
      assert.equal(
        handler.notes.reduce((a, b) => a + b, 0),
        evicted + 30 + 25 + (before - 25),
      );
    });

    it('a noteReleased that throws is reported on errors and the cache stays as it was', () => {
      const handler = { ...plainHandler(), noteReleased: () => { throw new Error('boom'); } };
      const cache = cacheOf(strategy, { maxCacheBytes: 100, pressureHandler: handler });
      const errors: Error[] = [];
      cache.errors.subscribe((e) => errors.push(e));
      fill(cache, range('k', 3), 10);
      assert.equal(cache.delete('k1'), true);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!.message, /boom/);
      assert.equal(cache.metrics.currentUsage, 20);
      assert.equal(cache.has('k0') && cache.has('k2') && !cache.has('k1'), true);
    });

    it('after dispose the handler hears nothing more', () => {
      const handler = releaseRecorder();
      const cache = cacheOf(strategy, { maxCacheBytes: 100, pressureHandler: handler });
      fill(cache, range('k', 3), 10);
      cache.dispose();
      cache.delete('k0');
      assert.deepEqual(handler.notes, []);
    });
  });

  describe(`MemoryManager pressure (${strategy})`, () => {
    describe('handlePressure', () => {
      it('normal evicts nothing', () => {
        const cache = cacheOf(strategy);
        fill(cache, range('k', 20), 10);
        assert.deepEqual(cache.handlePressure('normal'), []);
        assert.equal(cache.size, 20);
      });

      it('moderate evicts one batch (reason pressure, level moderate)', () => {
        const cache = cacheOf(strategy, { evictionBatchSize: 4 });
        const events = recordEvictions(cache);
        fill(cache, range('k', 20), 10);
        assert.deepEqual(cache.handlePressure('moderate'), ['k0', 'k1', 'k2', 'k3']);
        assert.deepEqual(
          events.map((e) => [e.reason, e.level]),
          Array(4).fill(['pressure', 'moderate']),
        );
        assert.equal(cache.metrics.evictionCount, 4);
      });

      it('critical evicts until at least half of the unpinned bytes are gone', () => {
        const cache = cacheOf(strategy, { evictionBatchSize: 2 });
        fill(cache, range('k', 20), 10);
        cache.pin('k19');
        const evicted = cache.handlePressure('critical');
        assert.equal(evicted.length, 10); // 190 unpinned bytes: 95 to free, 10 entries of 10
        assert.equal(cache.metrics.currentUsage, 100);
        assert.equal(cache.has('k19'), true);
      });

      it('critical evicts at least one batch even when that is more than half', () => {
        const cache = cacheOf(strategy, { evictionBatchSize: 8 });
        fill(cache, range('k', 10), 10);
        assert.equal(cache.handlePressure('critical').length, 8);
      });

      it('emergency evicts every unpinned entry and keeps the pinned ones', () => {
        const cache = cacheOf(strategy);
        const events = recordEvictions(cache);
        fill(cache, range('k', 50), 10);
        cache.pin('k7');
        cache.pin('k40');
        const evicted = cache.handlePressure('emergency');
        assert.equal(evicted.length, 48);
        assert.deepEqual(new Set(cache.pinnedKeys), new Set(['k7', 'k40']));
        assert.equal(cache.size, 2);
        assert.equal(cache.metrics.currentUsage, 20);
        assert.ok(events.every((e) => e.reason === 'pressure' && e.level === 'emergency'));
      });

      it('rejects something that is not a level, naming level', () => {
        const cache = cacheOf(strategy);
        assert.throws(() => cache.handlePressure('high' as MemoryPressureLevel), { name: 'RangeError', message: /level/ });
      });
    });

    describe('pressureHandler', () => {
      it('a plain handler triggers shedding on each pressure change', () => {
        const handler = plainHandler();
        const cache = cacheOf(strategy, { pressureHandler: handler, evictionBatchSize: 3 });
        fill(cache, range('k', 30), 10);
        handler.set('moderate');
        assert.equal(cache.size, 27);
        assert.equal(cache.metrics.pressureLevel, 'moderate');
        handler.set('critical');
        assert.ok(cache.metrics.currentUsage <= 270 / 2, `usage ${cache.metrics.currentUsage}`);
        handler.set('emergency');
        assert.equal(cache.size, 0);
        handler.set('normal');
        assert.equal(cache.metrics.pressureLevel, 'normal');
      });

      it('a monitor cuts the cache once on entering pressure, then sheds only what the sampled memory grew by', () => {
        const clock = new ManualClock();
        let used = 800; // of 1000: moderate under the default thresholds
        const monitor = sampledEverySecond(clock, () => used, 1000);
        const cache = cacheOf(strategy, { pressureHandler: monitor });
        const events = recordEvictions(cache);
        fill(cache, range('k', 10), 10);
        monitor.startMonitoring();
        // Entering moderate keeps 0.9 of the unpinned bytes.
        assert.equal(cache.metrics.currentUsage, 90);
        assert.equal(cache.limitBytes, 90);
        // Flat memory at the same level sheds nothing more, however many samples.
        clock.advance(1000);
        clock.advance(1000);
        assert.equal(cache.size, 9);
        // The ceiling holds between samples: a set evicts to stay under it.
        assert.equal(cache.set('new', 'v', { size: 10 }), true);
        assert.equal(cache.metrics.currentUsage, 90);
        assert.equal(cache.size, 9);
        // 30 bytes of growth since the cut (more than 1% of the total) take 30 bytes from the cache.
        used = 830;
        clock.advance(1000);
        assert.equal(cache.metrics.currentUsage, 60);
        assert.equal(cache.limitBytes, 60);
        // 5 bytes are within the 1% slack: no cut.
        used = 835;
        clock.advance(1000);
        assert.equal(cache.metrics.currentUsage, 60);
        assert.equal(cache.metrics.pressureLevel, 'moderate');
        assert.deepEqual([...new Set(events.map((e) => `${e.reason} ${e.level}`))], ["pressure moderate"]);
        monitor.stopMonitoring();
      });

      it('a heap monitor at critical halves the cache once per episode, halves again only for growth the cache did not store, and leaves a ceiling that rises at normal while the cache is at it', () => {
        const clock = new ManualClock();
        let used = 8800; // of 10000: critical under the default thresholds
        const monitor = sampledEverySecond(clock, () => used, 10_000, 'heap');
        const cache = cacheOf(strategy, { pressureHandler: monitor, evictionBatchSize: 3 });
        fill(cache, range('k', 40), 100);
        monitor.startMonitoring();
        assert.equal(cache.size, 20, 'entering critical halves the cache');
        assert.equal(cache.limitBytes, 3600, 'and leaves a ceiling at 0.9 of what it held');
        // The heap still reads 8800 (the collector has not run): one batch, not another half.
        clock.advance(1000);
        assert.equal(cache.size, 17);
        // The heap grows by exactly what the cache stored since the cut: still one batch.
        fill(cache, range('n', 5), 100);
        used = 9300;
        clock.advance(1000);
        assert.equal(cache.size, 19);
        // Growth past what the cache stored (150 more, over the 1% slack): halve again, and lower the ceiling.
        used = 9450;
        clock.advance(1000);
        assert.equal(cache.size, 9);
        assert.equal(cache.limitBytes, 1710);
        // Back at normal: the cache refills to the ceiling, not past it, and there the ceiling rises by a tenth a second
        // (of half the most the cache held at a cut, 4000 bytes, when that is more).
        used = 5000;
        clock.advance(1000);
        assert.equal(cache.limitBytes, 1710, 'no raise while the cache is under its ceiling');
        fill(cache, range('m', 20), 100);
        assert.equal(cache.metrics.currentUsage, 1700);
        clock.advance(1000);
        assert.equal(cache.limitBytes, 1910);
        // A new episode halves on entry; an emergency drops every unpinned entry and leaves a quarter as the ceiling.
        fill(cache, range('p', 2), 100);
        used = 8800;
        clock.advance(1000);
        assert.equal(cache.size, 9, '19 entries, halved: 10 go');
        assert.equal(cache.limitBytes, 1710);
        used = 9600;
        clock.advance(1000);
        assert.equal(cache.size, 0);
        assert.equal(cache.limitBytes, 225);
        monitor.stopMonitoring();
      });

      it('a heap monitor entering moderate from normal holds the cache where it is: one batch a sample, and no growth past that size', () => {
        const clock = new ManualClock();
        let used = 5000; // of 10000: normal
        const monitor = sampledEverySecond(clock, () => used, 10_000, 'heap');
        const cache = cacheOf(strategy, { pressureHandler: monitor, evictionBatchSize: 2 });
        fill(cache, range('k', 20), 100);
        monitor.startMonitoring();
        assert.equal(cache.limitBytes, Infinity);
        used = 7500;
        clock.advance(1000);
        assert.equal(cache.size, 18, 'one batch');
        assert.equal(cache.limitBytes, 2000, 'the size it had when the sample came');
        fill(cache, range('n', 5), 100);
        assert.equal(cache.metrics.currentUsage, 2000, 'refills to the ceiling, not past it');
        clock.advance(1000);
        assert.equal(cache.size, 18);
        assert.equal(cache.limitBytes, 2000, 'still moderate: the ceiling stays');
        monitor.stopMonitoring();
      });

      it('a heap monitor entering moderate does not hold a cache under a twentieth of the heap\'s budget', () => {
        const clock = new ManualClock();
        let used = 5000;
        const monitor = sampledEverySecond(clock, () => used, 10_000, 'heap');
        const cache = cacheOf(strategy, { pressureHandler: monitor, evictionBatchSize: 2 });
        fill(cache, range('k', 4), 100);
        monitor.startMonitoring();
        used = 7500;
        clock.advance(1000);
        assert.equal(cache.size, 2, 'one batch');
        assert.equal(cache.limitBytes, Infinity, '400 bytes of a 10,000-byte heap: not held');
        fill(cache, range('n', 5), 100);
        assert.equal(cache.size, 7);
        monitor.stopMonitoring();
      });

      it('handlePressure sheds as asked whatever its own handler reports, and outsidePressure says what that is', () => {
        const handler = plainHandler();
        const cache = cacheOf(strategy, { pressureHandler: handler, evictionBatchSize: 3 });
        fill(cache, range('k', 30), 10);
        assert.equal(cache.outsidePressure, 'normal');
        handler.set('moderate');
        assert.equal(cache.size, 27);
        assert.equal(cache.outsidePressure, 'moderate');
        assert.equal(cache.handlePressure('moderate').length, 3);
        assert.deepEqual(cache.handlePressure('normal'), []);
        assert.ok(cache.handlePressure('critical').length >= 12);
        handler.set('normal');
        assert.equal(cache.outsidePressure, 'normal');
        assert.equal(cacheOf(strategy).outsidePressure, 'normal', 'without a handler');
      });

      it('a monitor at critical halves the cache, and back at normal the ceiling rises by a tenth a second until lifted', () => {
        const clock = new ManualClock();
        let used = 900;
        const monitor = sampledEverySecond(clock, () => used, 1000);
        const cache = cacheOf(strategy, { pressureHandler: monitor });
        fill(cache, range('k', 20), 10);
        monitor.startMonitoring();
        assert.equal(cache.metrics.currentUsage, 100);
        assert.equal(monitor.currentPressure(), 'critical');
        used = 100;
        clock.advance(1000);
        assert.equal(cache.metrics.pressureLevel, 'normal');
        assert.equal(cache.limitBytes, 110);
        clock.advance(1000);
        assert.equal(cache.limitBytes, 121);
        // Lifted once it is twice the size the cache had when pressure began and four times its bytes.
        for (let i = 0; i < 12; i++) clock.advance(1000);
        assert.ok(cache.limitBytes > 300 && cache.limitBytes < 400, String(cache.limitBytes));
        for (let i = 0; i < 3; i++) clock.advance(1000);
        assert.equal(cache.limitBytes, Infinity);
        fill(cache, range('more', 30), 10);
        assert.equal(cache.metrics.currentUsage, 200, 'until the next sample it grows by at most a tenth of the 1000-byte budget');
        clock.advance(1000);
        fill(cache, range('again', 30), 10);
        assert.equal(cache.metrics.currentUsage, 300);
        monitor.stopMonitoring();
      });

      it('between two samples of a monitor the cache grows by at most a tenth of the signal\'s budget, evicting for pressure past it', () => {
        const clock = new ManualClock();
        const monitor = sampledEverySecond(clock, () => 100, 10_000);
        const cache = cacheOf(strategy, { pressureHandler: monitor });
        const events = recordEvictions(cache);
        monitor.startMonitoring();
        fill(cache, range('k', 150), 10);
        assert.equal(cache.metrics.currentUsage, 1000, 'a tenth of 10,000 bytes since the sample');
        assert.equal(cache.limitBytes, Infinity, 'no ceiling: the normal level learnt nothing');
        assert.ok(events.length === 50 && events.every((e) => e.reason === 'pressure' && e.level === 'normal'));
        clock.advance(1000);
        fill(cache, range('n', 150), 10);
        assert.equal(cache.metrics.currentUsage, 2000);
        monitor.stopMonitoring();
      });

      it('a monitor whose memory keeps growing at emergency drops every unpinned entry, never a pinned one', () => {
        const clock = new ManualClock();
        let used = 9600;
        const monitor = sampledEverySecond(clock, () => used, 10_000);
        const cache = cacheOf(strategy, { pressureHandler: monitor });
        cache.set('pinned', 'v', { size: 10, pin: true });
        fill(cache, range('k', 8), 10);
        monitor.startMonitoring();
        assert.equal(cache.metrics.currentUsage, 10 + 20, 'entering emergency keeps a quarter of the unpinned bytes');
        used = 9990;
        clock.advance(1000);
        assert.equal(cache.size, 1);
        assert.equal(cache.has('pinned'), true);
        monitor.stopMonitoring();
      });

      it('dispose stops listening to the handler and drops its level', () => {
        const handler = plainHandler();
        const cache = cacheOf(strategy, { pressureHandler: handler });
        fill(cache, range('k', 30), 10);
        handler.set('critical');
        const size = cache.size;
        assert.equal(cache.metrics.pressureLevel, 'critical');
        cache.dispose();
        assert.equal(cache.metrics.pressureLevel, 'normal');
        handler.set('emergency');
        assert.equal(cache.size, size);
        cache.dispose();
      });

      it('a handler already above normal applies at construction', () => {
        const handler = plainHandler('critical');
        const cache = cacheOf(strategy, { pressureHandler: handler });
        assert.equal(cache.metrics.pressureLevel, 'critical');
      });

      it('a handler that reports a bad level is reported on errors and ignored', () => {
        const subject = new ValueSubject<MemoryPressureLevel>('normal');
        const cache = cacheOf(strategy, { pressureHandler: { pressure: subject, currentPressure: () => subject.value } });
        const errors: Error[] = [];
        cache.errors.subscribe((e) => errors.push(e));
        subject.next('severe' as MemoryPressureLevel);
        assert.equal(errors.length, 1);
        assert.match(errors[0]!.message, /severe/);
        assert.equal(cache.metrics.pressureLevel, 'normal');
      });
    });

    describe('pressure level', () => {
      it('is the budget level: normal, moderate at moderateThreshold, emergency when pinned bytes alone exceed the budget', () => {
        const cache = cacheOf(strategy, { maxCacheBytes: 1000 });
        const levels: MemoryPressureLevel[] = [];
        cache.pressure.subscribe((level) => levels.push(level));
        cache.set('p', 1, { size: 750, pin: true });
        assert.equal(cache.metrics.pressureLevel, 'moderate');
        cache.set('q', 1, { size: 150, pin: true });
        assert.equal(cache.metrics.pressureLevel, 'critical');
        cache.set('r', 1, { size: 200, pin: true });
        assert.equal(cache.metrics.pressureLevel, 'emergency');
        cache.delete('r');
        cache.delete('q');
        cache.delete('p');
        assert.deepEqual(levels, ['normal', 'moderate', 'critical', 'emergency', 'critical', 'moderate', 'normal']);
      });

      it('is the higher of the budget level and the handler level', () => {
        const handler = plainHandler();
        const cache = cacheOf(strategy, { maxCacheBytes: 1000, pressureHandler: handler });
        cache.set('p', 1, { size: 950, pin: true }); // critical by budget
        handler.set('moderate');
        assert.equal(cache.metrics.pressureLevel, 'critical');
        handler.set('emergency');
        assert.equal(cache.metrics.pressureLevel, 'emergency');
        handler.set('normal');
        assert.equal(cache.metrics.pressureLevel, 'critical');
      });

      it('pressure gives the current level on subscribe and then only changes', () => {
        const handler = plainHandler('moderate');
        const cache = cacheOf(strategy, { pressureHandler: handler });
        const levels: MemoryPressureLevel[] = [];
        cache.pressure.subscribe((level) => levels.push(level));
        handler.set('moderate');
        handler.set('critical');
        handler.set('critical');
        assert.deepEqual(levels, ['moderate', 'critical']);
      });
    });
  });
}
