import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Subject } from '../../src/observable.js';
import { MemoryBackend } from '../../src/store/memory-backend.js';
import { NexusStore } from '../../src/store/nexus-store.js';
import type { StoreConfig } from '../../src/store/nexus-store.js';
import { NexusStoreError } from '../../src/store/store-error.js';
import { GatedBackend, settle } from './gated-backend.js';
import type { Item } from './gated-backend.js';

const idOf = (item: Item) => item.id;

function setup(options: { getMany?: boolean; config?: StoreConfig<Item> } = {}) {
  const backend = new GatedBackend(options.getMany === undefined ? {} : { getMany: options.getMany });
  const store = new NexusStore<Item, string>({ backend, idOf, ...(options.config ? { config: options.config } : {}) });
  return { backend, store };
}

async function seed(backend: GatedBackend, ...items: Item[]): Promise<void> {
  for (const item of items) await backend.storage.save(item);
}

describe('NexusStore reads', () => {
  test('get reads through once, then serves the item from the cache', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'a', v: 1 });
    assert.deepEqual(await store.get('a'), { id: 'a', v: 1 });
    assert.deepEqual(await store.get('a'), { id: 'a', v: 1 });
    assert.equal(backend.count('get'), 1);
    const metrics = store.memoryMetrics;
    assert.equal(metrics.hits, 1);
    assert.equal(metrics.misses, 1);
    assert.equal(metrics.entryCount, 1);
  });

  test('a missing item resolves undefined and is asked for again next time (absence is not cached)', async () => {
    const { backend, store } = setup();
    assert.equal(await store.get('nope'), undefined);
    await seed(backend, { id: 'nope', v: 1 });
    assert.deepEqual(await store.get('nope'), { id: 'nope', v: 1 });
    assert.equal(backend.count('get'), 2);
  });

  test('concurrent misses for one id share one backend call', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'hot', v: 7 });
    backend.hold = true;
    const reads = Array.from({ length: 25 }, () => store.get('hot'));
    await settle();
    assert.equal(backend.pending.length, 1);
    await backend.take('get', 'hot').release();
    const results = await Promise.all(reads);
    assert.ok(results.every((item) => item === results[0]), 'every caller gets the same object');
    assert.deepEqual(results[0], { id: 'hot', v: 7 });
    assert.equal(backend.count('get'), 1);
  });

  test('getMany serves hits from the cache and fetches every miss in one backend getMany call', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'a', v: 1 }, { id: 'b', v: 2 }, { id: 'c', v: 3 });
    await store.get('b');
    const found = await store.getMany(['c', 'missing', 'b', 'a', 'c']);
    assert.deepEqual([...found.keys()], ['c', 'b', 'a'], 'found items only, in the order asked');
    assert.deepEqual(found.get('a'), { id: 'a', v: 1 });
    assert.equal(backend.count('getMany'), 1);
    assert.deepEqual(backend.calls.at(-1)?.ids, ['c', 'missing', 'a']);
    await store.getMany(['a', 'b', 'c']);
    assert.equal(backend.count('getMany'), 1, 'the fetched items were cached');
    assert.equal((await store.getMany([])).size, 0);
  });

  test('getMany falls back to one get per miss when the backend has no getMany', async () => {
    const { backend, store } = setup({ getMany: false });
    await seed(backend, { id: 'a', v: 1 }, { id: 'b', v: 2 });
    const found = await store.getMany(['a', 'b', 'x']);
    assert.equal(found.size, 2);
    assert.equal(backend.count('get'), 3);
  });

  test('getMany joins reads already in flight, and gets join a getMany in flight', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'a', v: 1 }, { id: 'b', v: 2 }, { id: 'c', v: 3 });
    backend.hold = true;
    const single = store.get('a');
    await settle();
    const many = store.getMany(['a', 'b', 'c']);
    await settle();
    const joined = store.get('c');
    await settle();
    assert.deepEqual(
      backend.pending.map((call) => [call.op, call.ids]),
      [
        ['get', ['a']],
        ['getMany', ['b', 'c']],
      ],
    );
    await backend.take('getMany').release();
    await backend.take('get', 'a').release();
    assert.deepEqual([...(await many).keys()], ['a', 'b', 'c']);
    assert.deepEqual(await single, { id: 'a', v: 1 });
    assert.deepEqual(await joined, { id: 'c', v: 3 });
    assert.equal(backend.calls.length, 2);
  });

  test('an evicted item is fetched again from the backend on its next get', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'a', v: 1 }, { id: 'b', v: 2 });
    await store.get('a');
    await store.get('b');
    assert.equal(await store.evictLeastRecentlyUsed({ count: 1 }), 1);
    assert.equal(store.peek('a'), undefined, 'the least recently used item went');
    assert.deepEqual(await store.get('a'), { id: 'a', v: 1 });
    assert.equal(backend.count('get'), 3);
  });

  test('items beyond the byte budget are evicted and re-read on demand', async () => {
    const { backend, store } = setup({ config: { memory: { maxCacheBytes: 1000, sizeEstimator: () => 300 } } });
    for (let i = 0; i < 10; i++) await seed(backend, { id: `k${i}`, v: i });
    for (let i = 0; i < 10; i++) await store.get(`k${i}`);
    assert.ok(store.memoryMetrics.currentUsage <= 1000);
    assert.ok(store.memoryMetrics.evictionCount >= 7);
    const before = backend.count('get');
    assert.deepEqual(await store.get('k0'), { id: 'k0', v: 0 });
    assert.equal(backend.count('get'), before + 1);
  });
});

