// NexusStore over a cache it is given (an instance or a factory), and
// invalidation through the cache's own methods (delete, invalidateAll), never
// through an eviction.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryManager } from '../../src/cache/memory-manager.js';
import type { MemoryConfig } from '../../src/cache/memory-config.js';
import type { EvictionEvent, MemoryMetrics } from '../../src/cache/eviction-event.js';
import { CacheCleaner } from '../../src/cleanup/cache-cleaner.js';
import { ResourceCleanupCoordinator } from '../../src/cleanup/resource-cleanup-coordinator.js';
import { ValueSubject, type Observable } from '../../src/observable.js';
import type { MemoryPressureLevel } from '../../src/pressure-levels.js';
import { NexusStore } from '../../src/store/nexus-store.js';
import type { StoreCache } from '../../src/store/store-cache.js';
import { GatedBackend, settle } from './gated-backend.js';
import type { Item } from './gated-backend.js';

const idOf = (item: Item) => item.id;

async function seed(backend: GatedBackend, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await backend.storage.save({ id: `k${i}`, v: i });
}

/**
 * A second, deliberately plain StoreCache: a Map in insertion order with pins,
 * no budget. It keeps every promise of the interface, so the store must work
 * over it exactly as over a MemoryManager.
 */
class MapCache implements StoreCache<string, Item> {
  readonly entries = new Map<string, Item>();
  readonly pins = new Set<string>();
  readonly calls: string[] = [];
  hits = 0;
  misses = 0;
  evictions = 0;
  readonly #pressure = new ValueSubject<MemoryPressureLevel>('normal');
  readonly pressure: Observable<MemoryPressureLevel> = this.#pressure.asObservable();

  get(id: string): Item | undefined {
    const item = this.entries.get(id);
    if (item === undefined) this.misses++;
    else {
      this.hits++;
      this.entries.delete(id);
      this.entries.set(id, item);
    }
    return item;
  }
  peek(id: string): Item | undefined {
    return this.entries.get(id);
  }
  has(id: string): boolean {
    return this.entries.has(id);
  }
  set(id: string, item: Item): boolean {
    this.entries.delete(id);
    this.entries.set(id, item);
    return true;
  }
  delete(id: string): boolean {
    this.calls.push(`delete ${id}`);
    return this.entries.delete(id);
  }
  invalidateAll(): number {
    this.calls.push('invalidateAll');
    const dropped = this.entries.size;
    this.entries.clear();
    return dropped;
  }
  pin(id: string): void {
    this.pins.add(id);
  }
  unpin(id: string): void {
    this.pins.delete(id);
  }
  isPinned(id: string): boolean {
    return this.pins.has(id);
  }
  get pinnedKeys(): string[] {
    return [...this.pins];
  }
  handlePressure(level: MemoryPressureLevel): string[] {
    this.calls.push(`handlePressure ${level}`);
    const unpinned = [...this.entries.keys()].filter((id) => !this.pins.has(id));
    const count = { normal: 0, moderate: 1, critical: Math.ceil(unpinned.length / 2), emergency: unpinned.length }[level];
    const out = unpinned.slice(0, count);
    for (const id of out) this.entries.delete(id);
    this.evictions += out.length;
    return out;
  }
  evictLeastRecentlyUsed(count: number): string[] {
    this.calls.push(`evictLeastRecentlyUsed ${count}`);
    const out: string[] = [];
    for (const id of this.entries.keys()) {
      if (out.length === count) break;
      if (!this.pins.has(id)) out.push(id);
    }
    for (const id of out) this.entries.delete(id);
    this.evictions += out.length;
    return out;
  }
  clearUnpinned(): number {
    this.calls.push('clearUnpinned');
    return this.evictLeastRecentlyUsed(Number.MAX_SAFE_INTEGER).length;
  }
  get metrics(): MemoryMetrics {
    return {
      currentUsage: 0,
      maxUsage: 0,
      evictionCount: this.evictions,
      pressureLevel: 'normal',
      entryCount: this.entries.size,
      pinnedCount: this.pins.size,
      pinnedBytes: 0,
      hits: this.hits,
      misses: this.misses,
    } as MemoryMetrics;
  }
  clear(): void {
    this.calls.push('clear');
    this.entries.clear();
    this.pins.clear();
  }
  dispose(): void {
    this.calls.push('dispose');
  }
}

