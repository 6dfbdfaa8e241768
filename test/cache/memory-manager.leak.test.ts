// The cache must not keep what left it alive: with gc() (see
// test/helpers/gc.ts) and WeakRefs, every value and key that was evicted,
// deleted, replaced or cleared must become collectable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemoryManager } from '../../src/cache/memory-manager.js';
import { cacheOf, NO_WATERMARKS, STRATEGIES } from './helpers.js';
import { collectGarbage, needsGc } from '../helpers/gc.js';

/** Collects garbage across a few turns: a WeakRef target stays alive until the job that created or read it ends. */
async function collect(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();
  }
}

type Payload = { payload: number[] };
type Key = { id: number };

/**
 * Stores `count` entries with object keys and values, hands them to
 * `drop` (which removes some of them through the path under test), and
 * returns WeakRefs to what was dropped and to what was kept.
 */
function scenario(
  cache: MemoryManager<Key, Payload>,
  count: number,
  drop: (cache: MemoryManager<Key, Payload>, keys: Key[]) => Key[],
): { dropped: Array<WeakRef<object>>; kept: Array<WeakRef<object>>; keptKeys: Key[] } {
  const keys: Key[] = [];
  const values = new Map<Key, WeakRef<Payload>>();
  for (let i = 0; i < count; i++) {
    const key = { id: i };
    const value = { payload: new Array<number>(64).fill(i) };
    keys.push(key);
    values.set(key, new WeakRef(value));
    cache.set(key, value, { size: 10 });
  }
  const droppedKeys = new Set(drop(cache, keys));
  const dropped: Array<WeakRef<object>> = [];
  const kept: Array<WeakRef<object>> = [];
  const keptKeys: Key[] = [];
  for (const key of keys) {
    const ref = values.get(key)!;
    if (droppedKeys.has(key)) {
      dropped.push(ref, new WeakRef(key));
    } else {
      kept.push(ref);
      keptKeys.push(key);
    }
  }
  return { dropped, kept, keptKeys };
}

async function assertCollected(refs: { dropped: Array<WeakRef<object>>; kept: Array<WeakRef<object>> }): Promise<void> {
  await collect();
  const alive = refs.dropped.filter((ref) => ref.deref() !== undefined).length;
  assert.equal(alive, 0, `${alive} of ${refs.dropped.length} dropped keys and values are still reachable`);
  // The cache still holds (and must keep alive) the others.
  assert.ok(refs.kept.every((ref) => ref.deref() !== undefined), 'a kept value was collected');
  assert.ok(refs.dropped.length > 0);
}

for (const strategy of STRATEGIES) {
  describe(`MemoryManager releases what leaves it (${strategy})`, needsGc, () => {
    it('evicted keys and values become collectable (evict, pressure, capacity)', async () => {
      const cache = cacheOf<Key, Payload>(strategy, { maxCacheBytes: 1000, ...NO_WATERMARKS });
      // An eviction listener sees the keys, and must not be what keeps them.
      let seen = 0;
      cache.evictions.subscribe(() => seen++);
      const refs = scenario(cache, 90, (c, keys) => {
        const evicted = [...c.evict(10), ...c.handlePressure('moderate')];
        // Capacity: 70 entries of 10 bytes + 350 more bytes forces at least 5 out.
        const extraKey = { id: -1 };
        c.set(extraKey, { payload: [] }, { size: 350 });
        evicted.push(...keys.filter((k) => !c.has(k) && !evicted.includes(k)));
        return evicted;
      });
      const droppedEntries = refs.dropped.length / 2;
      assert.ok(droppedEntries >= 25, `${droppedEntries} entries left`);
      assert.equal(seen, droppedEntries);
      await assertCollected(refs);
      assert.equal(cache.size, 90 - droppedEntries + 1);
    });

    it('deleted, cleared-unpinned and replaced values become collectable', async () => {
      const cache = cacheOf<Key, Payload>(strategy);
      const refs = scenario(cache, 60, (c, keys) => {
        const deleted = keys.slice(0, 20);
        for (const key of deleted) c.delete(key);
        for (const key of keys.slice(20, 30)) c.pin(key);
        c.clearUnpinned();
        return [...deleted, ...keys.slice(30)];
      });
      await assertCollected(refs);
      // Replacing a value releases the old one.
      const key = refs.keptKeys[0]!;
      let old: WeakRef<Payload> | undefined;
      (() => {
        const value = { payload: [1, 2, 3] };
        old = new WeakRef(value);
        cache.set(key, value, { size: 10 });
      })();
      cache.set(key, { payload: [4] }, { size: 10 });
      await collect();
      assert.equal(old!.deref(), undefined, 'the replaced value is still reachable');
    });

    it('clear releases every key and value, pinned ones included', async () => {
      const cache = cacheOf<Key, Payload>(strategy);
      const refs = scenario(cache, 40, (c, keys) => {
        for (const key of keys.slice(0, 10)) c.pin(key);
        c.clear();
        return keys;
      });
      await assertCollected({ ...refs, kept: [] });
    });
  });
}
