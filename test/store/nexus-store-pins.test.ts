import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValueSubject } from '../../src/observable.js';
import type { MemoryPressureLevel } from '../../src/pressure-levels.js';
import { MemoryBackend } from '../../src/store/memory-backend.js';
import { NexusStore } from '../../src/store/nexus-store.js';
import type { StoreConfig } from '../../src/store/nexus-store.js';
import { NexusStoreError } from '../../src/store/store-error.js';
import { GatedBackend, settle } from './gated-backend.js';
import { collectGarbage, needsGc } from '../helpers/gc.js';
import type { Item } from './gated-backend.js';

const idOf = (item: Item) => item.id;

function setup(options: { getMany?: boolean; config?: StoreConfig<Item> } = {}) {
  const backend = new GatedBackend(options.getMany === undefined ? {} : { getMany: options.getMany });
  const store = new NexusStore<Item, string>({ backend, idOf, ...(options.config ? { config: options.config } : {}) });
  return { backend, store };
}

async function seed(backend: GatedBackend, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await backend.storage.save({ id: `k${i}`, v: i });
}

function pressureHandler() {
  const pressure = new ValueSubject<MemoryPressureLevel>('normal');
  return { pressure, currentPressure: () => pressure.value };
}

describe('NexusStore pins', () => {
  test('pin loads the item when it is not cached', async () => {
    const { backend, store } = setup();
    await seed(backend, 1);
    await store.pin('k0');
    assert.deepEqual(store.peek('k0'), { id: 'k0', v: 0 });
    assert.deepEqual(store.pinnedIds, ['k0']);
    assert.equal(backend.count('get'), 1);
    await store.pin('k0');
    assert.equal(backend.count('get'), 1, 'pinning a cached item does not read it again');
  });

  test('a pinned item survives clearUnpinnedCache, evictLeastRecentlyUsed, emergency pressure and the byte budget', async () => {
    const handler = pressureHandler();
    const { backend, store } = setup({
      config: { memory: { maxCacheBytes: 1000, sizeEstimator: () => 100, pressureHandler: handler } },
    });
    await seed(backend, 30);
    await store.pin('k0');
    for (let i = 1; i < 5; i++) await store.get(`k${i}`);

    assert.equal(await store.clearUnpinnedCache(), 4);
    assert.deepEqual(store.peek('k0'), { id: 'k0', v: 0 });

    for (let i = 1; i < 5; i++) await store.get(`k${i}`);
    assert.equal(await store.evictLeastRecentlyUsed({ count: 100 }), 4);
    assert.ok(store.peek('k0'));

    for (let i = 1; i < 30; i++) await store.get(`k${i}`); // far over the 1000-byte budget
    assert.ok(store.peek('k0'), 'budget eviction spares the pin');
    assert.ok(store.memoryMetrics.evictionCount > 20);

    handler.pressure.next('emergency');
    assert.equal(store.memoryMetrics.entryCount, 1, 'emergency pressure leaves only the pinned item');
    assert.ok(store.peek('k0'));
    assert.equal(store.memoryMetrics.pinnedCount, 1);
    assert.equal(store.memoryMetrics.pinnedBytes, 100);
  });

  test('handlePressure sheds as the level asks and keeps the pins: a batch at moderate, half at critical, every unpinned item at emergency', async () => {
    const { backend, store } = setup({ config: { memory: { sizeEstimator: () => 100, evictionBatchSize: 3 } } });
    await seed(backend, 21);
    await store.pin('k0');
    for (let i = 1; i < 21; i++) await store.get(`k${i}`);
    assert.equal(await store.handlePressure('normal'), 0);
    assert.equal(await store.handlePressure('moderate'), 3);
    assert.equal(store.memoryMetrics.entryCount, 18);
    // 17 unpinned items (1,700 bytes): at least 850 bytes go, so 9 items.
    assert.equal(await store.handlePressure('critical'), 9);
    assert.equal(await store.handlePressure('emergency'), 8);
    assert.equal(store.memoryMetrics.entryCount, 1);
    assert.ok(store.peek('k0'));
    await assert.rejects(store.handlePressure('severe' as MemoryPressureLevel), (e: unknown) => e instanceof RangeError && e.message.includes('level'));
    await store.dispose();
    await assert.rejects(store.handlePressure('moderate'), /handlePressure\(\) called on a disposed NexusStore/);
  });

  test('unpin makes the item evictable again and pinnedIds lists every pin', async () => {
    const { backend, store } = setup();
    await seed(backend, 3);
    await store.pin('k0');
    await store.pin('k1');
    await store.pin('absent');
    assert.deepEqual(new Set(store.pinnedIds), new Set(['k0', 'k1', 'absent']));
    await store.unpin('k1');
    assert.deepEqual(new Set(store.pinnedIds), new Set(['k0', 'absent']));
    assert.equal(await store.clearUnpinnedCache(), 1);
    assert.equal(store.peek('k1'), undefined);
    assert.ok(store.peek('k0'));
  });

  test('pinning an id the backend does not have keeps the pin, so the item is protected once saved', async () => {
    const { store } = setup();
    await store.pin('later');
    assert.deepEqual(store.pinnedIds, ['later']);
    assert.equal(store.peek('later'), undefined);
    await store.save({ id: 'later', v: 1 });
    await store.clearUnpinnedCache();
    assert.deepEqual(store.peek('later'), { id: 'later', v: 1 });
  });

  test('delete keeps the pin on the id', async () => {
    const { backend, store } = setup();
    await seed(backend, 1);
    await store.pin('k0');
    await store.delete('k0');
    assert.deepEqual(store.pinnedIds, ['k0']);
    await store.save({ id: 'k0', v: 5 });
    assert.equal(await store.clearUnpinnedCache(), 0);
    assert.deepEqual(store.peek('k0'), { id: 'k0', v: 5 });
  });

  test('a pin whose load fails rejects naming pin and the id, and leaves no pin behind', async () => {
    const { backend, store } = setup();
    await seed(backend, 1);
    const cause = new Error('unreachable');
    backend.failNext.get = cause;
    await assert.rejects(store.pin('k0'), (error: unknown) => {
      assert.ok(error instanceof NexusStoreError);
      assert.equal(error.operation, 'pin');
      assert.equal(error.id, 'k0');
      assert.equal(error.cause, cause);
      return true;
    });
    assert.deepEqual(store.pinnedIds, []);
    await store.pin('k0');
    assert.deepEqual(store.pinnedIds, ['k0']);
  });

  test('concurrent pin and get of one id share one backend read', async () => {
    const { backend, store } = setup();
    await seed(backend, 1);
    backend.hold = true;
    const pin = store.pin('k0');
    const get = store.get('k0');
    await settle();
    assert.equal(backend.pending.length, 1);
    await backend.take('get').release();
    await pin;
    assert.deepEqual(await get, { id: 'k0', v: 0 });
    assert.deepEqual(store.pinnedIds, ['k0']);
  });

  test('a pinned item changed elsewhere is re-read in the background, so it stays resident', async () => {
    const { backend, store } = setup();
    await seed(backend, 1);
    await store.pin('k0');
    await backend.storage.save({ id: 'k0', v: 100 });
    backend.changesSubject.next('k0');
    assert.equal(store.peek('k0'), undefined, 'the stale copy is dropped at once');
    await settle();
    assert.deepEqual(store.peek('k0'), { id: 'k0', v: 100 });
    assert.equal(backend.count('get'), 2);
  });

  test('a resync drops every unpinned item and re-reads the pinned ones in one getMany', async () => {
    const { backend, store } = setup();
    await seed(backend, 6);
    await store.pin('k0');
    await store.pin('k1');
    for (let i = 2; i < 6; i++) await store.get(`k${i}`);
    await backend.storage.save({ id: 'k0', v: 1000 });
    await backend.storage.save({ id: 'k2', v: 2000 });
    const manyBefore = backend.count('getMany');
    backend.resyncsSubject.next();
    assert.equal(store.memoryMetrics.entryCount, 0);
    await settle();
    assert.equal(backend.count('getMany'), manyBefore + 1);
    assert.deepEqual(new Set(backend.calls.at(-1)?.ids), new Set(['k0', 'k1']));
    assert.deepEqual(store.peek('k0'), { id: 'k0', v: 1000 });
    assert.deepEqual(store.peek('k1'), { id: 'k1', v: 1 });
    assert.equal(store.peek('k2'), undefined);
    assert.deepEqual(await store.get('k2'), { id: 'k2', v: 2000 });
  });

  test('with softEviction, a resync or a change never revives a stale value from the soft tier (softHits stays 0)', async () => {
    const { backend, store } = setup({ config: { memory: { softEviction: true } } });
    await seed(backend, 3);
    // Held here so the collector cannot take them: a revival would be certain.
    const held = [await store.get('k0'), await store.get('k1'), await store.get('k2')];
    assert.equal(await store.evictLeastRecentlyUsed({ count: 1 }), 1); // k0 waits in the soft tier
    for (let i = 0; i < 3; i++) await backend.storage.save({ id: `k${i}`, v: 100 + i });
    backend.resyncsSubject.next();
    assert.deepEqual(await store.get('k0'), { id: 'k0', v: 100 });
    assert.deepEqual(await store.get('k1'), { id: 'k1', v: 101 });
    await store.evictLeastRecentlyUsed({ count: 2 });
    await backend.storage.save({ id: 'k1', v: 201 });
    backend.changesSubject.next('k1');
    assert.deepEqual(await store.get('k1'), { id: 'k1', v: 201 });
    assert.equal(store.memoryMetrics.softHits, 0);
    assert.equal(held.length, 3);
  });

  test('a resync stops reads already in flight from filling the cache with what they saw before it', async () => {
    const { backend, store } = setup();
    await seed(backend, 1);
    backend.hold = true;
    const read = store.get('k0');
    await settle();
    const call = backend.take('get');
    await call.execute(); // saw v0
    await backend.storage.save({ id: 'k0', v: 1 }); // its notification is lost in a reconnect
    backend.resyncsSubject.next();
    await call.respond();
    assert.deepEqual(await read, { id: 'k0', v: 0 });
    assert.equal(store.peek('k0'), undefined);
  });

  test('a failed background re-read is published on errors and the next get tries again', async () => {
    const { backend, store } = setup();
    await seed(backend, 1);
    await store.pin('k0');
    const errors: NexusStoreError<string>[] = [];
    store.errors.subscribe((error) => errors.push(error));
    backend.failNext.get = new Error('gone away');
    backend.changesSubject.next('k0');
    await settle();
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.operation, 'refresh');
    assert.match(errors[0]?.message ?? '', /refresh\("k0"\) failed: gone away/);
    assert.deepEqual(await store.get('k0'), { id: 'k0', v: 0 });
    assert.deepEqual(store.pinnedIds, ['k0']);
  });
});

