import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { PollingMemoryMonitor } from '../../src/pressure/polling-memory-monitor.js';
import { MemoryThresholds } from '../../src/pressure/thresholds.js';
import { BrowserMemoryMonitor, createBrowserMemoryMonitor } from '../../src/browser/index.js';
import { FakeHeap, fakeBrowser, flush, MIB } from './fakes.js';

function collect<T>(stream: { subscribe(f: (v: T) => void): unknown }): T[] {
  const seen: T[] = [];
  stream.subscribe((v) => seen.push(v));
  return seen;
}

// These run in Node against fake browser environments (fakes.ts); the same
// choices in real headless Chromium are tested in chromium.test.ts.
describe('createBrowserMemoryMonitor: choosing signals (fake environments in Node)', () => {
  test('given a fake Chromium-like performance.memory, it reads it and publishes at start', () => {
    const b = fakeBrowser({ heap: new FakeHeap(600 * MIB, 1000 * MIB) });
    const monitor = createBrowserMemoryMonitor({ environment: b.environment, clock: new ManualClock() });
    assert.ok(monitor instanceof PollingMemoryMonitor);
    assert.ok(monitor instanceof BrowserMemoryMonitor);
    assert.deepEqual(monitor.sources, ['performance.memory']);
    monitor.startMonitoring();
    const state = monitor.currentMemoryState();
    assert.equal(state.source, 'performance.memory');
    assert.equal(state.usage, 600 / 750);
    assert.equal(state.level, 'moderate');
    monitor.stopMonitoring();
  });

  test('given a fake cross-origin isolated environment and measure, it uses all three signals, in order of preference', () => {
    const b = fakeBrowser({ isolated: true });
    const monitor = createBrowserMemoryMonitor({ environment: b.environment, budgetBytes: 1000 * MIB, measure: () => 0 });
    assert.deepEqual(monitor.sources, ['measureUserAgentSpecificMemory', 'performance.memory', 'budget']);
  });

  test('given an environment with no browser signal (as in Firefox or Safari), the configured budget drives the levels', () => {
    let held = 100;
    const clock = new ManualClock();
    const monitor = createBrowserMemoryMonitor({ environment: { performance: {} }, budgetBytes: 1000, measure: () => held, pollingIntervalMs: 50, clock });
    assert.deepEqual(monitor.sources, ['budget']);
    const levels = collect(monitor.pressure);
    monitor.startMonitoring();
    held = 900;
    clock.advance(50);
    held = 980;
    clock.advance(50);
    held = 100;
    clock.advance(50);
    assert.deepEqual(levels, ['normal', 'critical', 'emergency', 'normal']);
    assert.equal(monitor.currentMemoryState().source, 'budget');
    monitor.stopMonitoring();
  });

  test('with no signal and no budget it fails at creation, naming budgetBytes and measure', () => {
    for (const environment of [{ performance: {} }, {}, undefined]) {
      assert.throws(
        () => createBrowserMemoryMonitor(environment === undefined ? {} : { environment }),
        (e: unknown) => e instanceof TypeError && e.message.includes('exposes no memory signal') && e.message.includes('Pass budgetBytes and measure'),
      );
    }
    // budgetBytes alone measures nothing.
    assert.throws(() => createBrowserMemoryMonitor({ environment: {}, budgetBytes: 1000 }), /Pass budgetBytes and measure/);
  });

  test('in Node (globalThis, no browser APIs) detection finds nothing and says so', () => {
    assert.throws(() => createBrowserMemoryMonitor(), /exposes no memory signal/);
    const monitor = createBrowserMemoryMonitor({ budgetBytes: 10, measure: () => 5, clock: new ManualClock() });
    assert.deepEqual(monitor.sources, ['budget']);
  });

  test('measure without budgetBytes is refused, naming budgetBytes', () => {
    assert.throws(() => createBrowserMemoryMonitor({ environment: fakeBrowser().environment, measure: () => 1 }), (e: unknown) => e instanceof TypeError && e.message.includes('measure needs budgetBytes'));
  });

  test('a forced source that is unavailable fails with the reason', () => {
    const { environment } = fakeBrowser({ isolated: false });
    assert.throws(
      () => createBrowserMemoryMonitor({ environment, source: 'measureUserAgentSpecificMemory' }),
      (e: unknown) => e instanceof TypeError && e.message.includes("source 'measureUserAgentSpecificMemory' is unavailable") && e.message.includes('Cross-Origin-Opener-Policy: same-origin'),
    );
    assert.throws(() => createBrowserMemoryMonitor({ environment: {}, source: 'performance.memory' }), /source 'performance.memory' is unavailable: this browser does not expose performance\.memory/);
    assert.throws(() => createBrowserMemoryMonitor({ environment, source: 'budget', budgetBytes: 5 }), /source 'budget' is unavailable: it needs the measure option/);
    assert.throws(() => createBrowserMemoryMonitor({ environment: fakeBrowser({ isolated: true, heap: undefined }).environment, source: 'measureUserAgentSpecificMemory' }), /needs budgetBytes/);
  });

  test('a quantized performance.memory is left out when another signal exists, and kept when it is all there is', () => {
    const quantized = () => fakeBrowser({ heap: new FakeHeap(10_000_000, 3_760_000_000) }).environment;
    assert.deepEqual(createBrowserMemoryMonitor({ environment: quantized(), budgetBytes: 100, measure: () => 1 }).sources, ['budget']);
    assert.deepEqual(createBrowserMemoryMonitor({ environment: quantized() }).sources, ['performance.memory']);
    assert.deepEqual(
      createBrowserMemoryMonitor({ environment: quantized(), source: ['performance.memory', 'budget'], budgetBytes: 100, measure: () => 1 }).sources,
      ['performance.memory', 'budget'],
      'named explicitly, it is used',
    );
    const isolatedQuantized = fakeBrowser({ isolated: true, heap: new FakeHeap(10_000_000, 3_760_000_000) }).environment;
    assert.deepEqual(createBrowserMemoryMonitor({ environment: isolatedQuantized }).sources, ['measureUserAgentSpecificMemory']);
  });

  test('a forced source restricts the monitor to it, listed in order of preference', () => {
    const { environment } = fakeBrowser({ isolated: true });
    assert.deepEqual(createBrowserMemoryMonitor({ environment, source: 'budget', budgetBytes: 1, measure: () => 0 }).sources, ['budget']);
    assert.deepEqual(
      createBrowserMemoryMonitor({ environment, source: ['budget', 'performance.memory'], budgetBytes: 1, measure: () => 0 }).sources,
      ['performance.memory', 'budget'],
    );
  });

  test('rejects bad options, naming the field and the value', () => {
    const { environment } = fakeBrowser();
    assert.throws(() => createBrowserMemoryMonitor({ environment, source: 'heap' as never }), (e: unknown) => e instanceof RangeError && e.message.includes('source must be') && e.message.endsWith('got "heap"'));
    assert.throws(() => createBrowserMemoryMonitor({ environment, source: [] }), /source must be .* got \[\]/);
    assert.throws(() => createBrowserMemoryMonitor({ environment, source: ['budget', 7] as never }), /got \["budget", 7\]/);
    assert.throws(() => createBrowserMemoryMonitor({ environment, budgetBytes: 0 }), /budgetBytes must be a positive finite number of bytes, got 0/);
    assert.throws(() => createBrowserMemoryMonitor({ environment, heapLimitFraction: 2 }), /heapLimitFraction must be a number in \(0, 1\], got 2/);
    assert.throws(() => createBrowserMemoryMonitor({ environment, measureIntervalMs: -1 }), /measureIntervalMs must be a positive finite number of milliseconds, got -1/);
    assert.throws(() => createBrowserMemoryMonitor({ environment, pollingIntervalMs: Number.NaN }), (e: unknown) => e instanceof RangeError && /pollingIntervalMs/.test(e.message));
    assert.throws(() => createBrowserMemoryMonitor({ environment, thresholds: { moderate: 0.9, critical: 0.5 } }), (e: unknown) => e instanceof RangeError && /critical must be above moderate/.test(e.message));
    assert.throws(() => createBrowserMemoryMonitor({ environment, measure: 'x' as never }), /measure must be a function, got "x"/);
    assert.throws(() => createBrowserMemoryMonitor({ environment, budget: 1 } as never), (e: unknown) => e instanceof TypeError && e.message.includes('unknown option "budget"'));
    assert.throws(() => createBrowserMemoryMonitor('auto' as never), /options must be an object, got "auto"/);
  });

  test('accepts thresholds as MemoryThresholds or as a plain object', () => {
    const { environment } = fakeBrowser({ heap: new FakeHeap(30, 100) });
    const plain = createBrowserMemoryMonitor({ environment, heapLimitFraction: 1, thresholds: { moderate: 0.2, critical: 0.5 }, clock: new ManualClock() });
    plain.startMonitoring();
    assert.equal(plain.currentPressure(), 'moderate');
    assert.equal(plain.thresholds.critical, 0.5);
    const instance = createBrowserMemoryMonitor({ environment, thresholds: MemoryThresholds.conservative });
    assert.equal(instance.thresholds, MemoryThresholds.conservative);
  });
});

