// The demo's caches converge instead of flushing and refilling (issue 18):
// `nexus-store demo` at its defaults (a real child process under the 128 MB
// heap cap) reports each component's coefficient of variation of cached
// bytes after the warm-up, and each is under 20%. The measure itself is
// checked on made-up samples: a sawtooth scores high, a flat line zero.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { measureConvergence, secondlySamples } from '../../src/cli/demo/convergence.js';
import type { ComponentName } from '../../src/cli/demo/service.js';
import type { DemoSample } from '../../src/cli/demo/timeline.js';
import { ensureBuilt, runCli } from './cli-process.js';

before(ensureBuilt);

const MB = 1024 * 1024;

/** Samples every 250 ms for `seconds`, each component's bytes from `bytesAt(t)`; one hit in two requests. */
function samples(seconds: number, bytesAt: (t: number) => number): DemoSample[] {
  const out: DemoSample[] = [];
  for (let i = 1; i <= seconds * 4; i++) {
    const t = i / 4;
    const b = bytesAt(t);
    const cacheBytes: Record<ComponentName, number> = { 'image-cache': b, 'video-metadata': b / 10, 'playback-buffers': b / 2 };
    out.push({ t, heapUsedBytes: 0, heapLimitBytes: 1, level: 'normal', source: 'heap', cacheBytes, evictions: 0, requests: 1000 * i, hits: 500 * i });
  }
  return out;
}

describe('demo convergence', () => {
  test('measureConvergence: one sample a second after the warm-up; a flush-and-refill sawtooth scores a high CV, flat bytes zero', () => {
    const flat = measureConvergence(samples(30, () => 30 * MB), 30);
    assert.equal(flat.warmupS, 10);
    assert.equal(flat.samples, 21, 'seconds 10 to 30');
    for (const c of flat.components) assert.equal(c.cv, 0, c.name);
    assert.equal(flat.components.find((c) => c.name === 'image-cache')?.meanBytes, 30 * MB);
    assert.equal(flat.hitRatio, 0.5);
    // Fills for two seconds, flushed to nothing, again: the image cache.
    const saw = measureConvergence(samples(30, (t) => ((t % 2) / 2) * 30 * MB), 30);
    for (const c of saw.components) assert.ok(c.cv > 0.5, `${c.name} ${c.cv}`);
    assert.deepEqual(
      secondlySamples(samples(4, () => 1), 1.5).map((s) => s.t),
      [2, 3, 4],
    );
    assert.ok(Number.isNaN(measureConvergence(samples(1, () => 1), 1).components[0]?.cv), 'one sample has no variation to measure');
  });

  test('nexus-store demo at its defaults: after the warm-up each component\'s cached bytes vary by less than 20%, the hit ratio is above 42.6%, and some hits revive evicted values', { timeout: 90_000 }, async () => {
    const result = await runCli(['demo'], 80_000);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const rows = [...result.stdout.matchAll(/^(image-cache|video-metadata|playback-buffers)\s+\S+\s+[\d,]+\s+[\d.]+ MB\s+([\d.]+) MB\s+([\d.]+)%/gm)];
    assert.equal(rows.length, 3, result.stdout);
    for (const row of rows) {
      const [, name, meanMb, cvPercent] = row;
      assert.ok(Number(meanMb) > 0, `${name} holds something after the warm-up`);
      assert.ok(Number(cvPercent) < 20, `${name}: CV ${cvPercent}% after the warm-up\n${result.stdout}`);
    }
    const hit = /^requests\s+.* hit ratio ([\d.]+)%(?: \(([\d,]+) of the hits, [\d.]+%, revived evicted values not yet collected\))?$/m.exec(result.stdout);
    assert.ok(hit !== null, result.stdout);
    assert.ok(Number(hit[1]) > 42.6, `hit ratio ${hit[1]}%`);
    // The image cache and the playback buffers keep what they evict weakly: some hits revive it.
    assert.ok(hit[2] !== undefined && Number(hit[2].replace(/,/g, '')) > 0, `no soft-tier hits reported\n${result.stdout}`);
  });
});
