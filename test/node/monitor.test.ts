import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { MemoryManager } from '../../src/cache/memory-manager.js';
import { ManualClock } from '../../src/clock.js';
import type { MemoryState } from '../../src/pressure/memory-state.js';
import { MemoryThresholds } from '../../src/pressure/thresholds.js';
import { DEFAULT_NODE_THRESHOLDS, NodeMemorySignals, createNodeMemoryMonitor, readNodeMemorySignals } from '../../src/node/index.js';
import { fakeRuntime, fixture, fixtureCopy, MIB } from './helpers.js';
import { collectGarbage as fullCollection, needsGc } from '../helpers/gc.js';

const HEAP_BUDGET = 0.8 * 96 * MIB;

function heapAt(fraction: number) {
  const runtime = fakeRuntime();
  runtime.oldGenerationUsedBytes = fraction * HEAP_BUDGET;
  return runtime;
}

/**
 * Runs a full collection and resolves once its `gc` performance entry has
 * been delivered. Node hands one entry to every `gc` observer in the same
 * dispatch, in registration order, so by then a monitor's observer
 * (registered earlier) has seen it too, and its poll (synchronous here) has
 * run, or, when disconnected, never will for this collection.
 */
function collectGarbage(): Promise<void> {
  return new Promise((resolve) => {
    // Node delivers gc entries without holding the event loop open; this
    // handle does, until the entry is here (it waits for nothing itself).
    const keepAlive = setInterval(() => {}, 2 ** 30);
    const observer = new PerformanceObserver((list) => {
      const major = list.getEntries().some((entry) => (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
      if (!major) return;
      observer.disconnect();
      clearInterval(keepAlive);
      resolve();
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      fullCollection();
    } catch (error) {
      observer.disconnect();
      clearInterval(keepAlive);
      throw error;
    }
  });
}

describe('NodeMemorySignals', () => {
  it('judges each signal by its own thresholds and reports the most pressing one', () => {
    const signals = new NodeMemorySignals({ root: fixture('cgroup-v2'), runtime: heapAt(0.1), clock: new ManualClock(0) });
    const reading = signals.read();
    const byName = Object.fromEntries(reading.signals.map((s) => [s.signal, s]));
    assert.equal(byName['container']?.level, 'normal', 'working set at 0.625 of the limit');
    assert.equal(byName['system']?.level, 'normal', 'machine at 0.75');
    assert.equal(byName['psi']?.level, 'moderate', '12.5% stall is past the PSI moderate line of 10%');
    assert.equal(byName['heap']?.level, 'normal');
    assert.equal(reading.mostPressing.signal, 'psi');
    assert.deepEqual(signals.sample(), { usedBytes: 125_000, availableBytes: 875_000, source: 'psi', level: 'moderate' });
  });

  it('breaks a tie of levels by the higher fraction', () => {
    const signals = new NodeMemorySignals({ root: fixture('cgroup-v2'), runtime: heapAt(0.75), clock: new ManualClock(0) });
    const most = signals.read().mostPressing;
    assert.equal(most.signal, 'heap', 'heap moderate at 0.75 beats PSI moderate at 0.125');
    assert.equal(most.level, 'moderate');
  });

  it('with every signal normal, the one closest to its budget stands for the process', () => {
    const signals = new NodeMemorySignals({
      root: fixture('cgroup-v2'),
      runtime: heapAt(0.1),
      clock: new ManualClock(0),
      thresholds: { psi: new MemoryThresholds({ moderate: 0.2, critical: 0.5 }) },
    });
    const sample = signals.sample();
    // The machine is at 0.75 of its memory; the pod's working set at 0.71 of its limit less the 64 MiB collector reserve.
    assert.equal(sample.source, 'system');
    assert.equal(sample.level, 'normal');
  });

  it('keeps hysteresis per signal', () => {
    const runtime = heapAt(0.72);
    const signals = new NodeMemorySignals({ root: fixture('no-cgroup'), runtime, clock: new ManualClock(0), signals: ['heap'] });
    assert.equal(signals.sample().level, 'moderate');
    runtime.oldGenerationUsedBytes = 0.67 * HEAP_BUDGET;
    assert.equal(signals.sample().level, 'moderate', 'within the 0.05 hysteresis below 0.70');
    runtime.oldGenerationUsedBytes = 0.64 * HEAP_BUDGET;
    assert.equal(signals.sample().level, 'normal');
    runtime.oldGenerationUsedBytes = 0.96 * HEAP_BUDGET;
    assert.equal(signals.sample().level, 'emergency', 'rising is immediate');
  });

  it('leaves unavailable signals out of the choice but lists them', () => {
    const reading = new NodeMemorySignals({ root: fixture('no-cgroup'), runtime: heapAt(0.1), clock: new ManualClock(0) }).read();
    const psi = reading.signals.find((s) => s.signal === 'psi');
    assert.equal(psi?.available, false);
    assert.equal(psi?.level, 'normal');
    assert.notEqual(reading.mostPressing.signal, 'psi');
    assert.deepEqual(reading.signals.map((s) => s.signal), ['heap', 'container', 'system', 'psi']);
  });

  it('re-reads the slow files (meminfo, memory.stat, PSI) only every slowRefreshMs, the heap every time', () => {
    const tree = fixtureCopy('cgroup-v2');
    const clock = new ManualClock(0);
    const runtime = heapAt(0.1);
    try {
      const signals = new NodeMemorySignals({ root: tree.root, runtime, clock, slowRefreshMs: 2000 });
      signals.read();
      tree.write('proc/meminfo', 'MemTotal: 8388608 kB\nMemAvailable: 0 kB\n');
      tree.write('sys/fs/cgroup/kubepods/pod1/ctr/memory.pressure', 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
      runtime.oldGenerationUsedBytes = 0.9 * HEAP_BUDGET;
      clock.advance(1000);
      let byName = Object.fromEntries(signals.read().signals.map((s) => [s.signal, s]));
      assert.equal(byName['heap']?.level, 'critical', 'the heap is fresh');
      assert.equal(byName['system']?.fraction, 0.75, 'meminfo not re-read yet');
      assert.equal(byName['psi']?.fraction, 0.125, 'PSI not re-read yet');
      clock.advance(1000);
      byName = Object.fromEntries(signals.read().signals.map((s) => [s.signal, s]));
      assert.equal(byName['system']?.fraction, 1);
      assert.equal(byName['system']?.level, 'emergency');
      assert.equal(byName['psi']?.fraction, 0);
      signals.close();
    } finally {
      tree.dispose();
    }
  });

  it('has a justified default for every signal and rejects bad options naming the field', () => {
    assert.deepEqual(Object.keys(DEFAULT_NODE_THRESHOLDS).sort(), ['container', 'heap', 'psi', 'system']);
    assert.throws(() => new NodeMemorySignals({ signals: ['heap', 'disk' as 'heap'] }), /signals.*"disk"/);
    assert.throws(() => new NodeMemorySignals({ signals: [] }), /signals/);
    assert.throws(() => new NodeMemorySignals({ thresholds: { heap: { moderate: 0.5 } as MemoryThresholds } }), /thresholds\.heap/);
    assert.throws(() => new NodeMemorySignals({ thresholds: { gpu: MemoryThresholds.default } as never }), /thresholds keys.*"gpu"/);
    assert.throws(() => new NodeMemorySignals({ slowRefreshMs: Number.NaN }), /slowRefreshMs.*NaN/);
  });
});

describe('createNodeMemoryMonitor', () => {
  it('publishes the most pressing signal with its own level, and polls faster as the level rises', async () => {
    const clock = new ManualClock(0);
    const runtime = heapAt(0.1);
    const monitor = createNodeMemoryMonitor({ root: fixture('no-cgroup'), runtime, clock, pollOnGc: false });
    const states: MemoryState[] = [];
    monitor.states.subscribe((s) => states.push(s));
    monitor.startMonitoring();
    assert.equal(monitor.currentPollingIntervalMs(), 500);
    assert.equal(monitor.currentMemoryState().source, 'system');
    runtime.oldGenerationUsedBytes = 0.9 * HEAP_BUDGET;
    await clock.advanceAsync(500);
    const state = monitor.currentMemoryState();
    assert.equal(state.source, 'heap');
    assert.equal(state.level, 'critical', 'the heap thresholds, not MemoryThresholds.default over some other usage');
    // The heap grew by 0.8 of its budget in 500 ms: at that pace emergency (0.95) is 31 ms away, so the
    // next poll comes at a third of that; once the heap is flat, the level's interval applies.
    const aheadMs = (0.05 * HEAP_BUDGET) / ((0.8 * HEAP_BUDGET) / 500) / 3;
    assert.ok(Math.abs(monitor.currentPollingIntervalMs() - aheadMs) < 1e-9);
    // A poll 10 ms later reads the same heap, but 10 ms is too short to call it flat (the old generation grows
    // in steps, at scavenges): the rate stands, and polls keep coming ahead of it.
    await clock.advanceAsync(monitor.currentPollingIntervalMs());
    assert.ok(Math.abs(monitor.currentPollingIntervalMs() - aheadMs) < 1e-9, 'a reading under 100 ms after the last keeps its rate');
    // Flat over 100 ms: the level's interval applies.
    const polled = states.length;
    await clock.advanceAsync(100);
    assert.ok(states.length - polled >= 5, `polls ahead of growth within those 100 ms (${states.length - polled})`);
    assert.equal(monitor.currentPollingIntervalMs(), 100);
    const before = states.length;
    await clock.advanceAsync(100);
    assert.equal(states.length, before + 1, 'next poll 100 ms later');
    runtime.oldGenerationUsedBytes = 0.97 * HEAP_BUDGET;
    await clock.advanceAsync(100);
    assert.equal(monitor.currentPressure(), 'emergency');
    assert.equal(monitor.currentPollingIntervalMs(), 50);
    assert.equal(monitor.lastReading?.signals.length, 4, 'the per-signal breakdown of the last poll');
    monitor.close();
    assert.equal(monitor.isMonitoring, false);
  });

  it('reports level changes and signal failures to its telemetry', async () => {
    const clock = new ManualClock(0);
    const runtime = heapAt(0.1);
    const changes: string[] = [];
    const errors: string[] = [];
    const telemetry = {
      recordCacheSize() {},
      recordEviction() {},
      recordPressureChange: (from: string, to: string) => changes.push(`${from}->${to}`),
      recordError: (error: Error) => errors.push(error.message),
    };
    const monitor = createNodeMemoryMonitor({ root: fixture('no-cgroup'), runtime, clock, pollOnGc: false, signals: ['heap'], telemetry });
    await monitor.poll();
    runtime.oldGenerationUsedBytes = 0.9 * HEAP_BUDGET;
    await monitor.poll();
    runtime.oldGenerationUsedBytes = 0.1 * HEAP_BUDGET;
    await monitor.poll();
    assert.deepEqual(changes, ['normal->critical', 'critical->normal']);
    runtime.heapSpaces = () => {
      throw new Error('heap statistics unavailable');
    };
    await monitor.poll();
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /heap statistics unavailable/);
    monitor.close();
  });

  it('a MemoryManager over the monitor reports its drops, which the container signal leaves out after a collection', () => {
    let externalBytes = 60 * MIB;
    const runtime = fakeRuntime({ v8Memory: () => ({ heapCommittedBytes: 20 * MIB, externalBytes }) });
    const monitor = createNodeMemoryMonitor({ root: fixture('cgroup-v2'), runtime, clock: new ManualClock(0), pollOnGc: false, signals: ['container'] });
    const cache = new MemoryManager<string, Uint8Array>({ pressureHandler: monitor });
    const workingSet = 402_653_184 - 67_108_864;
    const used = () => monitor.lastReading!.signals.find((s) => s.signal === 'container')!.usedBytes;
    void monitor.poll();
    assert.equal(used(), workingSet);
    cache.set('a', new Uint8Array(8), { size: 8 * MIB });
    cache.delete('a');
    monitor.signals.noteMajorCollection();
    externalBytes = 70 * MIB; // new Buffers since
    void monitor.poll();
    assert.equal(used(), workingSet - 8 * MIB);
    assert.throws(() => monitor.noteReleased(-1), { name: 'RangeError', message: /noteReleased: bytes .* got -1/ });
    assert.throws(() => monitor.noteReleased(Number.NaN), /got NaN/);
    cache.dispose();
    monitor.close();
  });

  it('forces a full collection, in a timer after the poll, when the container is above normal and caches dropped a quarter of the reserve; spaced by 250 ms and 50x its length', () => {
    const tree = fixtureCopy('cgroup-v2');
    const ctr = 'sys/fs/cgroup/kubepods/pod1/ctr/memory.current';
    // The fake collection takes 20 ms of this clock's time.
    const manual = new ManualClock(0);
    let collectingMs = 0;
    const clock = {
      now: () => manual.now() + collectingMs,
      setTimeout: (callback: () => void, delayMs: number, options?: { keepAlive?: boolean }) => manual.setTimeout(callback, delayMs, options),
      clearTimeout: (handle: unknown) => manual.clearTimeout(handle),
    };
    const advance = (ms: number) => manual.advance(ms);
    let collections = 0;
    let collected = () => {};
    // The limit is the pod's 512 MiB, the budget 448 MiB after the 64 MiB reserve; 64 MiB of the usage is inactive files.
    const workingSetAt = (fraction: number) => tree.write(ctr, String(Math.round(fraction * 448 * MIB + 64 * MIB)));
    const runtime = fakeRuntime({
      v8Memory: () => ({ heapCommittedBytes: 20 * MIB, externalBytes: 60 * MIB }),
      collectGarbage: () => {
        collections++;
        collectingMs += 20;
        collected();
        return true;
      },
    });
    const monitor = createNodeMemoryMonitor({ root: tree.root, runtime, clock, pollOnGc: false, signals: ['container'] });
    // A poll, then the timer it may have set.
    const poll = (m: typeof monitor) => {
      void m.poll();
      advance(0);
    };
    // What the monitor's collection observer does (it is off here, as pollOnGc is).
    collected = () => monitor.signals.noteMajorCollection();
    try {
      workingSetAt(0.85);
      monitor.noteReleased(15 * MIB);
      poll(monitor);
      assert.equal(monitor.currentMemoryState().level, 'moderate');
      assert.equal(collections, 0, '15 MiB dropped is under a quarter of the 64 MiB reserve');
      monitor.noteReleased(2 * MIB);
      void monitor.poll();
      assert.equal(collections, 0, 'not within the poll');
      advance(0);
      assert.equal(collections, 1, 'in a timer right after it');
      assert.deepEqual(monitor.collections, { count: 1, totalMs: 20 });
      advance(5000);
      poll(monitor);
      assert.equal(collections, 2, 'the drops of the cycle before the last collection still count');
      advance(5000);
      poll(monitor);
      assert.equal(collections, 2, 'nothing dropped in the two cycles since');
      monitor.noteReleased(16 * MIB);
      poll(monitor);
      assert.equal(collections, 3);
      monitor.signals.noteMajorCollection();
      monitor.signals.noteMajorCollection();
      monitor.noteReleased(16 * MIB);
      advance(979);
      poll(monitor);
      assert.equal(collections, 3, 'the next comes 50 x 20 ms after the last began');
      advance(1);
      poll(monitor);
      assert.equal(collections, 4);
      monitor.noteReleased(16 * MIB);
      advance(5000);
      workingSetAt(0.5);
      poll(monitor);
      assert.equal(monitor.currentMemoryState().level, 'normal');
      assert.equal(collections, 4, 'never at normal');
    } finally {
      monitor.close();
    }
    workingSetAt(0.97);
    const off = createNodeMemoryMonitor({ root: tree.root, runtime, clock, pollOnGc: false, signals: ['container'], collectUnderPressure: false });
    off.noteReleased(64 * MIB);
    poll(off);
    assert.equal(off.currentMemoryState().level, 'emergency');
    assert.equal(collections, 4, 'collectUnderPressure: false');
    off.close();
    const { collectGarbage: _, ...withoutCollector } = runtime;
    const unable = createNodeMemoryMonitor({ root: tree.root, runtime: withoutCollector, clock, pollOnGc: false, signals: ['container'] });
    unable.noteReleased(64 * MIB);
    poll(unable);
    assert.deepEqual(unable.collections, { count: 0, totalMs: 0 }, 'a runtime without collectGarbage');
    unable.close();
    tree.dispose();
    assert.throws(() => createNodeMemoryMonitor({ collectUnderPressure: 'yes' as unknown as boolean }), { name: 'TypeError', message: /collectUnderPressure must be a boolean, got yes/ });
  });

  it('honours explicit intervals and rejects bad ones', () => {
    const monitor = createNodeMemoryMonitor({ root: fixture('no-cgroup'), runtime: heapAt(0.1), clock: new ManualClock(0), pollingIntervalMs: 2000, pollingIntervalMsByLevel: { moderate: 700 } });
    assert.equal(monitor.currentPollingIntervalMs(), 2000);
    assert.throws(() => createNodeMemoryMonitor({ pollingIntervalMsByLevel: { critical: 0 } }), /pollingIntervalMsByLevel\.critical/);
    assert.throws(() => createNodeMemoryMonitor({ minGcPollIntervalMs: -1 }), /minGcPollIntervalMs.*-1/);
    assert.throws(() => createNodeMemoryMonitor({ pollOnGc: 'yes' as unknown as boolean }), /pollOnGc/);
    assert.throws(() => createNodeMemoryMonitor({ holdHeapUntilGc: 1 as unknown as boolean }), /holdHeapUntilGc/);
  });

  it('polls after a full garbage collection while monitoring, and not after stopMonitoring', needsGc, async () => {
    const clock = new ManualClock(0);
    const monitor = createNodeMemoryMonitor({ root: fixture('no-cgroup'), runtime: heapAt(0.1), clock, pollingIntervalMs: 60_000 });
    let samples = 0;
    monitor.states.subscribe(() => samples++);
    monitor.startMonitoring();
    const afterStart = samples;
    await collectGarbage();
    assert.equal(samples, afterStart + 1, 'a GC-triggered poll');
    monitor.stopMonitoring();
    const afterStop = samples;
    clock.advance(1000);
    await collectGarbage();
    assert.equal(samples, afterStop);
  });

  it('holds timer polls while the heap is critical until a full GC has run or the normal interval has passed; explicit polls always sample', needsGc, async () => {
    const clock = new ManualClock(0);
    const runtime = heapAt(0.9);
    const monitor = createNodeMemoryMonitor({ root: fixture('no-cgroup'), runtime, clock, signals: ['heap'] });
    let samples = 0;
    monitor.states.subscribe(() => samples++);
    monitor.startMonitoring();
    assert.equal(monitor.currentPressure(), 'critical');
    const afterStart = samples;
    await clock.advanceAsync(400);
    assert.equal(samples, afterStart, 'four critical-interval ticks, no full GC: nothing sampled');
    await collectGarbage();
    assert.equal(samples, afterStart + 1, 'the GC-triggered poll sampled');
    await clock.advanceAsync(100);
    assert.equal(samples, afterStart + 1, 'held again after that sample');
    await clock.advanceAsync(400);
    assert.equal(samples, afterStart + 2, 'a timer poll once pollingIntervalMs (500) has passed since the last sample');
    await monitor.poll();
    assert.equal(samples, afterStart + 3, 'an explicit poll samples');
    monitor.close();

    const eager = createNodeMemoryMonitor({ root: fixture('no-cgroup'), runtime, clock, signals: ['heap'], holdHeapUntilGc: false });
    let eagerSamples = 0;
    eager.states.subscribe(() => eagerSamples++);
    eager.startMonitoring();
    const eagerStart = eagerSamples;
    await clock.advanceAsync(400);
    assert.ok(eagerSamples >= eagerStart + 4, 'without the hold, every 100 ms tick samples');
    eager.close();
  });

  it('reads this machine: every signal listed, the heap always available, meminfo on Linux', () => {
    const reading = readNodeMemorySignals();
    const byName = Object.fromEntries(reading.signals.map((s) => [s.signal, s]));
    assert.equal(byName['heap']?.available, true);
    assert.ok((byName['heap']?.usedBytes ?? 0) > 0);
    assert.ok((byName['system']?.budgetBytes ?? 0) > 0);
    if (existsSync('/proc/meminfo')) assert.match(byName['system']?.detail ?? '', /MemAvailable/);
    if (existsSync('/proc/pressure/memory')) assert.equal(byName['psi']?.available, true);
  });
});
