import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import type { MemorySample } from '../../src/pressure/memory-state.js';
import {
  budgetProvider,
  detectBrowserMemorySupport,
  heapBudgetBytes,
  isQuantizedByteCount,
  performanceMemoryProvider,
  uaSpecificMemoryProvider,
} from '../../src/browser/index.js';
import { CHROMIUM_HEAP_LIMIT, FakeHeap, fakeBrowser, flush, MIB } from './fakes.js';

describe('performanceMemoryProvider', () => {
  test('reports usedJSHeapSize against 75% of jsHeapSizeLimit', () => {
    const { environment } = fakeBrowser({ heap: new FakeHeap(500 * MIB) });
    const sample = performanceMemoryProvider({ environment })();
    assert.equal(sample.usedBytes, 500 * MIB);
    assert.equal(sample.availableBytes, 0.75 * CHROMIUM_HEAP_LIMIT - 500 * MIB);
    assert.equal(sample.source, 'performance.memory');
  });

  test('reads the heap afresh on every sample', () => {
    const b = fakeBrowser({ heap: new FakeHeap(10 * MIB, 1000 * MIB) });
    const provider = performanceMemoryProvider({ environment: b.environment, heapLimitFraction: 1 });
    assert.equal(provider().availableBytes, 990 * MIB);
    b.heap!.usedJSHeapSize = 900 * MIB;
    assert.deepEqual(provider(), { usedBytes: 900 * MIB, availableBytes: 100 * MIB, source: 'performance.memory' });
  });

  test('budgetBytes lowers the heap budget but never raises it past the heap limit', () => {
    const { environment } = fakeBrowser({ heap: new FakeHeap(100 * MIB, 1000 * MIB) });
    assert.equal(performanceMemoryProvider({ environment, budgetBytes: 200 * MIB })().availableBytes, 100 * MIB);
    assert.equal(performanceMemoryProvider({ environment, budgetBytes: 10_000 * MIB })().availableBytes, 650 * MIB);
    assert.equal(heapBudgetBytes(new FakeHeap(0, 1000), 0.5, 400), 400);
    assert.equal(heapBudgetBytes(new FakeHeap(0, 1000), 0.5, 600), 500);
  });

  test('a heap over its budget reports no available bytes (usage 1)', () => {
    const { environment } = fakeBrowser({ heap: new FakeHeap(900, 1000) });
    assert.deepEqual(performanceMemoryProvider({ environment })(), { usedBytes: 900, availableBytes: 0, source: 'performance.memory' });
  });

  test('fails at creation where the browser has no performance.memory', () => {
    for (const environment of [{}, { performance: {} }, { performance: { memory: undefined } }, fakeBrowser({ heap: undefined }).environment]) {
      assert.throws(() => performanceMemoryProvider({ environment }), (e: unknown) => e instanceof TypeError && /does not expose performance\.memory/.test(e.message));
    }
  });

  test('a malformed reading fails the sample with the field named', () => {
    const b = fakeBrowser({ heap: new FakeHeap(1) });
    const provider = performanceMemoryProvider({ environment: b.environment });
    b.heap!.usedJSHeapSize = Number.NaN;
    assert.throws(provider, /performance\.memory\.usedJSHeapSize must be a non-negative finite number of bytes, got NaN/);
    b.heap!.usedJSHeapSize = 1;
    b.heap!.jsHeapSizeLimit = 0;
    assert.throws(provider, /jsHeapSizeLimit must be a positive finite number of bytes, got 0/);
  });

  test('rejects bad options, naming the field and the value', () => {
    const { environment } = fakeBrowser();
    for (const heapLimitFraction of [0, -0.1, 1.5, Number.NaN]) {
      assert.throws(() => performanceMemoryProvider({ environment, heapLimitFraction }), (e: unknown) => e instanceof RangeError && e.message.includes(`heapLimitFraction must be a number in (0, 1], got ${heapLimitFraction}`));
    }
    assert.throws(() => performanceMemoryProvider({ environment, budgetBytes: -1 }), /budgetBytes must be a positive finite number of bytes, got -1/);
    assert.throws(() => performanceMemoryProvider({ environment, budget: 5 } as never), (e: unknown) => e instanceof TypeError && e.message.includes('unknown option "budget"'));
    assert.throws(() => performanceMemoryProvider({ environment: 42 as never }), /environment must be an object/);
  });
});

