import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32, ZipfSampler } from '../../src/cli/demo/random.js';
import { Workload } from '../../src/cli/demo/workload.js';
import { makeThumbnail, makeVideo, thumbnailBytes } from '../../src/cli/demo/catalog.js';

describe('demo randomness', () => {
  test('mulberry32 gives the same sequence for the same seed and a different one for another seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const seqA = Array.from({ length: 5 }, a);
    assert.deepEqual(seqA, Array.from({ length: 5 }, b));
    assert.notDeepEqual(seqA, Array.from({ length: 5 }, c));
    for (const x of seqA) assert.ok(x >= 0 && x < 1);
  });

  test('ZipfSampler draws ranks with frequencies close to 1/(k+1)^s', () => {
    const zipf = new ZipfSampler(1000, 1);
    const random = mulberry32(7);
    const draws = 200_000;
    const counts = new Array<number>(1000).fill(0);
    for (let i = 0; i < draws; i++) counts[zipf.sample(random)]! += 1;
    // Zipf's law written out here, not read back from the sampler:
    // P(k) = 1 / ((k + 1) H(1000)), with H(1000) ~ 7.4855 the harmonic number.
    let harmonic = 0;
    for (let k = 1; k <= 1000; k++) harmonic += 1 / k;
    assert.ok(Math.abs(harmonic - 7.4855) < 1e-4);
    for (const k of [0, 1, 9, 99]) {
      const expected = 1 / ((k + 1) * harmonic);
      const observed = counts[k]! / draws;
      assert.ok(Math.abs(observed - expected) < 4 * Math.sqrt(expected / draws) + 1e-4, `rank ${k}: observed ${observed}, expected ${expected}`);
      assert.ok(Math.abs(zipf.probability(k) - expected) < 1e-12, `probability(${k}) ${zipf.probability(k)}, expected ${expected}`);
    }
    assert.equal(zipf.probability(-1), 0);
    assert.equal(zipf.probability(1000), 0);
    // Every draw is a rank in [0, 1000): the counts add up to the draws.
    assert.equal(counts.length, 1000);
    assert.equal(counts.reduce((s, n) => s + n, 0), draws);
  });

  test('ZipfSampler rejects bad parameters', () => {
    assert.throws(() => new ZipfSampler(0, 1), /n must be a positive integer, got 0/);
    assert.throws(() => new ZipfSampler(10, Number.NaN), /exponent must be/);
  });

  test('the workload is deterministic for a seed and mixes the three request kinds', () => {
    const a = new Workload(5);
    const b = new Workload(5);
    const kinds = { thumbnail: 0, video: 0, segment: 0 };
    for (let i = 0; i < 10_000; i++) {
      const request = a.next();
      assert.deepEqual(request, b.next());
      kinds[request.kind]++;
    }
    assert.ok(Math.abs(kinds.thumbnail / 10_000 - 0.5) < 0.03, JSON.stringify(kinds));
    assert.ok(Math.abs(kinds.video / 10_000 - 0.3) < 0.03, JSON.stringify(kinds));
    assert.ok(Math.abs(kinds.segment / 10_000 - 0.2) < 0.03, JSON.stringify(kinds));
  });

  test('payloads are pure functions of seed and id, sized as announced', () => {
    assert.deepEqual(makeThumbnail(1, 17), makeThumbnail(1, 17));
    assert.notDeepEqual(makeThumbnail(1, 17).pixels, makeThumbnail(2, 17).pixels);
    // Announced sizes spread over 6 to 40 KiB, and each payload holds that
    // many bytes in 8-byte array elements.
    const announced = Array.from({ length: 200 }, (_, id) => thumbnailBytes(1, id));
    assert.ok(announced.every((bytes) => Number.isInteger(bytes) && bytes >= 6 * 1024 && bytes < 40 * 1024), String(announced));
    assert.ok(new Set(announced).size > 150, 'the sizes vary');
    assert.ok(Math.min(...announced) < 12 * 1024 && Math.max(...announced) > 34 * 1024, 'over the whole range');
    for (const id of [0, 17, 199]) {
      const onHeap = makeThumbnail(1, id).pixels;
      assert.ok(Array.isArray(onHeap));
      assert.equal(onHeap.length, Math.ceil(announced[id]! / 8));
      // The demo in a container holds thumbnails off the V8 heap, in Buffers of the announced size.
      const offHeap = makeThumbnail(1, id, true).pixels;
      assert.ok(Buffer.isBuffer(offHeap));
      assert.equal(offHeap.length, announced[id]);
      assert.deepEqual(makeThumbnail(1, id, true), makeThumbnail(1, id, true));
    }
    assert.deepEqual(makeVideo(3, 9), makeVideo(3, 9));
    assert.equal(makeVideo(3, 9).id, 'v00009');
  });
});
