// The `lfu` policy on its own, against a model: random runs of add, touch,
// remove (pin), readd (unpin) and eviction, each drained at the end in the
// policy's order. Half the runs start the use stamps just below 2^31 - 1, so
// the stamps are renumbered during the run; `lastUse` must keep the recency
// order through it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LfuPolicy } from '../../src/cache/policies/lfu.js';
import { drainVictims, lcg, runSeeds, StampModel } from './stamp-model.js';

interface ModelEntry {
  uses: number;
  lastUse: number;
  inOrder: boolean;
}

/** Runs `steps` random operations over `slots` slots; returns how many times the stamps were renumbered (seen as a stamp going down). */
function run(seed: number, slots: number, steps: number, firstStamp: number): number {
  const random = lcg(seed);
  const policy = new LfuPolicy(slots + 1, firstStamp);
  const model = new Map<number, ModelEntry>();
  const stamps = new StampModel(policy);
  let tick = 0;
  const order = (a: [number, ModelEntry], b: [number, ModelEntry]) => a[1].uses - b[1].uses || a[1].lastUse - b[1].lastUse;
  const inOrder = () => [...model].filter(([, e]) => e.inOrder).sort(order);
  for (let step = 0; step < steps; step++) {
    const slot = 1 + Math.floor(random() * slots);
    const entry = model.get(slot);
    const roll = random();
    const where = `seed ${seed}, step ${step}, slot ${slot}`;
    if (entry === undefined) {
      policy.add(slot);
      model.set(slot, { uses: 1, lastUse: tick++, inOrder: true });
      stamps.used(slot);
    } else if (roll < 0.08) {
      if (entry.inOrder) policy.remove(slot);
      else policy.readd(slot);
      entry.inOrder = !entry.inOrder;
      if (entry.inOrder) {
        entry.lastUse = tick++;
        stamps.used(slot);
      } else {
        stamps.left(slot, where);
      }
    } else if (roll < 0.12) {
      const expected = inOrder()[0]?.[0] ?? 0;
      assert.equal(policy.victim(), expected, `${where}: victim`);
      if (expected !== 0) {
        policy.remove(expected);
        model.delete(expected);
        stamps.left(expected, where);
      }
    } else if (entry.inOrder) {
      policy.touch(slot);
      entry.uses++;
      entry.lastUse = tick++;
      stamps.used(slot);
    }
    // Recency as the cache reads it for evictLeastRecentlyUsed.
    if (step % 50 === 0) stamps.assertRecency(model.keys(), where);
  }
  const expected = inOrder().map(([s]) => s);
  assert.deepEqual(drainVictims(policy), expected, `seed ${seed}: final order`);
  return stamps.renumbered;
}

describe('lfu policy against a model', () => {
  it('keeps the exact order (fewest uses, then least recently used) and the recency over random runs, from low stamps and through their renumbering near 2^31 - 1', () => {
    const { renumbered } = runSeeds(run);
    assert.ok(renumbered >= 60, `renumbered ${renumbered} times`);
  });

  it('ignores a touch of a removed (pinned) slot', () => {
    const policy = new LfuPolicy(8);
    policy.add(1);
    policy.add(2);
    policy.touch(1);
    policy.remove(1);
    policy.touch(1);
    policy.touch(1);
    assert.equal(policy.lastUse(1), 0);
    policy.readd(1);
    // Slot 1 kept its 2 uses; the touches while removed did not count.
    policy.touch(2);
    policy.touch(2);
    assert.equal(policy.victim(), 1);
  });
});