describe('NexusStore writes', () => {
  test('save writes to the backend first, then caches the item', async () => {
    const { backend, store } = setup();
    backend.hold = true;
    const saving = store.save({ id: 'a', v: 1 });
    await settle();
    assert.equal(store.peek('a'), undefined, 'nothing is cached before the backend has the item');
    await backend.take('save').release();
    await saving;
    assert.deepEqual(store.peek('a'), { id: 'a', v: 1 });
    backend.hold = false;
    assert.deepEqual(await store.get('a'), { id: 'a', v: 1 });
    assert.equal(backend.count('get'), 0);
  });

  test('a failed save rejects naming save and the id, with the cause, and drops the id so the next get asks the backend', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'a', v: 1 });
    await store.get('a');
    const cause = new Error('disk full');
    backend.failNext.save = cause;
    const error = await store.save({ id: 'a', v: 2 }).then(
      () => assert.fail('save should reject'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof NexusStoreError);
    assert.equal(error.operation, 'save');
    assert.equal(error.id, 'a');
    assert.equal(error.cause, cause);
    assert.match(error.message, /save\("a"\) failed: disk full/);
    assert.equal(store.peek('a'), undefined, 'its outcome is unknown: no copy may outlive it');
    const reads = backend.count('get');
    assert.deepEqual(await store.get('a'), { id: 'a', v: 1 });
    assert.equal(backend.count('get'), reads + 1);
    await store.save({ id: 'a', v: 3 });
    assert.deepEqual(await store.get('a'), { id: 'a', v: 3 });
  });

  test('delete removes the item from the backend and the cache', async () => {
    const { backend, store } = setup();
    await store.save({ id: 'a', v: 1 });
    await store.delete('a');
    assert.equal(store.peek('a'), undefined);
    assert.equal(await backend.storage.get('a'), undefined);
    assert.equal(await store.get('a'), undefined);
  });

  test('a failed delete rejects naming delete and the id, and drops the id so the next get asks the backend', async () => {
    const { backend, store } = setup();
    await store.save({ id: 'a', v: 1 });
    backend.failNext.delete = new Error('timeout');
    await assert.rejects(store.delete('a'), { name: 'NexusStoreError', message: /delete\("a"\) failed: timeout/ });
    assert.equal(store.peek('a'), undefined);
    assert.deepEqual(await store.get('a'), { id: 'a', v: 1 });
    assert.equal(backend.count('get'), 1);
  });

  test('save caches the backend\u2019s copy: mutating the saved object afterwards changes neither what get returns nor its size', async () => {
    const { store } = setup();
    const item: Item = { id: 'a', v: 1 };
    await store.save(item);
    const bytes = store.memoryMetrics.currentUsage;
    item.v = 2;
    item['blob'] = 'x'.repeat(10_000);
    assert.deepEqual(await store.get('a'), { id: 'a', v: 1 });
    assert.notEqual(store.peek('a'), item);
    assert.equal(store.memoryMetrics.currentUsage, bytes);
  });

  test('a backend whose save resolves to nothing makes the store drop the id instead of caching the caller\u2019s object', async () => {
    const storage = new MemoryBackend<Item, string>({ idOf });
    let reads = 0;
    const backend = {
      get: (id: string) => (reads++, storage.get(id)),
      save: async (item: Item) => {
        await storage.save({ ...item, v: item.v * 10 }); // a backend that transforms what it stores
      },
      delete: (id: string) => storage.delete(id),
    };
    const store = new NexusStore<Item, string>({ backend, idOf });
    await store.save({ id: 'a', v: 1 });
    assert.equal(store.peek('a'), undefined);
    assert.deepEqual(await store.get('a'), { id: 'a', v: 10 });
    assert.equal(reads, 1);
  });

  test('ids are one type per store: after a string id, a numeric one is refused naming the id and the type', async () => {
    const backend = new MemoryBackend<{ id: string | number; v: number }, string | number>({ idOf: (item) => item.id });
    const store = new NexusStore<{ id: string | number; v: number }, string | number>({ backend, idOf: (item) => item.id });
    await store.save({ id: '1', v: 1 });
    await assert.rejects(store.get(1), { name: 'TypeError', message: /get: id 1 is a number, but this store's ids are strings/ });
    await assert.rejects(store.save({ id: 1, v: 2 }), { name: 'TypeError', message: /save: idOf\(item\): id 1 is a number/ });
    await assert.rejects(store.getMany(['1', 1]), { name: 'TypeError', message: /getMany: id 1 is a number/ });
    await assert.rejects(store.delete(1), { name: 'TypeError', message: /delete: id 1 is a number/ });
    await assert.rejects(store.pin(1), { name: 'TypeError', message: /pin: id 1 is a number/ });
    assert.equal(backend.size, 1);
    assert.deepEqual(await store.get('1'), { id: '1', v: 1 });
  });

  test('a change reported as "1" drops the cached item of numeric id 1 (and 1 drops "1" in a string store)', async () => {
    type Row = { id: number; v: number };
    const changes = new Subject<number>();
    const storage = new MemoryBackend<Row, number>({ idOf: (item) => item.id });
    const numeric = new NexusStore<Row, number>({
      backend: { get: (id) => storage.get(id), save: (item) => storage.save(item), delete: (id) => storage.delete(id), changes },
      idOf: (item) => item.id,
    });
    await numeric.save({ id: 1, v: 1 });
    (changes as unknown as Subject<string>).next('01'); // not the same text: another id
    assert.deepEqual(numeric.peek(1), { id: 1, v: 1 });
    (changes as unknown as Subject<string>).next('1');
    assert.equal(numeric.peek(1), undefined);

    const textChanges = new Subject<string>();
    const texts = new MemoryBackend<Item, string>({ idOf });
    const textual = new NexusStore<Item, string>({
      backend: { get: (id) => texts.get(id), save: (item) => texts.save(item), delete: (id) => texts.delete(id), changes: textChanges },
      idOf,
    });
    await textual.save({ id: '1', v: 1 });
    (textChanges as unknown as Subject<number>).next(1);
    assert.equal(textual.peek('1'), undefined);
  });

  test('save rejects with a TypeError when idOf throws or returns no id', async () => {
    const backend = new MemoryBackend<Item, string>({ idOf });
    const throwing = new NexusStore<Item, string>({
      backend,
      idOf: () => {
        throw new Error('no id here');
      },
    });
    await assert.rejects(throwing.save({ id: 'a', v: 1 }), { name: 'TypeError', message: /idOf threw for the item: no id here/ });
    const empty = new NexusStore<Item, string>({ backend, idOf: () => undefined as unknown as string });
    await assert.rejects(empty.save({ id: 'a', v: 1 }), { name: 'TypeError', message: /idOf\(item\): id must not be undefined/ });
    assert.equal(backend.size, 0);
  });
});

