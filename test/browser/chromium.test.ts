/**
 * The built package in real headless Chromium: pages served from 127.0.0.1
 * load dist/index.js and dist/browser/index.js with plain module imports and
 * run the monitor against the browser's own memory figures.
 *
 * Launch flags: --enable-precise-memory-info (exact performance.memory even
 * where the renderer is not locked to a site), --js-flags=--expose-gc (the
 * page can collect, to watch the level fall), and
 * --enable-blink-features=ForceEagerMeasureMemory (measureUserAgentSpecificMemory
 * resolves at once instead of waiting up to ~20 s for a garbage collection).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type * as BrowserEntry from '../../src/browser/index.js';
import type * as CoreEntry from '../../src/index.js';
import { launchChromium, probeChromium } from '../helpers/chromium.js';
import { CROSS_ORIGIN_ISOLATION_HEADERS, startStaticServer, type StaticServer } from '../helpers/static-server.js';
import { assertFreshBuild, REPO_ROOT } from './built-package.js';

/** What the fixture page puts on `window`. */
interface TestWindow {
  nexus: { core: typeof CoreEntry; browser: typeof BrowserEntry };
  nexusLoaded?: string;
  gc?: () => void;
}
interface ChromiumPerformance {
  memory: { usedJSHeapSize: number; jsHeapSizeLimit: number };
}

const PAGE_PATH = '/test/browser/fixtures/page.html';
const MIB = 1024 * 1024;
const chromium = await probeChromium();

const openPages: Page[] = [];

async function openPage(browser: Browser, server: StaticServer): Promise<Page> {
  const page = await browser.newPage();
  openPages.push(page);
  // tsx compiles this file with keepNames, which wraps functions declared
  // inside the page.evaluate callbacks in a `__name(fn, name)` helper that
  // only exists in Node; give the page an identity stand-in.
  await page.addInitScript('globalThis.__name = (fn) => fn;');
  await page.goto(server.url + PAGE_PATH);
  await page.waitForFunction(() => (globalThis as unknown as TestWindow).nexusLoaded !== undefined, undefined, { timeout: 10_000 });
  const loaded = await page.evaluate(() => (globalThis as unknown as TestWindow).nexusLoaded);
  assert.equal(loaded, 'ok', `the built entries failed to load in the page: ${loaded}`);
  const modules = server.requests.filter((r) => r.path.endsWith('.js'));
  assert.ok(modules.length > 5, 'the page loaded the modules from dist/');
  assert.deepEqual(modules.filter((r) => r.status !== 200), [], 'every module the page asked for was served');
  return page;
}

