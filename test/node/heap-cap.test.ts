/**
 * Heap cap against container limit, on fixture trees: the monitor warns once
 * when V8's heap limit is above the cgroup's limit, with the
 * --max-old-space-size that fits, and stays quiet when the heap fits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { checkHeapCap, createNodeMemoryMonitor, fittingMaxOldSpaceSizeMb, HeapCapWarning, NodeMemorySignals, type HeapCapWarning as Warning } from '../../src/node/index.js';
import { fakeRuntime, fixture, MIB } from './helpers.js';

describe('heap cap against container limit', () => {
  it('suggests three quarters of the limit less 48 MiB for Node outside the heap', () => {
    assert.equal(fittingMaxOldSpaceSizeMb(256 * MIB), 156);
    assert.equal(fittingMaxOldSpaceSizeMb(512 * MIB), 348);
    assert.equal(fittingMaxOldSpaceSizeMb(32 * MIB), 16, 'never below 16 MiB');
    assert.equal(checkHeapCap(2096 * MIB, null), undefined, 'no limit, no warning');
    assert.equal(checkHeapCap(200 * MIB, 256 * MIB), undefined, 'a heap that fits');
    const warning = checkHeapCap(2096 * MIB, 256 * MIB);
    assert.ok(warning instanceof HeapCapWarning);
    assert.match(warning.message, /V8's heap limit \(2096 MiB\) is above the container's memory limit \(256 MiB\).*--max-old-space-size=156/);
  });

  it('a monitor with a 2 GiB heap in a 512 MiB cgroup (fixture) warns once, at the first poll, naming the flag that fits', async () => {
    const clock = new ManualClock();
    const runtime = fakeRuntime({ heapSizeLimitBytes: () => 2096 * MIB, v8Flags: () => ['--max-old-space-size=2048'] });
    const monitor = createNodeMemoryMonitor({ root: fixture('cgroup-v2'), runtime, clock, pollOnGc: false });
    const seen: Warning[] = [];
    const errors: Error[] = [];
    monitor.warnings.subscribe((w) => seen.push(w));
    monitor.errors.subscribe((e) => errors.push(e));
    assert.equal(monitor.heapCapWarning, undefined, 'not checked before the first poll');
    for (let i = 0; i < 4; i++) await monitor.poll();
    assert.equal(seen.length, 1, 'once, however many polls');
    assert.deepEqual(errors, [], 'a warning, not a failed poll');
    const [warning] = seen;
    assert.ok(warning instanceof HeapCapWarning);
    assert.equal(warning.containerLimitBytes, 512 * MIB);
    assert.equal(warning.heapSizeLimitBytes, 2096 * MIB);
    assert.equal(warning.suggestedMaxOldSpaceSizeMb, 348);
    assert.match(warning.message, /start Node with --max-old-space-size=348/);
    assert.equal(monitor.heapCapWarning, warning, 'kept for late readers');
    monitor.close();
  });

  it('a 2 GiB heap in a 512 MiB cgroup (fixture): the heap signal measures against the limit less 48 MiB, V8\'s own maximum once the limit is gone', () => {
    const runtime = fakeRuntime({ heapSizeLimitBytes: () => 2096 * MIB, v8Flags: () => ['--max-old-space-size=2048'] });
    runtime.oldGenerationUsedBytes = 300 * MIB;
    const capped = new NodeMemorySignals({ root: fixture('cgroup-v2'), runtime });
    const heap = capped.read().signals.find((s) => s.signal === 'heap');
    assert.equal(heap?.budgetBytes, 0.8 * (512 - 48) * MIB, "0.8 (V8's give-up line) of what the container leaves the heap");
    assert.match(heap?.detail ?? '', /vs 0\.8 x 464 MiB: the container's 512 MiB limit less 48 MiB outside the heap, under V8's 2048 MiB/);
    assert.equal(heap?.level, 'moderate', '300 MiB of 371 MiB is past 0.7: the signal fires before the container kills');
    const unlimited = new NodeMemorySignals({ root: fixture('cgroup-v1-unlimited'), runtime });
    const own = unlimited.read().signals.find((s) => s.signal === 'heap');
    assert.equal(own?.budgetBytes, 0.8 * 2048 * MIB, "no limit: V8's maximum");
    assert.equal(own?.level, 'normal');
    const fits = new NodeMemorySignals({ root: fixture('cgroup-v2'), runtime: fakeRuntime() });
    assert.equal(fits.read().signals.find((s) => s.signal === 'heap')?.budgetBytes, 0.8 * 96 * MIB, 'a heap that fits keeps its own maximum');
    for (const s of [capped, unlimited, fits]) s.close();
  });

  it('stays quiet when the heap fits the limit, without a limit, or without the container signal', async () => {
    const fits = createNodeMemoryMonitor({ root: fixture('cgroup-v2'), runtime: fakeRuntime(), clock: new ManualClock(), pollOnGc: false });
    const unlimited = createNodeMemoryMonitor({
      root: fixture('cgroup-v1-unlimited'),
      runtime: fakeRuntime({ heapSizeLimitBytes: () => 2096 * MIB }),
      clock: new ManualClock(),
      pollOnGc: false,
    });
    for (const monitor of [fits, unlimited]) {
      let count = 0;
      monitor.warnings.subscribe(() => count++);
      await monitor.poll();
      assert.equal(count, 0);
      assert.equal(monitor.heapCapWarning, undefined);
      monitor.close();
    }
    const heapOnly = new NodeMemorySignals({ root: fixture('cgroup-v2'), runtime: fakeRuntime({ heapSizeLimitBytes: () => 2096 * MIB }), signals: ['heap'] });
    assert.equal(heapOnly.heapCapWarning, undefined);
    const both = new NodeMemorySignals({ root: fixture('cgroup-v2'), runtime: fakeRuntime({ heapSizeLimitBytes: () => 2096 * MIB }) });
    assert.ok(both.heapCapWarning instanceof HeapCapWarning);
    heapOnly.close();
    both.close();
  });
});