describe('NexusStore memory controls and lifecycle', () => {
  test('evictLeastRecentlyUsed evicts the least recently used unpinned items, evictionBatchSize by default', async () => {
    const { backend, store } = setup({ config: { memory: { evictionBatchSize: 3 } } });
    await seed(backend, 6);
    for (let i = 0; i < 6; i++) await store.get(`k${i}`);
    await store.get('k0'); // k0 is now the most recent
    assert.equal(await store.evictLeastRecentlyUsed(), 3);
    assert.deepEqual(
      ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'].filter((id) => store.peek(id) !== undefined),
      ['k0', 'k4', 'k5'],
    );
    assert.equal(await store.evictLeastRecentlyUsed({ count: 0 }), 0);
    for (const count of [-1, 1.5, Number.NaN]) {
      await assert.rejects(store.evictLeastRecentlyUsed({ count }), {
        name: 'RangeError',
        message: new RegExp(`count must be an integer >= 0, got ${String(count)}`),
      });
    }
  });

  test('memoryMetrics and memoryPressureStream report the cache', async () => {
    const { backend, store } = setup({
      config: { memory: { maxCacheBytes: 1000, sizeEstimator: () => 250, moderateThreshold: 0.5, criticalThreshold: 0.99 } },
    });
    await seed(backend, 2);
    const levels: MemoryPressureLevel[] = [];
    store.memoryPressureStream.subscribe((level) => levels.push(level));
    await store.pin('k0');
    await store.pin('k1');
    const metrics = store.memoryMetrics;
    assert.equal(metrics.currentUsage, 500);
    assert.equal(metrics.entryCount, 2);
    assert.equal(metrics.pinnedCount, 2);
    assert.equal(levels[0], 'normal');
    assert.equal(levels.at(-1), 'moderate');
  });

  test('an item read and then evicted becomes collectable: the store keeps no reference to it', needsGc, async () => {
    const { backend, store } = setup({ config: { memory: { maxCacheBytes: 10_000, sizeEstimator: () => 100 } } });
    await seed(backend, 50);
    for (let i = 0; i < 50; i++) await store.get(`k${i}`);
    await store.getMany(['k1', 'k2', 'missing']);
    await store.clearUnpinnedCache();
    // A value read and evicted must be collectable: nothing in the store may hold it.
    let ref: WeakRef<object> | undefined;
    await (async () => {
      const item = await store.get('k7');
      ref = new WeakRef(item as object);
    })();
    await store.clearUnpinnedCache();
    for (let i = 0; i < 5 && ref?.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      collectGarbage();
    }
    assert.equal(ref?.deref(), undefined, 'the evicted item was collected');
  });

  test('dispose unsubscribes from the backend, releases the cache and makes later calls reject', async () => {
    const { backend, store } = setup();
    await seed(backend, 2);
    await store.get('k0');
    assert.equal(backend.changesSubject.observerCount, 1);
    assert.equal(backend.resyncsSubject.observerCount, 1);
    backend.hold = true;
    const inFlight = store.get('k1');
    await settle();
    await store.dispose();
    assert.equal(backend.changesSubject.observerCount, 0);
    assert.equal(backend.resyncsSubject.observerCount, 0);
    assert.equal(store.memoryMetrics.entryCount, 0);
    await backend.take('get').release();
    assert.deepEqual(await inFlight, { id: 'k1', v: 1 }, 'a call in flight still settles');
    assert.equal(store.memoryMetrics.entryCount, 0, 'but no longer fills the cache');
    for (const call of [() => store.get('k0'), () => store.getMany(['k0']), () => store.save({ id: 'x', v: 1 }), () => store.delete('k0'), () => store.pin('k0'), () => store.unpin('k0'), () => store.evictLeastRecentlyUsed(), () => store.clearUnpinnedCache()]) {
      await assert.rejects(call(), { message: /called on a disposed NexusStore/ });
    }
    await store.dispose();
  });

  test('the constructor rejects a malformed backend, idOf or config with a TypeError naming it', () => {
    const backend = new MemoryBackend<Item, string>({ idOf });
    assert.throws(() => new NexusStore({ backend: undefined as never, idOf }), { name: 'TypeError', message: /backend must be an object/ });
    assert.throws(() => new NexusStore({ backend: { get: async () => undefined } as never, idOf }), {
      name: 'TypeError',
      message: /backend.save must be a function, got undefined/,
    });
    assert.throws(() => new NexusStore({ backend: { ...methods(backend), getMany: 5 } as never, idOf }), {
      name: 'TypeError',
      message: /backend.getMany must be a function when present, got number/,
    });
    assert.throws(() => new NexusStore({ backend: { ...methods(backend), changes: {} } as never, idOf }), {
      name: 'TypeError',
      message: /backend.changes must be an Observable/,
    });
    assert.throws(() => new NexusStore({ backend, idOf: 'id' as never }), { name: 'TypeError', message: /idOf must be a function, got string/ });
    assert.throws(() => new NexusStore({ backend, idOf, config: 3 as never }), { name: 'TypeError', message: /config must be an object/ });
    assert.throws(() => new NexusStore({ backend, idOf, config: { memory: { maxCacheBytes: -1 } } }), { name: 'RangeError', message: /maxCacheBytes/ });
  });

  test('calls with a missing id reject with a TypeError', async () => {
    const { store } = setup();
    await assert.rejects(store.get(undefined as never), { name: 'TypeError', message: /get: id must not be undefined/ });
    await assert.rejects(store.getMany(['a', null as never]), { name: 'TypeError', message: /getMany: id must not be null/ });
    await assert.rejects(store.getMany('abc' as never), { name: 'TypeError', message: /ids must be an array, got string/ });
    await assert.rejects(store.pin(undefined as never), { name: 'TypeError' });
    await assert.rejects(store.delete(undefined as never), { name: 'TypeError' });
  });
});

function methods(backend: MemoryBackend<Item, string>) {
  return {
    get: (id: string) => backend.get(id),
    save: (item: Item) => backend.save(item),
    delete: (id: string) => backend.delete(id),
  };
}
