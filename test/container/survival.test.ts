/**
 * A slice of the survival matrix (bench/survival.bench.ts), run for real: a
 * service caching 64 KiB payloads, half a Buffer and half on the V8 heap, at
 * about 60 MB/s of misses inside a
 * 256 MiB memory cgroup. A plain Map is OOM-killed by the kernel; the
 * hand-tuned budget (half the limit) and the monitor-driven cache with every
 * default both live to the end of the run; the monitor forces full
 * collections under the container's pressure, in under 2% of the run.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { probeMemoryCgroups } from '../../src/cli/container/memory-cgroup.js';
import { runSurvivalCell, type SurvivalCell } from '../../bench/survival/cell.js';
import { probeService } from '../helpers/services.js';

const probe = probeMemoryCgroups();
const cgroups = await probeService('a memory cgroup below this process (root, Linux)', async () => {
  if (!probe.available) throw new Error(probe.reason);
});

const cell: SurvivalCell = { limitMiB: 256, payload: 'mixed', rateMBps: 60, heap: 'default' };

describe('survival in a real 256 MiB memory cgroup, 64 KiB payloads half off-heap at 60 MB/s of misses', { skip: cgroups.skip }, () => {
  test('a plain Map is killed by the kernel OOM killer', async () => {
    const run = await runSurvivalCell(cell, 'map', 1);
    assert.equal(run.outcome.oomKilled, true, `the Map should outgrow the limit: ${JSON.stringify(run.outcome)}`);
    assert.equal(run.lived, false);
  });

  test('a fixed maxCacheBytes of half the limit lives', async () => {
    const run = await runSurvivalCell(cell, 'fixed', 1);
    assert.equal(run.lived, true, `${JSON.stringify(run.outcome)} ${run.stderr}`);
    assert.ok(run.result !== undefined && run.result.hitRatio > 0.2, JSON.stringify(run.result));
  });

  test('MemoryManager over createNodeMemoryMonitor() with every default lives, still caching, forcing collections in under 2% of the time', async () => {
    const run = await runSurvivalCell(cell, 'monitor', 1);
    assert.equal(run.lived, true, `${JSON.stringify(run.outcome)} ${run.stderr}`);
    const result = run.result!;
    assert.ok(run.outcome.peakBytes !== undefined && run.outcome.peakBytes < 256 * 1024 * 1024, `peak ${run.outcome.peakBytes}`);
    // It converges instead of flushing: after the warm-up it holds entries at every once-a-second reading.
    assert.ok(result.cacheBytesSeen.length >= 10 && result.cacheBytesSeen.every((bytes) => bytes > 8 * 1024 * 1024), JSON.stringify(result.cacheBytesSeen));
    assert.ok(result.warmHitRatio > 0.2, JSON.stringify(result));
    // Under the container's pressure the monitor forced full collections (collectUnderPressure), within its 2% of the time.
    assert.ok(result.forcedCollections > 0, `forced collections: ${result.forcedCollections}`);
    assert.ok(result.forcedCollectionMs < 0.02 * result.elapsedS * 1000, `${result.forcedCollectionMs} ms of forced collections in ${result.elapsedS} s`);
  });
});
