import assert from 'node:assert/strict';
import { test } from 'node:test';
import { from, take, toArray, firstValueFrom } from 'rxjs';
import { ManualClock, PollingMemoryMonitor } from '../src/index.js';

test('a monitor publishes its first sample at start and works with RxJS', async () => {
  const clock = new ManualClock();
  let used = 50;
  const monitor = new PollingMemoryMonitor({ memoryProvider: () => ({ usedBytes: used, availableBytes: 100 - used }), pollingIntervalMs: 100, clock });
  const levels = firstValueFrom(from(monitor.pressure).pipe(take(2), toArray()));
  monitor.startMonitoring();
  assert.equal(monitor.currentMemoryState().usedBytes, 50);
  used = 90;
  clock.advance(100);
  assert.deepEqual(await levels, ['normal', 'critical']);
  monitor.stopMonitoring();
  assert.equal(clock.pendingTimers, 0);
});