describe('createBrowserMemoryMonitor: combining signals (fake environments in Node)', () => {
  test('reports the most pressing signal in state.source', () => {
    const b = fakeBrowser({ heap: new FakeHeap(100, 1000) });
    let held = 0;
    const clock = new ManualClock();
    const monitor = createBrowserMemoryMonitor({ environment: b.environment, heapLimitFraction: 1, budgetBytes: 1000, measure: () => held, pollingIntervalMs: 10, clock });
    monitor.startMonitoring();
    assert.equal(monitor.currentMemoryState().source, 'performance.memory');
    held = 800;
    clock.advance(10);
    assert.deepEqual(
      { source: monitor.currentMemoryState().source, used: monitor.currentMemoryState().usedBytes, level: monitor.currentPressure() },
      { source: 'budget', used: 800, level: 'moderate' },
    );
    b.heap!.usedJSHeapSize = 900;
    clock.advance(10);
    assert.equal(monitor.currentMemoryState().source, 'performance.memory');
    assert.equal(monitor.currentPressure(), 'critical');
    monitor.stopMonitoring();
  });

  test('budgetBytes caps the heap budget of performance.memory too', () => {
    const b = fakeBrowser({ heap: new FakeHeap(150 * MIB) });
    const monitor = createBrowserMemoryMonitor({ environment: b.environment, budgetBytes: 200 * MIB, measure: () => 50 * MIB, clock: new ManualClock() });
    monitor.startMonitoring();
    assert.equal(monitor.currentMemoryState().source, 'performance.memory');
    assert.equal(monitor.currentMemoryState().usage, 0.75);
    monitor.stopMonitoring();
  });

  test('the lagging measureUserAgentSpecificMemory joins once measured, without delaying the fast signal', async () => {
    const b = fakeBrowser({ isolated: true, heap: new FakeHeap(100, 1000) });
    const clock = new ManualClock();
    const monitor = createBrowserMemoryMonitor({ environment: b.environment, heapLimitFraction: 1, pollingIntervalMs: 1000, measureIntervalMs: 5000, clock });
    monitor.startMonitoring();
    assert.equal(monitor.currentMemoryState().source, 'performance.memory', 'published at once from the heap');
    assert.equal(b.uasm!.calls, 1);
    b.uasm!.resolveNext(600);
    await flush();
    clock.advance(1000);
    assert.deepEqual([monitor.currentMemoryState().source, monitor.currentMemoryState().usedBytes], ['measureUserAgentSpecificMemory', 600]);
    await clock.advanceAsync(3000);
    assert.equal(b.uasm!.calls, 1, 'rate limited between polls');
    await clock.advanceAsync(1000);
    assert.equal(b.uasm!.calls, 2);
    monitor.stopMonitoring();
  });

  test('a failing signal is reported on errors while the others still produce the state', async () => {
    const b = fakeBrowser({ isolated: true, heap: new FakeHeap(100, 1000) });
    const clock = new ManualClock();
    const monitor = createBrowserMemoryMonitor({ environment: b.environment, pollingIntervalMs: 1000, clock });
    const errors = collect(monitor.errors);
    const states = collect(monitor.states);
    monitor.startMonitoring();
    b.uasm!.rejectNext(new DOMException('not allowed', 'SecurityError'));
    await flush();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /measureUserAgentSpecificMemory failed: SecurityError: not allowed/);
    clock.advance(1000);
    assert.equal(states.length, 3, 'initial state plus two samples, none lost');

    b.heap!.usedJSHeapSize = Number.NaN;
    clock.advance(1000);
    assert.equal(states.length, 3, 'nothing left to sample: the last state stays');
    assert.equal(errors.length, 2);
    assert.match(errors[1]!.message, /performance\.memory failed: performance\.memory\.usedJSHeapSize must be/);
    monitor.stopMonitoring();
  });

  test('telemetry hears signal failures and level changes', async () => {
    const b = fakeBrowser({ isolated: true, heap: new FakeHeap(100, 1000) });
    const recorded: string[] = [];
    const telemetry = {
      recordCacheSize: () => {},
      recordEviction: () => {},
      recordPressureChange: (from: string, to: string) => recorded.push(`${from}->${to}`),
      recordError: (error: Error) => recorded.push(error.message),
    };
    const clock = new ManualClock();
    const monitor = createBrowserMemoryMonitor({ environment: b.environment, heapLimitFraction: 1, pollingIntervalMs: 10, clock, telemetry });
    monitor.startMonitoring();
    b.uasm!.rejectNext(new Error('gone'));
    await flush();
    b.heap!.usedJSHeapSize = 800;
    clock.advance(10);
    assert.deepEqual(recorded, ['measureUserAgentSpecificMemory failed: Error: gone', 'normal->moderate']);
    monitor.stopMonitoring();
  });

  test('when every signal fails, one error per poll is reported, naming each', () => {
    const b = fakeBrowser({ heap: new FakeHeap(Number.NaN, 1000) });
    const monitor = createBrowserMemoryMonitor({ environment: b.environment, budgetBytes: 10, measure: () => { throw new Error('cache gone'); }, clock: new ManualClock() });
    const errors = collect(monitor.errors);
    monitor.startMonitoring();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /performance\.memory failed: .*; budget failed: cache gone/);
    assert.equal(monitor.currentMemoryState().source, 'none');
    monitor.stopMonitoring();
  });

  test('a lone measureUserAgentSpecificMemory waits for its first result before publishing', async () => {
    const b = fakeBrowser({ isolated: true, heap: new FakeHeap(1, 1000) });
    const clock = new ManualClock();
    const monitor = createBrowserMemoryMonitor({ environment: b.environment, source: 'measureUserAgentSpecificMemory', heapLimitFraction: 1, pollingIntervalMs: 100, clock });
    monitor.startMonitoring();
    await clock.advanceAsync(500);
    assert.equal(monitor.currentMemoryState().source, 'none');
    assert.equal(b.uasm!.calls, 1, 'polls skipped while the first measurement is pending');
    b.uasm!.resolveNext(900);
    await flush();
    assert.deepEqual([monitor.currentMemoryState().source, monitor.currentPressure()], ['measureUserAgentSpecificMemory', 'critical']);
    monitor.stopMonitoring();
  });
});
