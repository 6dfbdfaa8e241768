// A lone measureUserAgentSpecificMemory waits for its first measurement,
// which a browser may delay: the monitor's sample timeout applies to it
// (runs on a fake browser environment in Node, on ManualClock).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { createBrowserMemoryMonitor } from '../../src/browser/index.js';
import { FakeHeap, fakeBrowser, flush } from './fakes.js';

test('a slow first measureUserAgentSpecificMemory times out at the default sampleTimeoutMs, then lands on a later poll', async () => {
  const b = fakeBrowser({ isolated: true, heap: new FakeHeap(1, 1000) });
  const clock = new ManualClock();
  const monitor = createBrowserMemoryMonitor({ environment: b.environment, source: 'measureUserAgentSpecificMemory', heapLimitFraction: 1, pollingIntervalMs: 100, clock });
  const errors: string[] = [];
  monitor.errors.subscribe((error) => errors.push(error.message));
  assert.equal(monitor.sampleTimeoutMs, 1_000);
  monitor.startMonitoring();
  await clock.advanceAsync(1_000);
  assert.deepEqual(errors, ['memoryProvider did not settle within sampleTimeoutMs (1000 ms); the sample was abandoned']);
  await clock.advanceAsync(100);
  assert.equal(b.uasm!.calls, 1, 'the next poll waits on the same measurement rather than starting another');
  b.uasm!.resolveNext(900);
  await flush();
  assert.deepEqual([monitor.currentMemoryState().source, monitor.currentPressure()], ['measureUserAgentSpecificMemory', 'critical']);
  monitor.stopMonitoring();
});

test('sampleTimeoutMs passed to createBrowserMemoryMonitor lets the first measurement take longer without an error', async () => {
  const b = fakeBrowser({ isolated: true, heap: new FakeHeap(1, 1000) });
  const clock = new ManualClock();
  const monitor = createBrowserMemoryMonitor({ environment: b.environment, source: 'measureUserAgentSpecificMemory', heapLimitFraction: 1, pollingIntervalMs: 100, sampleTimeoutMs: 30_000, clock });
  const errors: Error[] = [];
  monitor.errors.subscribe((error) => errors.push(error));
  monitor.startMonitoring();
  await clock.advanceAsync(20_000);
  assert.deepEqual(errors, []);
  b.uasm!.resolveNext(900);
  await flush();
  assert.equal(monitor.currentPressure(), 'critical');
  monitor.stopMonitoring();
  assert.throws(() => createBrowserMemoryMonitor({ environment: b.environment, source: 'measureUserAgentSpecificMemory', heapLimitFraction: 1, sampleTimeoutMs: -1 }), {
    name: 'RangeError',
    message: /sampleTimeoutMs must be a positive finite number of milliseconds, got -1/,
  });
});
