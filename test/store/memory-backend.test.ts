import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { MemoryBackend } from '../../src/store/memory-backend.js';
import { describeBackendConformance, idOfConformanceItem } from '../../src/testing/index.js';
import type { ConformanceItem } from '../../src/testing/index.js';

describeBackendConformance('MemoryBackend', {
  async create() {
    const backend = new MemoryBackend<ConformanceItem, string>({ idOf: idOfConformanceItem });
    const peer = backend.peer();
    return { backend, peer, dispose: async () => peer.close() };
  },
});

describeBackendConformance('MemoryBackend with latency', {
  async create() {
    const backend = new MemoryBackend<ConformanceItem, string>({ idOf: idOfConformanceItem, latencyMs: 1 });
    const peer = backend.peer();
    return { backend, peer, dispose: async () => peer.close() };
  },
});

describe('MemoryBackend', () => {
  test('simulated latency elapses on the injected clock before a call settles', async () => {
    const clock = new ManualClock();
    const backend = new MemoryBackend<ConformanceItem, string>({ idOf: idOfConformanceItem, latencyMs: 50, clock });
    let saved = false;
    const save = backend.save({ id: 'a' }).then(() => (saved = true));
    await clock.advanceAsync(49);
    assert.equal(saved, false);
    assert.equal(backend.size, 0, 'the write takes effect only when the latency has passed');
    await clock.advanceAsync(1);
    await save;
    assert.equal(saved, true);
    assert.equal(backend.size, 1);

    let read: ConformanceItem | undefined;
    const get = backend.get('a').then((item) => (read = item));
    await clock.advanceAsync(49);
    assert.equal(read, undefined);
    await clock.advanceAsync(1);
    await get;
    assert.deepEqual(read, { id: 'a' });
  });

  test('clone: false hands back the very objects saved', async () => {
    const backend = new MemoryBackend<ConformanceItem, string>({ idOf: idOfConformanceItem, clone: false });
    const item = { id: 'a' };
    await backend.save(item);
    assert.equal(await backend.get('a'), item);
  });

  test('peers share items and each sees only the others\u2019 writes on changes', async () => {
    const a = new MemoryBackend<ConformanceItem, string>({ idOf: idOfConformanceItem });
    const b = a.peer();
    const c = a.peer();
    const seen: Record<string, string[]> = { a: [], b: [], c: [] };
    a.changes.subscribe((id) => seen['a']?.push(id));
    b.changes.subscribe((id) => seen['b']?.push(id));
    c.changes.subscribe((id) => seen['c']?.push(id));
    await b.save({ id: 'x' });
    assert.deepEqual(await a.get('x'), { id: 'x' });
    assert.deepEqual(seen, { a: ['x'], b: [], c: ['x'] });
    c.close();
    await a.delete('x');
    assert.deepEqual(seen, { a: ['x'], b: ['x'], c: ['x'] }, 'a closed peer no longer hears changes');
    await a.delete('x');
    assert.deepEqual(seen['b'], ['x'], 'deleting an absent id changes nothing and reports nothing');
  });

  test('rejects bad options with errors naming the field and value', () => {
    assert.throws(() => new MemoryBackend({} as never), { name: 'TypeError', message: /idOf must be a function, got undefined/ });
    assert.throws(() => new MemoryBackend(null as never), { name: 'TypeError', message: /options must be an object/ });
    for (const latencyMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new MemoryBackend({ idOf: idOfConformanceItem, latencyMs }), {
        name: 'RangeError',
        message: new RegExp(`latencyMs must be a non-negative finite number of milliseconds, got ${String(latencyMs)}`),
      });
    }
    assert.throws(() => new MemoryBackend({ idOf: idOfConformanceItem, clone: 'yes' as never }), {
      name: 'TypeError',
      message: /clone must be a boolean, got string/,
    });
  });

  test('an item that cannot be cloned makes save reject and stores nothing', async () => {
    const backend = new MemoryBackend<{ id: string; fn?: () => void }, string>({ idOf: (item) => item.id });
    await assert.rejects(backend.save({ id: 'f', fn: () => undefined }), { name: 'DataCloneError' });
    assert.equal(backend.size, 0);
  });
});