describe('NexusStore backend errors', () => {
  test('a failed read rejects every waiting caller naming get and the id, and the next get tries again', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'a', v: 1 });
    backend.hold = true;
    const first = store.get('a');
    const second = store.get('a');
    await settle();
    const cause = new Error('connection reset');
    backend.take('get', 'a').fail(cause);
    for (const read of [first, second]) {
      await assert.rejects(read, (error: unknown) => {
        assert.ok(error instanceof NexusStoreError);
        assert.equal(error.operation, 'get');
        assert.equal(error.id, 'a');
        assert.equal(error.cause, cause);
        assert.equal(error.message, 'nexus-store: get("a") failed: connection reset');
        return true;
      });
    }
    assert.equal(store.peek('a'), undefined, 'nothing was cached');
    backend.hold = false;
    assert.deepEqual(await store.get('a'), { id: 'a', v: 1 }, 'the failure was not cached');
  });

  test('a failed getMany rejects naming getMany and the ids, and poisons nothing', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'a', v: 1 }, { id: 'b', v: 2 });
    backend.failNext.getMany = new Error('boom');
    await assert.rejects(store.getMany(['a', 'b']), (error: unknown) => {
      assert.ok(error instanceof NexusStoreError);
      assert.equal(error.operation, 'getMany');
      assert.deepEqual(error.ids, ['a', 'b']);
      assert.match(error.message, /getMany\(\["a", "b"\]\) failed: boom/);
      return true;
    });
    assert.equal((await store.getMany(['a', 'b'])).size, 2);
    assert.deepEqual(await store.get('a'), { id: 'a', v: 1 });
  });

  test('a backend getMany that resolves to something other than a Map is an error, not a crash', async () => {
    const backend = new MemoryBackend<Item, string>({ idOf });
    const broken = Object.assign(Object.create(backend) as MemoryBackend<Item, string>, {
      getMany: async () => ({}) as Map<string, Item>,
      get: (id: string) => backend.get(id),
      save: (item: Item) => backend.save(item),
      delete: (id: string) => backend.delete(id),
    });
    const store = new NexusStore<Item, string>({ backend: broken, idOf });
    await assert.rejects(store.getMany(['a']), { name: 'NexusStoreError', message: /must resolve to a Map/ });
  });

  test('a backend that throws synchronously rejects the call instead of throwing', async () => {
    const store = new NexusStore<Item, string>({
      backend: {
        get: () => {
          throw new Error('sync failure');
        },
        save: async () => undefined,
        delete: async () => undefined,
      },
      idOf,
    });
    const read = store.get('x');
    assert.ok(read instanceof Promise);
    await assert.rejects(read, { name: 'NexusStoreError', message: /get\("x"\) failed: sync failure/ });
    await assert.rejects(store.get('x'), { message: /sync failure/ }, 'and it is asked again');
  });
});