describe('quantization and support detection', () => {
  test('recognizes the rounded figures of a quantized performance.memory', () => {
    for (const value of [10_000_000, 3_760_000_000, 41_200_000, 123_000_000]) assert.equal(isQuantizedByteCount(value), true, String(value));
    for (const value of [CHROMIUM_HEAP_LIMIT, 2_172_649_472, 41_194_611, 1_000_001, 999_999, 0, 1.5e7 + 0.5]) assert.equal(isQuantizedByteCount(value), false, String(value));
  });

  test('never takes a whole-mebibyte heap limit below 10 GB for a quantized one', () => {
    for (let mib = 10; mib * MIB < 10e9; mib++) {
      if (isQuantizedByteCount(mib * MIB)) assert.fail(`${mib} MiB taken for quantized`);
    }
  });

  test('reports which signals exist and why the others are missing', () => {
    const plain = detectBrowserMemorySupport(fakeBrowser().environment);
    assert.deepEqual(plain.performanceMemory, { available: true, quantized: false, jsHeapSizeLimit: CHROMIUM_HEAP_LIMIT });
    assert.equal(plain.userAgentSpecificMemory.available, false);
    assert.match((plain.userAgentSpecificMemory as { reason: string }).reason, /Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/);

    const isolated = detectBrowserMemorySupport(fakeBrowser({ isolated: true, heap: new FakeHeap(10_000_000, 3_760_000_000) }).environment);
    assert.deepEqual(isolated.userAgentSpecificMemory, { available: true });
    assert.deepEqual(isolated.performanceMemory, { available: true, quantized: true, jsHeapSizeLimit: 3_760_000_000 });

    const isolatedWithoutApi = detectBrowserMemorySupport(fakeBrowser({ isolated: true, uasm: false }).environment);
    assert.match((isolatedWithoutApi.userAgentSpecificMemory as { reason: string }).reason, /does not implement performance\.measureUserAgentSpecificMemory/);

    const firefox = detectBrowserMemorySupport({ performance: {}, crossOriginIsolated: false });
    assert.equal(firefox.performanceMemory.available, false);
  });

  test('finds nothing in Node without touching Node-only APIs', () => {
    const support = detectBrowserMemorySupport();
    assert.equal(support.performanceMemory.available, false);
    assert.equal(support.userAgentSpecificMemory.available, false);
  });
});

