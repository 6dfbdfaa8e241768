import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startDashboard } from '../../src/cli/dashboard/server.js';
import { loadUplotAssets } from '../../src/cli/dashboard/uplot-assets.js';
import type { DemoSample } from '../../src/cli/demo/timeline.js';
import { launchChromium, probeChromium } from '../helpers/chromium.js';
import { ensureBuilt, startCli } from './cli-process.js';

const chromium = await probeChromium();

interface ChartView {
  data: number[][];
}
interface DashboardWindow {
  nexusDashboard: {
    charts: Record<'heap' | 'level' | 'caches' | 'evictions', ChartView>;
    samples: Array<{ t: number }>;
    stream: { opens: number; inits: number };
  };
}

describe('demo --dashboard (headless Chromium)', { skip: chromium.skip }, () => {
  let browser: Browser | undefined;
  before(async () => {
    await ensureBuilt();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('serves live charts on 127.0.0.1 that fill with heap, level, cache and eviction data', { timeout: 90_000 }, async () => {
    const { child, match, output } = await startCli(
      ['demo', '--dashboard', '--duration', '8', '--heap-mb', '96', '--seed', '2'],
      /dashboard: (http:\/\/127\.0\.0\.1:(\d+)\/)/,
    );
    try {
      const url = match[1]!;
      const page = await browser!.newPage({ viewport: { width: 1280, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url);
      // Wait until the run has produced a few seconds of samples and at least one eviction.
      await page.waitForFunction(
        () => {
          const d = (window as unknown as DashboardWindow).nexusDashboard;
          const ev = d?.charts.evictions.data[1];
          return d !== undefined && d.samples.length >= 12 && ev !== undefined && ev.length > 0 && (ev[ev.length - 1] ?? 0) > 0;
        },
        undefined,
        { timeout: 60_000, polling: 250 },
      );
      const counts = await page.evaluate(() => {
        const d = (window as unknown as DashboardWindow).nexusDashboard;
        return {
          heap: d.charts.heap.data[1]?.length ?? 0,
          limit: d.charts.heap.data[2]?.length ?? 0,
          level: d.charts.level.data[1]?.length ?? 0,
          caches: d.charts.caches.data.slice(1).map((s) => s.length),
          maxCacheMB: Math.max(...d.charts.caches.data.slice(1).flat()),
          evictions: d.charts.evictions.data[1]?.length ?? 0,
          canvases: document.querySelectorAll('.uplot canvas').length,
        };
      });
      assert.ok(counts.heap > 0 && counts.limit === counts.heap, JSON.stringify(counts));
      assert.ok(counts.level > 0, JSON.stringify(counts));
      assert.deepEqual(counts.caches.length, 3);
      assert.ok(counts.caches.every((n) => n > 0), JSON.stringify(counts));
      assert.ok(counts.maxCacheMB > 1, 'the caches held megabytes at some point');
      assert.ok(counts.evictions > 0, JSON.stringify(counts));
      assert.equal(counts.canvases, 5, "four charts, and the container chart (hidden outside a memory cgroup)");
      assert.match((await page.textContent('#stat-requests')) ?? '', /[\d,]+/);
      // At the end of the run the page says so and shows the report the terminal printed.
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'finished', undefined, { timeout: 60_000 });
      assert.match((await page.textContent('#report')) ?? '', /outcome\s+survived/);
      assert.match(output(), /outcome\s+survived/);
      const dir = mkdtempSync(join(tmpdir(), 'nexus-dashboard-'));
      const shot = join(dir, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 10_000, 'the screenshot has content');
      console.log(`dashboard screenshot: ${shot}`);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('close', resolve));
    }
    assert.match(output(), /dashboard: http:\/\/127\.0\.0\.1:/);
  });
  test('a page whose stream is cut resumes with Last-Event-ID: every sample once, in order, one init', { timeout: 90_000 }, async () => {
    // The server cuts a client with more than maxBufferedBytes waiting; a
    // burst far larger than the socket buffers makes it cut this page.
    const dashboard = await startDashboard({ port: 0, assets: loadUplotAssets(), maxBufferedBytes: 1, historyLength: 1000 });
    const page = await browser!.newPage();
    try {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(dashboard.url);
      await page.waitForFunction(() => (window as unknown as DashboardWindow).nexusDashboard?.stream.inits === 1, undefined, { timeout: 30_000 });
      const padding = 'x'.repeat(64 * 1024);
      const count = 400;
      for (let t = 0; t < count; t++) {
        const sample: DemoSample = {
          t,
          heapUsedBytes: 1_000_000 + t,
          heapLimitBytes: 10_000_000,
          level: 'normal',
          source: `heap${padding}`,
          cacheBytes: { 'image-cache': t, 'video-metadata': 0, 'playback-buffers': 0 },
          evictions: 0,
          requests: t,
          hits: 0,
        };
        dashboard.listener.sample!(sample);
      }
      await page.waitForFunction((n) => (window as unknown as DashboardWindow).nexusDashboard.samples.length >= n, count, { timeout: 60_000 });
      const r = await page.evaluate(() => {
        const d = (window as unknown as DashboardWindow).nexusDashboard;
        return { t: d.samples.map((s) => s.t), stream: d.stream };
      });
      assert.ok(r.stream.opens >= 2, `the stream was cut and reopened: ${JSON.stringify(r.stream)}`);
      assert.equal(r.stream.inits, 1, 'the reconnect resumed: no second init');
      assert.deepEqual(r.t, Array.from({ length: count }, (_, i) => i), 'every sample once, in order');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      await dashboard.close();
    }
  });
});