describe('NexusStore coherence under interleavings', () => {
  test('a read that saw the old row before a save committed never overwrites the saved item', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'a', v: 1 });
    backend.hold = true;
    const save = store.save({ id: 'a', v: 2 });
    await settle();
    const read = store.get('a'); // starts after the save began
    await settle();
    const readCall = backend.take('get', 'a');
    await readCall.execute(); // reads v1: the save has not committed yet
    await backend.take('save').release();
    await save;
    await readCall.respond(); // the stale answer arrives last
    assert.deepEqual(await read, { id: 'a', v: 1 }, 'the read itself may answer what it saw');
    assert.deepEqual(store.peek('a'), { id: 'a', v: 2 }, 'but the cache keeps the saved item');
  });

  test('a read in flight when a save starts does not fill the cache', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'a', v: 1 });
    backend.hold = true;
    const read = store.get('a');
    await settle();
    const readCall = backend.take('get', 'a');
    await readCall.execute();
    const save = store.save({ id: 'a', v: 2 });
    await settle();
    backend.take('save').fail(new Error('rejected')); // even a failed save: its outcome is unknown to readers
    await assert.rejects(save);
    await readCall.respond();
    assert.deepEqual(await read, { id: 'a', v: 1 });
    assert.equal(store.peek('a'), undefined);
  });

  test('a read racing with a delete never brings the item back', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'a', v: 1 });
    backend.hold = true;
    const read = store.get('a');
    await settle();
    const readCall = backend.take('get', 'a');
    await readCall.execute();
    const removal = store.delete('a');
    await settle();
    await backend.take('delete').release();
    await removal;
    await readCall.respond();
    assert.deepEqual(await read, { id: 'a', v: 1 });
    assert.equal(store.peek('a'), undefined);
    backend.hold = false;
    assert.equal(await store.get('a'), undefined);
  });

  test('a get after a change was reported does not join a read that started before it', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'a', v: 1 });
    backend.hold = true;
    const early = store.get('a');
    await settle();
    const earlyCall = backend.take('get', 'a');
    await earlyCall.execute();
    // Another writer replaces the row and the store hears of it; then a new read starts.
    await backend.storage.save({ id: 'a', v: 2 });
    backend.changesSubject.next('a');
    const late = store.get('a');
    await settle();
    assert.equal(backend.pending.length, 1, 'the late read started its own fetch');
    await backend.take('get', 'a').release();
    assert.deepEqual(await late, { id: 'a', v: 2 });
    await earlyCall.respond();
    await early;
    assert.deepEqual(store.peek('a'), { id: 'a', v: 2 });
  });

  test('overlapping saves of one id drop it from the cache, so the next read returns what the backend kept', async () => {
    const { backend, store } = setup();
    backend.hold = true;
    const first = store.save({ id: 'a', v: 1 });
    const second = store.save({ id: 'a', v: 2 });
    await settle();
    const firstCall = backend.take('save');
    const secondCall = backend.take('save');
    // The backend applies them in the opposite order: v1 wins.
    await secondCall.execute();
    await firstCall.execute();
    await secondCall.respond();
    await firstCall.respond();
    await Promise.all([first, second]);
    assert.equal(store.peek('a'), undefined);
    backend.hold = false;
    assert.deepEqual(await store.get('a'), { id: 'a', v: 1 });
  });

  test('a change reported during a save makes the save drop its copy instead of caching it', async () => {
    const { backend, store } = setup();
    backend.hold = true;
    const save = store.save({ id: 'a', v: 1 });
    await settle();
    const call = backend.take('save');
    await call.execute();
    await backend.storage.save({ id: 'a', v: 9 }); // another process wrote after us
    backend.changesSubject.next('a');
    await call.respond();
    await save;
    assert.equal(store.peek('a'), undefined);
    backend.hold = false;
    assert.deepEqual(await store.get('a'), { id: 'a', v: 9 });
  });

  test('a change drops the cached copy; the next get reads the new value', async () => {
    const { backend, store } = setup();
    await seed(backend, { id: 'a', v: 1 });
    await store.get('a');
    await backend.storage.save({ id: 'a', v: 2 });
    backend.changesSubject.next('a');
    assert.equal(store.peek('a'), undefined);
    assert.deepEqual(await store.get('a'), { id: 'a', v: 2 });
  });

  test('stores on peer MemoryBackends stay coherent: a save in one is seen by the other', async () => {
    const backendA = new MemoryBackend<Item, string>({ idOf });
    const backendB = backendA.peer();
    const a = new NexusStore<Item, string>({ backend: backendA, idOf });
    const b = new NexusStore<Item, string>({ backend: backendB, idOf });
    await a.save({ id: 'x', v: 1 });
    assert.deepEqual(await b.get('x'), { id: 'x', v: 1 });
    await a.save({ id: 'x', v: 2 });
    assert.deepEqual(a.peek('x'), { id: 'x', v: 2 }, 'the writer keeps its fresh copy');
    assert.deepEqual(await b.get('x'), { id: 'x', v: 2 });
    await b.delete('x');
    assert.equal(await a.get('x'), undefined);
  });
});