describe('NexusStore over a cache it is given', () => {
  test('a MemoryManager given as cache is the one the store fills, evicts from and reports on', async () => {
    const backend = new GatedBackend();
    await seed(backend, 6);
    const cache = new MemoryManager<string, Item>({ maxCacheBytes: 100_000, evictionBatchSize: 2 });
    const evicted: EvictionEvent[] = [];
    cache.evictions.subscribe((event) => evicted.push(event));
    const store = new NexusStore<Item, string>({ backend, idOf, cache });
    for (let i = 0; i < 6; i++) await store.get(`k${i}`);
    assert.equal(cache.size, 6);
    assert.deepEqual(cache.peek('k3'), { id: 'k3', v: 3 });
    await store.pin('k0');
    assert.deepEqual(cache.pinnedKeys, ['k0']);
    assert.equal(store.memoryMetrics.entryCount, 6);

    // The caller can hand the same cache to a cleaner: the store refetches what it shed.
    const coordinator = new ResourceCleanupCoordinator();
    coordinator.register(new CacheCleaner({ name: 'store cache', priority: 'low', cache }));
    await coordinator.cleanupAll();
    assert.deepEqual(cache.pinnedKeys, ['k0']);
    assert.equal(cache.size, 1, 'emergency (cleanupAll) sheds every unpinned item');
    assert.equal(evicted.length, 5);
    const gets = backend.count('get');
    assert.deepEqual(await store.get('k4'), { id: 'k4', v: 4 });
    assert.equal(backend.count('get'), gets + 1);

    // Without config.memory, the default count is 10, not the given cache's batch size.
    for (let i = 0; i < 6; i++) await store.get(`k${i}`);
    assert.equal(await store.evictLeastRecentlyUsed(), 5);
    await store.dispose();
    assert.equal(cache.size, 0, 'the store owns the cache: dispose clears it');
  });

  test('a factory receives config.memory and is called once', async () => {
    const backend = new GatedBackend();
    await seed(backend, 3);
    const seen: Array<MemoryConfig<Item> | undefined> = [];
    const memory: MemoryConfig<Item> = { maxCacheBytes: 50_000, strategy: 'lfu', evictionBatchSize: 2 };
    const store = new NexusStore<Item, string>({
      backend,
      idOf,
      config: { memory },
      cache: (config) => {
        seen.push(config);
        return new MemoryManager<string, Item>(config);
      },
    });
    assert.deepEqual(seen, [memory]);
    for (let i = 0; i < 3; i++) await store.get(`k${i}`);
    assert.equal(await store.evictLeastRecentlyUsed(), 2, 'the default count is config.memory.evictionBatchSize');
    await store.dispose();
  });

  test('outsidePressure is the level its cache\'s own handler reports, so a CacheCleaner over the store does not cut it twice; the store is a TrimmableCache', async () => {
    const backend = new GatedBackend();
    await seed(backend, 8);
    const outside = new ValueSubject<MemoryPressureLevel>('normal');
    const handler = { pressure: outside, currentPressure: () => outside.value };
    const store = new NexusStore<Item, string>({ backend, idOf, config: { memory: { pressureHandler: handler, sizeEstimator: () => 10, evictionBatchSize: 2 } } });
    for (let i = 0; i < 8; i++) await store.get(`k${i}`);
    assert.equal(store.memoryMetrics.entryCount, 8);
    assert.equal(store.outsidePressure, 'normal');
    outside.next('critical');
    assert.equal(store.outsidePressure, 'critical');
    const left = store.memoryMetrics.entryCount;
    assert.equal(left, 4, 'the cache halved itself');
    const cleaner = new CacheCleaner({ name: 'store', priority: 'medium', cache: store });
    assert.equal((await cleaner.cleanup(undefined, { level: 'critical' })).bytesFreed, 0);
    assert.equal(store.memoryMetrics.entryCount, left);
    assert.equal(store.estimateCacheSize(), store.memoryMetrics.currentUsage);
    const emergency = await cleaner.cleanup(undefined, { level: 'emergency' });
    assert.deepEqual([emergency.bytesFreed, store.memoryMetrics.entryCount], [left * 10, 0], 'a higher level sheds through the store');
    assert.equal(new NexusStore<Item, string>({ backend, idOf, cache: () => new MapCache() }).outsidePressure, 'normal', 'a cache that cannot say');
    await store.dispose();
  });

  test('another StoreCache works the same: reads, writes, pins, eviction, dispose', async () => {
    const backend = new GatedBackend();
    await seed(backend, 4);
    const cache = new MapCache();
    const store = new NexusStore<Item, string>({ backend, idOf, cache: () => cache });
    assert.deepEqual(await store.get('k1'), { id: 'k1', v: 1 });
    assert.deepEqual(await store.get('k1'), { id: 'k1', v: 1 });
    assert.equal(backend.count('get'), 1);
    assert.equal(store.memoryMetrics.hits, 1);
    await store.save({ id: 'k1', v: 10 });
    assert.deepEqual(cache.peek('k1'), { id: 'k1', v: 10 });
    await store.pin('k2');
    assert.deepEqual(store.pinnedIds, ['k2']);
    await store.get('k3');
    await store.get('k0');
    assert.equal(await store.handlePressure('moderate'), 1, 'the store sheds through its cache');
    assert.equal(cache.calls.at(-1), 'handlePressure moderate');
    assert.equal(cache.has('k2'), true, 'never the pinned one');
    assert.equal(await store.clearUnpinnedCache(), 2);
    assert.deepEqual([...cache.entries.keys()], ['k2']);
    await store.delete('k2');
    assert.equal(cache.has('k2'), false);
    assert.deepEqual(store.pinnedIds, ['k2'], 'delete keeps the pin');
    await store.dispose();
    assert.deepEqual(cache.calls.slice(-2), ['dispose', 'clear']);
  });

  test('a change drops the id with delete and a resync with invalidateAll: never an eviction', async () => {
    const backend = new GatedBackend();
    await seed(backend, 3);
    const cache = new MapCache();
    const store = new NexusStore<Item, string>({ backend, idOf, cache: () => cache });
    for (let i = 0; i < 3; i++) await store.get(`k${i}`);
    await store.pin('k0');
    cache.calls.length = 0;

    backend.changesSubject.next('k1');
    assert.deepEqual(cache.calls, ['delete k1']);
    assert.equal(cache.has('k1'), false);

    await backend.storage.save({ id: 'k0', v: 100 });
    backend.resyncsSubject.next();
    assert.deepEqual(cache.calls, ['delete k1', 'invalidateAll']);
    assert.equal(cache.entries.size, 0);
    await settle();
    assert.deepEqual(cache.peek('k0'), { id: 'k0', v: 100 }, 'the pinned id is re-read after the resync');
    assert.ok(!cache.calls.some((call) => call.startsWith('evict') || call === 'clearUnpinned'), cache.calls.join(', '));
    await store.dispose();
  });

  test('bad caches are refused with a TypeError naming what is wrong', () => {
    const backend = new GatedBackend();
    assert.throws(() => new NexusStore<Item, string>({ backend, idOf, cache: 'lru' as never }), {
      name: 'TypeError',
      message: 'cache must be a cache (a MemoryManager or another StoreCache), got string',
    });
    assert.throws(() => new NexusStore<Item, string>({ backend, idOf, cache: new Map() as never }), {
      name: 'TypeError',
      message: /^cache is not a StoreCache: it lacks peek, invalidateAll, pin, unpin, isPinned, evictLeastRecentlyUsed, clearUnpinned, dispose$/,
    });
    assert.throws(() => new NexusStore<Item, string>({ backend, idOf, cache: () => undefined as never }), {
      name: 'TypeError',
      message: /^the cache factory's result must be a cache/,
    });
    assert.throws(
      () => new NexusStore<Item, string>({ backend, idOf, cache: new MemoryManager<string, Item>(), config: { memory: { maxCacheBytes: 1000 } } }),
      { name: 'TypeError', message: /^config\.memory configures the cache the store builds/ },
    );
  });
});