describe('uaSpecificMemoryProvider', () => {
  test('fails at creation outside a cross-origin isolated page, saying which headers isolate it', () => {
    const { environment } = fakeBrowser({ isolated: false, uasm: true });
    assert.throws(() => uaSpecificMemoryProvider({ environment }), (e: unknown) => e instanceof TypeError && /not cross-origin isolated.*Cross-Origin-Embedder-Policy: require-corp/.test(e.message));
  });

  test('fails at creation where the browser lacks the API', () => {
    const { environment } = fakeBrowser({ isolated: true, uasm: false });
    assert.throws(() => uaSpecificMemoryProvider({ environment }), /does not implement performance\.measureUserAgentSpecificMemory/);
  });

  test('needs budgetBytes where no performance.memory gives a heap budget', () => {
    const { environment } = fakeBrowser({ isolated: true, heap: undefined });
    assert.throws(() => uaSpecificMemoryProvider({ environment }), (e: unknown) => e instanceof TypeError && e.message.includes('needs budgetBytes'));
    assert.doesNotThrow(() => uaSpecificMemoryProvider({ environment, budgetBytes: 100 }));
  });

  test('the first sample waits for the first measurement, called on the performance object', async () => {
    const b = fakeBrowser({ isolated: true, heap: new FakeHeap(1, 1000 * MIB) });
    const provider = uaSpecificMemoryProvider({ environment: b.environment, clock: new ManualClock() });
    const first = provider();
    assert.ok(first instanceof Promise);
    assert.equal(b.uasm!.calls, 1);
    assert.equal(b.uasm!.receivers[0], b.environment.performance);
    b.uasm!.resolveNext(300 * MIB);
    assert.deepEqual(await first, { usedBytes: 300 * MIB, availableBytes: 450 * MIB, source: 'measureUserAgentSpecificMemory' });
  });

  test('answers from the last measurement and starts at most one per measureIntervalMs, never two at once', async () => {
    const clock = new ManualClock();
    const b = fakeBrowser({ isolated: true });
    const provider = uaSpecificMemoryProvider({ environment: b.environment, clock, budgetBytes: 1000, measureIntervalMs: 10_000 });
    const first = provider();
    b.uasm!.resolveNext(100);
    assert.equal(((await first) as MemorySample).usedBytes, 100);

    clock.advance(9_999);
    assert.deepEqual(provider(), { usedBytes: 100, availableBytes: 900, source: 'measureUserAgentSpecificMemory' });
    assert.equal(b.uasm!.calls, 1, 'no new measurement before the interval');

    clock.advance(1);
    assert.equal((provider() as MemorySample).usedBytes, 100, 'answers at once from the last result while measuring');
    assert.equal(b.uasm!.calls, 2);
    clock.advance(60_000);
    provider();
    provider();
    assert.equal(b.uasm!.calls, 2, 'a slow measurement is never stacked');

    b.uasm!.resolveNext(700);
    await flush();
    assert.equal((provider() as MemorySample).usedBytes, 700);
    assert.equal(b.uasm!.calls, 3, 'the interval had passed since the last start, so a new one started');
  });

  test('a failed background measurement is thrown by the next sample, then sampling goes on', async () => {
    const clock = new ManualClock();
    const b = fakeBrowser({ isolated: true });
    const provider = uaSpecificMemoryProvider({ environment: b.environment, clock, budgetBytes: 1000, measureIntervalMs: 100 });
    const first = provider();
    b.uasm!.resolveNext(100);
    await first;
    clock.advance(100);
    provider();
    b.uasm!.rejectNext(new DOMException('measurement was interrupted', 'AbortError'));
    await flush();
    assert.throws(provider, /measureUserAgentSpecificMemory failed: AbortError: measurement was interrupted/);
    assert.equal((provider() as MemorySample).usedBytes, 100, 'the last good measurement still answers');
  });

  test('a failed first measurement rejects the sample and the next one retries at once', async () => {
    const clock = new ManualClock();
    const b = fakeBrowser({ isolated: true });
    const provider = uaSpecificMemoryProvider({ environment: b.environment, clock, budgetBytes: 1000 });
    const first = provider();
    b.uasm!.rejectNext(new Error('boom'));
    await assert.rejects(first as Promise<MemorySample>, /measureUserAgentSpecificMemory failed: Error: boom/);
    const second = provider();
    assert.equal(b.uasm!.calls, 2);
    b.uasm!.resolveNext(10);
    assert.equal(((await second) as MemorySample).usedBytes, 10);
  });

  test('a malformed result is a failure, not a sample', async () => {
    const b = fakeBrowser({ isolated: true });
    const provider = uaSpecificMemoryProvider({ environment: b.environment, clock: new ManualClock(), budgetBytes: 1000 });
    const first = provider();
    b.uasm!.resolveNextRaw({ bytes: -5 });
    await assert.rejects(first as Promise<MemorySample>, /measureUserAgentSpecificMemory\(\)\.bytes must be a non-negative finite number of bytes, got -5/);
    const second = provider();
    b.uasm!.resolveNextRaw(null);
    await assert.rejects(second as Promise<MemorySample>, /got undefined/);
  });

  test('rejects bad options, naming the field and the value', () => {
    const { environment } = fakeBrowser({ isolated: true });
    assert.throws(() => uaSpecificMemoryProvider({ environment, measureIntervalMs: 0 }), /measureIntervalMs must be a positive finite number of milliseconds, got 0/);
    assert.throws(() => uaSpecificMemoryProvider({ environment, budgetBytes: Number.POSITIVE_INFINITY }), /budgetBytes must be a positive finite number of bytes, got Infinity/);
    assert.throws(() => uaSpecificMemoryProvider({ environment, intervalMs: 5 } as never), /unknown option "intervalMs"/);
  });
});

describe('budgetProvider', () => {
  test('compares what the app holds with its budget', () => {
    let held = 250;
    const provider = budgetProvider({ budgetBytes: 1000, measure: () => held });
    assert.deepEqual(provider(), { usedBytes: 250, availableBytes: 750, source: 'budget' });
    held = 1200;
    assert.deepEqual(provider(), { usedBytes: 1200, availableBytes: 0, source: 'budget' });
    assert.equal(budgetProvider({ budgetBytes: 1, measure: () => 0, source: 'cache' })().source, 'cache');
  });

  test('a measure that throws or returns a bad figure fails the sample', () => {
    assert.throws(budgetProvider({ budgetBytes: 1, measure: () => { throw new Error('broken'); } }), /broken/);
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY, '5']) {
      assert.throws(budgetProvider({ budgetBytes: 1, measure: () => bad as number }), (e: unknown) => e instanceof TypeError && e.message.startsWith('measure() must be a non-negative finite number of bytes'));
    }
  });

  test('rejects missing or bad options, naming the field and the value', () => {
    assert.throws(() => budgetProvider(undefined as never), /options \{ budgetBytes, measure \} are required/);
    assert.throws(() => budgetProvider({ budgetBytes: 0, measure: () => 0 }), (e: unknown) => e instanceof RangeError && e.message === 'budgetBytes must be a positive finite number of bytes, got 0');
    assert.throws(() => budgetProvider({ budgetBytes: 10, measure: 5 as never }), (e: unknown) => e instanceof TypeError && e.message === 'measure must be a function, got 5');
    assert.throws(() => budgetProvider({ budgetBytes: 10, measure: () => 0, maxBytes: 1 } as never), /unknown option "maxBytes"/);
    assert.throws(() => budgetProvider({ budgetBytes: 10, measure: () => 0, source: '' }), /source must be a non-empty string/);
  });
});
