// The `lfu` policy on its own, against a model: random runs of add, touch,
// remove (pin), readd (unpin) and eviction, each drained at the end in the
// policy's order. Half the runs start the use stamps just below 2^31 - 1, so
// the stamps are renumbered during the run; `lastUse` must keep the recency
// order through it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LfuPolicy } from '../../src/cache/policies/lfu.js';

const STAMP_LIMIT = 0x7fffffff;

interface ModelEntry {
  uses: number;
  lastUse: number;
  inOrder: boolean;
}

function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Runs `steps` random operations over `slots` slots; returns how many times the stamps were renumbered (seen as a stamp going down). */
function run(seed: number, slots: number, steps: number, firstStamp: number): number {
  const random = lcg(seed);
  const policy = new LfuPolicy(slots + 1, firstStamp);
  const model = new Map<number, ModelEntry>();
  let tick = 0;
  let renumbered = 0;
  let lastStamp = firstStamp;
  const order = (a: [number, ModelEntry], b: [number, ModelEntry]) => a[1].uses - b[1].uses || a[1].lastUse - b[1].lastUse;
  const inOrder = () => [...model].filter(([, e]) => e.inOrder).sort(order);
  const noteStamp = (slot: number) => {
    const stamp = policy.lastUse(slot);
    assert.ok(stamp > 0 && stamp <= STAMP_LIMIT, `stamp ${stamp}`);
    if (stamp < lastStamp) renumbered++;
    lastStamp = stamp;
  };
  for (let step = 0; step < steps; step++) {
    const slot = 1 + Math.floor(random() * slots);
    const entry = model.get(slot);
    const roll = random();
    const where = `seed ${seed}, step ${step}, slot ${slot}`;
    if (entry === undefined) {
      policy.add(slot);
      model.set(slot, { uses: 1, lastUse: tick++, inOrder: true });
      noteStamp(slot);
    } else if (roll < 0.08) {
      if (entry.inOrder) policy.remove(slot);
      else policy.readd(slot);
      entry.inOrder = !entry.inOrder;
      if (entry.inOrder) {
        entry.lastUse = tick++;
        noteStamp(slot);
      } else {
        assert.equal(policy.lastUse(slot), 0, `${where}: removed`);
      }
    } else if (roll < 0.12) {
      const expected = inOrder()[0]?.[0] ?? 0;
      assert.equal(policy.victim(), expected, `${where}: victim`);
      if (expected !== 0) {
        policy.remove(expected);
        model.delete(expected);
      }
    } else if (entry.inOrder) {
      policy.touch(slot);
      entry.uses++;
      entry.lastUse = tick++;
      noteStamp(slot);
    }
    if (step % 50 === 0) {
      // Recency as the cache reads it for evictLeastRecentlyUsed.
      const byStamp = [...model.keys()].filter((s) => policy.lastUse(s) !== 0).sort((a, b) => policy.lastUse(a) - policy.lastUse(b));
      const byModel = [...model].filter(([, e]) => e.inOrder).sort((a, b) => a[1].lastUse - b[1].lastUse).map(([s]) => s);
      assert.deepEqual(byStamp, byModel, `${where}: recency`);
    }
  }
  const expected = inOrder().map(([s]) => s);
  const drained: number[] = [];
  for (let victim = policy.victim(); victim !== 0; victim = policy.victim()) {
    drained.push(victim);
    policy.remove(victim);
  }
  assert.deepEqual(drained, expected, `seed ${seed}: final order`);
  return renumbered;
}

describe('lfu policy against a model', () => {
  it('keeps the exact order (fewest uses, then least recently used) over random runs', () => {
    for (let seed = 1; seed <= 60; seed++) run(seed, 1 + (seed % 40), 400, 0);
  });

  it('keeps the order and the recency through the renumbering of stamps near 2^31 - 1', () => {
    let renumbered = 0;
    for (let seed = 1; seed <= 60; seed++) renumbered += run(seed, 1 + (seed % 40), 400, STAMP_LIMIT - 1 - (seed % 200));
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
