// tinylfu's deferred sketch increments alone
// (src/cache/policies/tinylfu/deferred-increments.ts): the 64-hash buffer,
// its filter and the kept estimates, over a real
// FrequencySketch and a tags array. Their use by the policy's duels is
// tested in tinylfu.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeferredIncrements } from '../../src/cache/policies/tinylfu/deferred-increments.js';
import { FrequencySketch } from '../../src/cache/policies/tinylfu/frequency-sketch.js';
import { createKeyHasher } from '../../src/cache/policies/tinylfu/key-hash.js';

/** A tag's hash bits and estimate bits (the module keeps its constants to itself). */
const HASH_BITS = ~15;
const ESTIMATE_BITS = 15;
const hasher = createKeyHasher(29);
/** A key's hash as the policy passes it: the low 4 bits clear. */
const hashOf = (key: number | string): number => hasher(key) & HASH_BITS;

/** A sketch, a tags array of `nodes` nodes holding `hashOf(node)` (estimate 0), and the increments over them. */
function setUp(expectedEntries = 1024, nodes = 200): { sketch: FrequencySketch; tags: Int32Array; increments: DeferredIncrements } {
  const sketch = new FrequencySketch(expectedEntries);
  const tags = new Int32Array(nodes);
  for (let node = 0; node < nodes; node++) tags[node] = hashOf(node);
  const increments = new DeferredIncrements(sketch);
  increments.tags = tags;
  return { sketch, tags, increments };
}

describe('tinylfu deferred increments', () => {
  it('buffers 64 hits without touching the sketch, drops a 65th while full, and applies the 64 when asked, keeping each estimate in its node\'s tag', () => {
    const { sketch, tags, increments } = setUp();
    // Node 1 is hit twice, nodes 2 to 63 once: 64 hits, a full buffer.
    increments.record(hashOf(1), 1);
    for (let node = 1; node <= 63; node++) increments.record(hashOf(node), node);
    assert.equal(increments.pendingCount, 64);
    // Full: this one is dropped (the policy applies a full buffer at its next insertion).
    increments.record(hashOf(64), 64);
    assert.equal(increments.pendingCount, 64);
    for (let node = 1; node <= 64; node++) {
      assert.equal(sketch.frequency(hashOf(node)), 0, `node ${node} counted before the buffer was applied`);
      assert.equal(tags[node]! & ESTIMATE_BITS, 0);
    }
    increments.applyPending();
    assert.equal(increments.pendingCount, 0);
    assert.equal(sketch.frequency(hashOf(1)), 2);
    assert.equal(tags[1], hashOf(1) | 2);
    for (let node = 2; node <= 63; node++) {
      assert.equal(sketch.frequency(hashOf(node)), 1, `node ${node}`);
      assert.equal(tags[node], hashOf(node) | 1, `node ${node}'s tag`);
    }
    assert.equal(sketch.frequency(hashOf(64)), 0, 'the dropped hit was never counted');
    // The buffer is empty again: one more hit waits.
    increments.record(hashOf(1), 1);
    assert.equal(sketch.frequency(hashOf(1)), 2);
    increments.applyPending();
    assert.equal(sketch.frequency(hashOf(1)), 3);
    assert.equal(tags[1], hashOf(1) | 3);
  });

  it('the filter says a hash may be buffered when one with its top 10 bits is, and is cleared when the buffer is applied', () => {
    const { increments } = setUp();
    const a = 5 << 22;
    const b = (6 << 22) | 0x100;
    const high = (0x3f0 << 22) | 0x40; // top bits 1111110000: a negative int32
    assert.equal(increments.mayBeBuffered(a), false);
    increments.record(a, 1);
    increments.record(high, 2);
    assert.equal(increments.mayBeBuffered(a), true);
    assert.equal(increments.mayBeBuffered(high), true);
    assert.equal(increments.mayBeBuffered(b), false);
    // Same top 10 bits, other low bits: the filter cannot tell them apart (it may only err towards applying).
    assert.equal(increments.mayBeBuffered(a | 0x3ff000), true);
    increments.applyPending();
    assert.equal(increments.mayBeBuffered(a), false);
    assert.equal(increments.mayBeBuffered(high), false);
  });

  it('a node that changed hands keeps its new key\'s tag when its old key\'s buffered hit is applied', () => {
    const { sketch, tags, increments } = setUp();
    const oldKey = hashOf('old');
    const newKey = hashOf('new');
    tags[7] = oldKey;
    increments.record(oldKey, 7);
    tags[7] = newKey; // the entry was removed and another added in its node
    increments.applyPending();
    assert.equal(sketch.frequency(oldKey), 1);
    assert.equal(tags[7], newKey);
  });

  it('halves the kept estimates with each halving of the sketch, and takes them to 0 when the sketch grows', () => {
    const { sketch, tags, increments } = setUp(16);
    assert.equal(sketch.samplePeriod, 80);
    const hot = hashOf(1);
    for (let i = 0; i < 12; i++) {
      increments.record(hot, 1);
      increments.applyPending();
    }
    assert.equal(tags[1], hot | 12);
    const halvings = sketch.halvings;
    // Hits of other keys until the sketch halves (80 increments in all).
    for (let node = 2; sketch.halvings === halvings; node++) {
      assert.ok(node < 200, 'the sketch never halved');
      increments.record(tags[node]! & HASH_BITS, node);
      if (node % 8 === 0) increments.applyPending();
    }
    assert.equal(sketch.frequency(hot), 6);
    assert.equal(tags[1], hot | 6, 'the kept estimate follows the halving');
    // A growth of the sketch forgets every count: the estimates go to 0, the hashes stay.
    sketch.ensureCapacity(1000);
    increments.ageEstimates();
    assert.equal(tags[1], hot);
    for (let node = 0; node < tags.length; node++) assert.equal(tags[node]! & ESTIMATE_BITS, 0, `node ${node}`);
  });

  it('clear() forgets the buffered requests; new tags given afterwards get the estimates', () => {
    const { sketch, increments } = setUp();
    increments.record(hashOf(3), 3);
    increments.record(hashOf(4), 4);
    const fresh = new Int32Array(200);
    fresh[3] = hashOf(3);
    sketch.reset();
    increments.tags = fresh;
    increments.clear();
    assert.equal(increments.pendingCount, 0);
    assert.equal(increments.mayBeBuffered(hashOf(3)), false);
    increments.applyPending();
    assert.equal(sketch.frequency(hashOf(3)), 0);
    assert.equal(sketch.frequency(hashOf(4)), 0);
    increments.record(hashOf(3), 3);
    increments.applyPending();
    assert.equal(fresh[3], hashOf(3) | 1);
  });
});
