// The slot store on its own: slots are handed out from 1, freed slots are
// reused first (last freed, first reused), sizes of 4 GiB and more survive
// the round trip through the side map, growth doubles the capacity and
// tells the owner, and clear starts over. A random run against a model
// checks that no slot is ever handed out twice while in use.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INITIAL_SLOT_CAPACITY, SlotStore } from '../../src/cache/slot-store.js';

function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

describe('SlotStore', () => {
  it('hands out slots from 1, and reuses the last freed slot first', () => {
    const store = new SlotStore<string, number>(() => {});
    assert.deepEqual([store.allocate(), store.allocate(), store.allocate()], [1, 2, 3]);
    store.fill(1, 'a', 10, 1);
    store.fill(2, 'b', 20, 2);
    store.fill(3, 'c', 30, 3);
    store.release(1);
    store.release(3);
    assert.equal(store.allocate(), 3);
    assert.equal(store.allocate(), 1);
    assert.equal(store.allocate(), 4);
    assert.equal(store.high, 5);
    assert.equal(store.keys[2], 'b');
    assert.equal(store.values[2], 20);
    assert.equal(store.sizeOf(2), 2);
  });

  it('forgets the key and value of a released slot, so nothing keeps them alive', () => {
    const store = new SlotStore<object, object>(() => {});
    const slot = store.allocate();
    store.fill(slot, {}, {}, 8);
    store.release(slot);
    assert.equal(store.keys[slot], undefined);
    assert.equal(store.values[slot], undefined);
  });

  it('keeps sizes of 4 GiB and more exactly, and drops them when the slot is resized or freed', () => {
    const store = new SlotStore<string, number>(() => {});
    const big = 2 ** 40 + 3;
    const a = store.allocate();
    store.fill(a, 'a', 1, big);
    assert.equal(store.sizeOf(a), big);
    store.setSize(a, 0xffffffff);
    assert.equal(store.sizeOf(a), 0xffffffff);
    store.setSize(a, 7);
    assert.equal(store.sizeOf(a), 7);
    store.setSize(a, Number.MAX_SAFE_INTEGER);
    store.release(a);
    // The freed slot comes back with a small size, not the big one it had.
    const b = store.allocate();
    assert.equal(b, a);
    store.fill(b, 'b', 2, 5);
    assert.equal(store.sizeOf(b), 5);
  });

  it('doubles its capacity when every slot is taken and tells the owner each time', () => {
    const grown: number[] = [];
    const store = new SlotStore<number, number>((capacity) => grown.push(capacity));
    assert.equal(store.capacity, INITIAL_SLOT_CAPACITY);
    for (let i = 1; i < INITIAL_SLOT_CAPACITY * 4; i++) {
      const slot = store.allocate();
      assert.ok(slot < store.capacity, `slot ${slot} below capacity ${store.capacity}`);
      store.fill(slot, i, i, i);
    }
    assert.deepEqual(grown, [INITIAL_SLOT_CAPACITY * 2, INITIAL_SLOT_CAPACITY * 4]);
    for (let slot = 1; slot < INITIAL_SLOT_CAPACITY * 4; slot++) assert.equal(store.sizeOf(slot), slot);
  });

  it('starts over on clear: slot 1 next, initial capacity, no old key or value', () => {
    const store = new SlotStore<number, number>(() => {});
    for (let i = 0; i < INITIAL_SLOT_CAPACITY * 2; i++) store.fill(store.allocate(), i, i, 2 ** 33);
    store.clear();
    assert.equal(store.capacity, INITIAL_SLOT_CAPACITY);
    assert.equal(store.high, 1);
    assert.equal(store.allocate(), 1);
    assert.equal(store.keys[1], undefined);
    assert.equal(store.keys.length, 1);
  });

  it('never hands out a slot in use, over random runs of allocate and release', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = lcg(seed);
      const store = new SlotStore<number, number>(() => {});
      const used = new Map<number, number>();
      for (let step = 0; step < 2000; step++) {
        if (used.size === 0 || random() < 0.6) {
          const slot = store.allocate();
          assert.ok(slot >= 1 && !used.has(slot), `seed ${seed}, step ${step}: slot ${slot} handed out twice`);
          const bytes = random() < 0.05 ? 2 ** 32 + step : step;
          store.fill(slot, step, step, bytes);
          used.set(slot, bytes);
        } else {
          const slots = [...used.keys()];
          const slot = slots[Math.floor(random() * slots.length)]!;
          assert.equal(store.sizeOf(slot), used.get(slot), `seed ${seed}, step ${step}: size of slot ${slot}`);
          store.release(slot);
          used.delete(slot);
        }
      }
      for (const [slot, bytes] of used) assert.equal(store.sizeOf(slot), bytes);
    }
  });
});
