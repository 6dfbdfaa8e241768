// The `size` policy on its own, against a model: random runs of add, touch,
// remove (pin), readd (unpin, possibly at a new size) and eviction, drained
// at the end in the policy's order (largest first, ties least recently
// used first). The policy keeps the cache's recency (`lastUse`); half the
// runs start its stamps just below 2^31 - 1, so they are renumbered during
// the run, and the recency order must hold through it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SizePolicy } from '../../src/cache/policies/size.js';
import { drainVictims, lcg, runSeeds, StampModel } from './stamp-model.js';

interface ModelEntry {
  bytes: number;
  lastUse: number;
  inOrder: boolean;
}

/** Runs `steps` random operations over `slots` slots; returns how many times the stamps were renumbered. */
function run(seed: number, slots: number, steps: number, firstStamp: number): number {
  const random = lcg(seed);
  const policy = new SizePolicy(slots + 1, firstStamp);
  const model = new Map<number, ModelEntry>();
  const stamps = new StampModel(policy);
  let tick = 0;
  const size = () => 1 + Math.floor(random() * 5);
  const order = (a: [number, ModelEntry], b: [number, ModelEntry]) => b[1].bytes - a[1].bytes || a[1].lastUse - b[1].lastUse;
  const inOrder = () => [...model].filter(([, e]) => e.inOrder).sort(order);
  for (let step = 0; step < steps; step++) {
    const slot = 1 + Math.floor(random() * slots);
    const entry = model.get(slot);
    const roll = random();
    const where = `seed ${seed}, step ${step}, slot ${slot}`;
    if (entry === undefined) {
      const bytes = size();
      policy.add(slot, undefined, bytes);
      model.set(slot, { bytes, lastUse: tick++, inOrder: true });
      stamps.used(slot);
    } else if (roll < 0.1) {
      if (entry.inOrder) {
        policy.remove(slot);
        entry.inOrder = false;
        stamps.left(slot, where);
      } else {
        entry.bytes = size();
        policy.readd(slot, entry.bytes);
        entry.inOrder = true;
        entry.lastUse = tick++;
        stamps.used(slot);
      }
    } else if (roll < 0.15) {
      const expected = inOrder()[0]?.[0] ?? 0;
      assert.equal(policy.victim(), expected, `${where}: victim`);
      if (expected !== 0) {
        policy.remove(expected);
        model.delete(expected);
        stamps.left(expected, where);
      }
    } else {
      // A get calls touch on a pinned (removed) entry too: it must change nothing.
      policy.touch(slot);
      if (entry.inOrder) {
        entry.lastUse = tick++;
        stamps.used(slot);
      } else {
        assert.equal(policy.lastUse(slot), 0, `${where}: a touch while removed`);
      }
    }
    if (step % 50 === 0) stamps.assertRecency(model.keys(), where);
  }
  const expected = inOrder().map(([s]) => s);
  assert.deepEqual(drainVictims(policy), expected, `seed ${seed}: final order`);
  return stamps.renumbered;
}

describe('size policy against a model', () => {
  it('keeps the exact order (largest first, then least recently used) and the recency over random runs, from low stamps and through their renumbering near 2^31 - 1', () => {
    const { renumbered } = runSeeds(run);
    assert.ok(renumbered >= 60, `renumbered ${renumbered} times`);
  });
});