describe('nexus-store in headless Chromium', { skip: chromium.skip }, () => {
  let browser: Browser | undefined;
  let plain: StaticServer | undefined;
  let isolated: StaticServer | undefined;

  before(async () => {
    assertFreshBuild(['index.js', 'browser/index.js']);
    plain = await startStaticServer({ root: REPO_ROOT });
    isolated = await startStaticServer({ root: REPO_ROOT, headers: CROSS_ORIGIN_ISOLATION_HEADERS });
    browser = await launchChromium(['--enable-precise-memory-info', '--js-flags=--expose-gc', '--enable-blink-features=ForceEagerMeasureMemory']);
  });

  afterEach(async () => {
    for (const page of openPages.splice(0)) await page.close();
  });

  after(async () => {
    await browser?.close();
    await plain?.close();
    await isolated?.close();
  });

  test('performance.memory: usedBytes and the level rise as the page allocates, and fall after a collection', async () => {
    const page = await openPage(browser!, plain!);
    const r = await page.evaluate(async (mib) => {
      const w = globalThis as unknown as TestWindow;
      const { createBrowserMemoryMonitor, detectBrowserMemorySupport } = w.nexus.browser;
      w.gc!();
      const baseline = (performance as unknown as ChromiumPerformance).memory.usedJSHeapSize;
      const monitor = createBrowserMemoryMonitor({
        budgetBytes: baseline + 64 * mib,
        pollingIntervalMs: 20,
        thresholds: { moderate: 0.45, critical: 0.8, emergency: 0.95 },
      });
      const sources = new Set<string>();
      let peakUsedBytes = 0;
      let sampled = 0;
      const waiting: Array<() => void> = [];
      monitor.states.subscribe((s) => {
        if (s.source !== 'none') sources.add(s.source);
        peakUsedBytes = Math.max(peakUsedBytes, s.usedBytes);
        sampled++;
        for (const wake of waiting.splice(0)) wake();
      });
      // Resolves once the polling timer has published `count` more samples.
      const samples = (count: number) =>
        new Promise<void>((resolve) => {
          const target = sampled + count;
          const check = () => (sampled >= target ? resolve() : waiting.push(check));
          check();
        });
      const levels: string[] = [];
      monitor.pressure.subscribe((level) => levels.push(level));
      monitor.startMonitoring();
      // 8 MiB per step: 2^20 doubles in a packed double array, on the JS
      // heap. Collecting after each step drops the copies left by the
      // array's growth, so the heap holds what the page holds: usage climbs
      // by an eighth of the budget per step and every level is seen.
      const held: number[][] = [];
      for (let step = 0; step < 9; step++) {
        const chunk: number[] = [];
        for (let i = 0; i < mib; i++) chunk.push(i + 0.5);
        held.push(chunk);
        w.gc!();
        // Two samples: the second one's poll began after this step for sure.
        await samples(2);
      }
      const peakLevel = monitor.currentPressure();
      held.length = 0;
      w.gc!();
      const afterGc = await monitor.poll();
      monitor.stopMonitoring();
      return {
        support: detectBrowserMemorySupport(),
        monitorSources: monitor.sources,
        sources: [...sources],
        baseline,
        peakUsedBytes,
        levels,
        peakLevel,
        afterGc: { usedBytes: afterGc.usedBytes, level: afterGc.level },
      };
    }, MIB);

    assert.deepEqual(r.monitorSources, ['performance.memory']);
    assert.deepEqual(r.sources, ['performance.memory']);
    assert.equal(r.support.performanceMemory.available && r.support.performanceMemory.quantized, false);
    const grewMiB = (r.peakUsedBytes - r.baseline) / MIB;
    assert.ok(grewMiB >= 70 && grewMiB < 90, `the heap grew by the 72 MiB the page holds: ${grewMiB} MiB`);
    assert.equal(r.peakLevel, 'emergency');
    assert.deepEqual(r.levels, ['normal', 'moderate', 'critical', 'emergency', 'normal'], 'every level on the way up, then normal after the collection');
    assert.ok(r.peakUsedBytes - r.afterGc.usedBytes >= 70 * MIB, 'the collection gave the memory back');
    assert.equal(r.afterGc.level, 'normal');
  });

  test('a page that is not cross-origin isolated has no measureUserAgentSpecificMemory, and forcing it says why', async () => {
    const page = await openPage(browser!, plain!);
    const r = await page.evaluate(() => {
      const { createBrowserMemoryMonitor, detectBrowserMemorySupport } = (globalThis as unknown as TestWindow).nexus.browser;
      let error = '';
      try {
        createBrowserMemoryMonitor({ source: 'measureUserAgentSpecificMemory' });
      } catch (e) {
        error = `${(e as Error).name}: ${(e as Error).message}`;
      }
      return { crossOriginIsolated: globalThis.crossOriginIsolated, support: detectBrowserMemorySupport().userAgentSpecificMemory, error };
    });
    assert.equal(r.crossOriginIsolated, false);
    assert.equal(r.support.available, false);
    assert.match(r.error, /^TypeError: .*not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/);
  });

  test('cross-origin isolated page: measureUserAgentSpecificMemory measures the whole page against the heap budget', async () => {
    const page = await openPage(browser!, isolated!);
    const r = await page.evaluate(async (mib) => {
      const { createBrowserMemoryMonitor, detectBrowserMemorySupport } = (globalThis as unknown as TestWindow).nexus.browser;
      const held: number[][] = [];
      for (let step = 0; step < 4; step++) {
        const chunk: number[] = [];
        for (let i = 0; i < mib; i++) chunk.push(i + 0.5);
        held.push(chunk);
      }
      const monitor = createBrowserMemoryMonitor({ source: 'measureUserAgentSpecificMemory' });
      const started = performance.now();
      const state = await monitor.poll();
      const elapsedMs = performance.now() - started;
      const auto = createBrowserMemoryMonitor({ budgetBytes: 2 ** 30, measure: () => 0 });
      return {
        crossOriginIsolated: globalThis.crossOriginIsolated,
        support: detectBrowserMemorySupport().userAgentSpecificMemory,
        state: { usedBytes: state.usedBytes, availableBytes: state.availableBytes, source: state.source, level: state.level },
        elapsedMs,
        heapUsed: (performance as unknown as ChromiumPerformance).memory.usedJSHeapSize,
        heapLimit: (performance as unknown as ChromiumPerformance).memory.jsHeapSizeLimit,
        autoSources: auto.sources,
        held: held.length,
      };
    }, MIB);

    assert.equal(r.crossOriginIsolated, true);
    assert.deepEqual(r.support, { available: true });
    assert.equal(r.state.source, 'measureUserAgentSpecificMemory');
    assert.ok(r.state.usedBytes >= 32 * MIB, `the 32 MiB the page holds are counted: ${r.state.usedBytes}`);
    assert.ok(r.state.usedBytes < r.heapLimit, 'and the figure is below the heap limit');
    assert.ok(r.state.usedBytes > 0.5 * r.heapUsed && r.state.usedBytes < 4 * r.heapUsed, `close to the heap figure ${r.heapUsed}: ${r.state.usedBytes}`);
    assert.equal(r.state.usedBytes + r.state.availableBytes, 0.75 * r.heapLimit, 'compared with the default heap budget');
    assert.equal(r.state.level, 'normal');
    assert.deepEqual(r.autoSources, ['measureUserAgentSpecificMemory', 'performance.memory', 'budget']);
    assert.ok(r.elapsedMs < 10_000, `eager measurement took ${r.elapsedMs} ms`);
  });

  test('without performance.memory (as in Firefox or Safari) the configured budget drives the levels', async () => {
    const page = await openPage(browser!, plain!);
    const r = await page.evaluate(() => {
      const { core, browser: entry } = (globalThis as unknown as TestWindow).nexus;
      delete (Performance.prototype as unknown as { memory?: unknown }).memory;
      let error = '';
      try {
        entry.createBrowserMemoryMonitor();
      } catch (e) {
        error = `${(e as Error).name}: ${(e as Error).message}`;
      }
      const clock = new core.ManualClock();
      let held = 0;
      const monitor = entry.createBrowserMemoryMonitor({ budgetBytes: 1000, measure: () => held, pollingIntervalMs: 100, clock });
      const levels: string[] = [];
      monitor.pressure.subscribe((level) => levels.push(level));
      monitor.startMonitoring();
      for (const bytes of [300, 750, 900, 990, 100]) {
        held = bytes;
        clock.advance(100);
      }
      monitor.stopMonitoring();
      return {
        memory: typeof (performance as unknown as { memory?: unknown }).memory,
        support: entry.detectBrowserMemorySupport().performanceMemory.available,
        error,
        sources: monitor.sources,
        levels,
        state: monitor.currentMemoryState(),
      };
    });
    assert.equal(r.memory, 'undefined');
    assert.equal(r.support, false);
    assert.match(r.error, /^TypeError: .*exposes no memory signal.*Pass budgetBytes and measure/);
    assert.deepEqual(r.sources, ['budget']);
    assert.deepEqual(r.levels, ['normal', 'moderate', 'critical', 'emergency', 'normal']);
    assert.equal(r.state.source, 'budget');
    assert.equal(r.state.usedBytes, 100);
  });

  test('the core entry runs in the page: a monitor on a ManualClock drives prioritized cleanup of a real cache', async () => {
    const page = await openPage(browser!, plain!);
    const r = await page.evaluate(async () => {
      const { core } = (globalThis as unknown as TestWindow).nexus;
      const clock = new core.ManualClock();
      let usedBytes = 100;
      const monitor = new core.PollingMemoryMonitor({ memoryProvider: () => ({ usedBytes, availableBytes: 1000 - usedBytes, source: 'test' }), pollingIntervalMs: 1000, clock });
      const thumbnails = new Map<number, { id: number; pixels: number[] }>();
      for (let id = 0; id < 50; id++) thumbnails.set(id, { id, pixels: Array.from({ length: 64 }, (_, i) => i) });
      const sessions = new Map([['me', { user: 'me' }]]);
      const sizeOf = (map: Map<unknown, unknown>): number => [...map.values()].reduce((sum: number, v) => sum + core.defaultSizeEstimator(v), 0);
      const coordinator = new core.ResourceCleanupCoordinator({ memoryMonitor: monitor, clock });
      coordinator.register(new core.CacheCleaner({ name: 'thumbnails', priority: 'low', cache: { estimateCacheSize: () => sizeOf(thumbnails), clearAllCaches: () => thumbnails.clear() } }));
      coordinator.register(new core.CacheCleaner({ name: 'sessions', priority: 'high', cache: { estimateCacheSize: () => sizeOf(sessions), clearAllCaches: () => sessions.clear() } }));
      const runs: Array<Array<{ cleanerName: string; success: boolean; bytesFreed: number }>> = [];
      coordinator.results.subscribe((results) => runs.push(results.map(({ cleanerName, success, bytesFreed }) => ({ cleanerName, success, bytesFreed }))));
      coordinator.enableAutoCleanup();
      monitor.startMonitoring();
      usedBytes = 750;
      await clock.advanceAsync(1000);
      const level = monitor.currentPressure();
      monitor.stopMonitoring();
      return { level, runs, thumbnails: thumbnails.size, sessions: sessions.size };
    });
    assert.equal(r.level, 'moderate');
    assert.equal(r.runs.length, 1);
    assert.equal(r.runs[0]!.length, 1, 'moderate cleans up to medium priority: only the low-priority cache');
    assert.equal(r.runs[0]![0]!.cleanerName, 'thumbnails');
    assert.equal(r.runs[0]![0]!.success, true);
    assert.ok(r.runs[0]![0]!.bytesFreed > 50 * 64 * 8, `the structural estimate counted the thumbnails: ${r.runs[0]![0]!.bytesFreed}`);
    assert.equal(r.thumbnails, 0);
    assert.equal(r.sessions, 1);
  });

  test('a MemoryManager in the page sheds unpinned entries when the browser monitor reaches critical, keeping pins', async () => {
    const page = await openPage(browser!, plain!);
    const r = await page.evaluate(async () => {
      const { core, browser: entry } = (globalThis as unknown as TestWindow).nexus;
      delete (Performance.prototype as unknown as { memory?: unknown }).memory;
      const clock = new core.ManualClock();
      const monitor = entry.createBrowserMemoryMonitor({ budgetBytes: 10_000, measure: () => cache.metrics.currentUsage, pollingIntervalMs: 100, clock });
      const cache = new core.MemoryManager<string, string>({ pressureHandler: monitor });
      const reasons = new Set<string>();
      cache.evictions.subscribe((event) => reasons.add(event.reason));
      cache.set('session', 'pinned', { size: 90, pin: true });
      for (let i = 0; i < 99; i++) cache.set(`thumb-${i}`, `thumbnail ${i}`, { size: 90 });
      const before = cache.metrics.currentUsage;
      const levels: string[] = [];
      monitor.pressure.subscribe((level) => levels.push(level));
      monitor.startMonitoring();
      const afterFirstSample = cache.metrics.currentUsage;
      await clock.advanceAsync(100);
      monitor.stopMonitoring();
      cache.dispose();
      return {
        before,
        afterFirstSample,
        after: cache.metrics.currentUsage,
        evictionCount: cache.metrics.evictionCount,
        reasons: [...reasons],
        pinnedKept: cache.has('session') && cache.isPinned('session'),
        levels,
        source: monitor.currentMemoryState().source,
      };
    });
    assert.equal(r.before, 9000);
    assert.deepEqual(r.levels, ['normal', 'critical', 'normal']);
    assert.ok(r.afterFirstSample <= 90 + 8910 / 2, `critical shed at least half of the unpinned bytes: ${r.afterFirstSample} left`);
    assert.ok(r.evictionCount >= 50);
    assert.deepEqual(r.reasons, ['pressure']);
    assert.equal(r.pinnedKept, true);
    assert.equal(r.after, r.afterFirstSample, 'back at normal, nothing more is shed');
    assert.equal(r.source, 'budget');
  });

  test('performance.memory is quantized and frozen where the renderer is not locked to a site, and detection says so', async () => {
    const coarse = await launchChromium(['--disable-site-isolation-trials']);
    try {
      const page = await openPage(coarse, plain!);
      const r = await page.evaluate(async (mib) => {
        const { createBrowserMemoryMonitor, detectBrowserMemorySupport, isQuantizedByteCount } = (globalThis as unknown as TestWindow).nexus.browser;
        const monitor = createBrowserMemoryMonitor();
        const before = (await monitor.poll()).usedBytes;
        const held: number[] = [];
        for (let i = 0; i < 4 * mib; i++) held.push(i + 0.5);
        const after = (await monitor.poll()).usedBytes;
        const withBudget = createBrowserMemoryMonitor({ budgetBytes: 2 ** 30, measure: () => 0 }).sources;
        return { support: detectBrowserMemorySupport().performanceMemory, sources: monitor.sources, withBudget, before, after, quantized: isQuantizedByteCount(before), held: held.length };
      }, MIB);
      assert.equal(r.support.available && r.support.quantized, true, JSON.stringify(r.support));
      assert.equal(r.quantized, true, `a bucket figure: ${r.before}`);
      assert.equal(r.after, r.before, 'the figure does not follow a 32 MiB allocation');
      assert.deepEqual(r.sources, ['performance.memory'], 'alone, the frozen figure is still used');
      assert.deepEqual(r.withBudget, ['budget'], 'next to a configured budget it is left out');
    } finally {
      await coarse.close();
    }
  });
});
